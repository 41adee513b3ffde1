import { CircuitState, type IBreaker } from 'cockatiel';

/** Buckets of the sliding failure-ratio window: each covers a tenth of it. */
const WINDOW_BUCKETS = 10;

/** When a provider's circuit opens. */
export interface ProviderFailureBreakerOptions {
  /** Failures in a row that open the circuit (at least 1). */
  readonly consecutiveFailures: number;
  /** Failure ratio over the window above which the circuit opens (1 never opens on the ratio). */
  readonly failureRatio: number;
  /** Calls needed within the window before the ratio counts. */
  readonly minCalls: number;
  readonly windowMs: number;
}

interface BreakerState {
  consecutive: number;
}

/**
 * A cockatiel breaker that opens on either rule: `consecutiveFailures` failures in a row, or a failure ratio above
 * `failureRatio` over the last `windowMs` once at least `minCalls` calls were made in it. The window is a ring of
 * fixed buckets, so each call is O(1) and allocation-free. A successful probe resets both rules.
 */
export class ProviderFailureBreaker implements IBreaker {
  /** Failures in a row. */
  consecutive = 0;
  private readonly bucketMs: number;
  private readonly epochs = new Float64Array(WINDOW_BUCKETS).fill(-1);
  private readonly successes = new Uint32Array(WINDOW_BUCKETS);
  private readonly failures = new Uint32Array(WINDOW_BUCKETS);

  constructor(
    private readonly options: ProviderFailureBreakerOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.bucketMs = options.windowMs / WINDOW_BUCKETS;
  }

  get state(): unknown {
    return { consecutive: this.consecutive } satisfies BreakerState;
  }

  set state(value: unknown) {
    const consecutive = (value as Partial<BreakerState> | null)?.consecutive;
    this.consecutive = typeof consecutive === 'number' ? consecutive : 0;
  }

  success(state: CircuitState): void {
    this.consecutive = 0;
    if (state === CircuitState.HalfOpen) this.resetWindow();
    const index = this.bucket();
    this.successes[index] = (this.successes[index] ?? 0) + 1;
  }

  failure(state: CircuitState): boolean {
    this.consecutive++;
    const index = this.bucket();
    this.failures[index] = (this.failures[index] ?? 0) + 1;
    if (state !== CircuitState.Closed) return true;
    if (this.consecutive >= this.options.consecutiveFailures) return true;
    return this.ratioExceeded();
  }

  /** Calls and failures in the current window. */
  windowCounts(): { calls: number; failures: number } {
    const current = Math.floor(this.now() / this.bucketMs);
    let calls = 0;
    let failures = 0;
    for (let i = 0; i < WINDOW_BUCKETS; i++) {
      const epoch = this.epochs[i] ?? -1;
      if (epoch < 0 || current - epoch >= WINDOW_BUCKETS) continue;
      const f = this.failures[i] ?? 0;
      failures += f;
      calls += f + (this.successes[i] ?? 0);
    }
    return { calls, failures };
  }

  private ratioExceeded(): boolean {
    const { calls, failures } = this.windowCounts();
    return calls >= this.options.minCalls && failures > this.options.failureRatio * calls;
  }

  /** The bucket of now, cleared first when it last held an older period. */
  private bucket(): number {
    const epoch = Math.floor(this.now() / this.bucketMs);
    const index = epoch % WINDOW_BUCKETS;
    if (this.epochs[index] !== epoch) {
      this.epochs[index] = epoch;
      this.successes[index] = 0;
      this.failures[index] = 0;
    }
    return index;
  }

  private resetWindow(): void {
    this.epochs.fill(-1);
    this.successes.fill(0);
    this.failures.fill(0);
  }
}
