/** Upper bounds (ms) of the policy latency histogram buckets. */
export const POLICY_LATENCY_BUCKETS_MS = [
  0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
];

/** One policy's latency histogram. */
export interface PolicyLatency {
  readonly policy: string;
  readonly count: number;
  readonly sumMs: number;
  /** Cumulative counts per bucket of {@link POLICY_LATENCY_BUCKETS_MS}, then +Inf. */
  readonly buckets: readonly number[];
}

class Histogram {
  count = 0;
  sumMs = 0;
  readonly buckets = new Array<number>(POLICY_LATENCY_BUCKETS_MS.length + 1).fill(0);

  observe(ms: number): void {
    this.count++;
    this.sumMs += ms;
    let i = 0;
    while (i < POLICY_LATENCY_BUCKETS_MS.length && ms > (POLICY_LATENCY_BUCKETS_MS[i] as number)) i++;
    this.buckets[i] = (this.buckets[i] ?? 0) + 1;
  }
}

/**
 * Time spent in each policy, per hook invocation, as in-memory histograms (bounded by the number of policy names,
 * never per call). The metrics endpoint exports them.
 */
export class PolicyTimings {
  private readonly histograms = new Map<string, Histogram>();

  observe(policy: string, ms: number): void {
    let h = this.histograms.get(policy);
    if (h === undefined) {
      h = new Histogram();
      this.histograms.set(policy, h);
    }
    h.observe(ms);
  }

  snapshot(): PolicyLatency[] {
    return [...this.histograms].map(([policy, h]) => {
      let running = 0;
      const buckets = h.buckets.map((c) => (running += c));
      return { policy, count: h.count, sumMs: h.sumMs, buckets };
    });
  }
}
