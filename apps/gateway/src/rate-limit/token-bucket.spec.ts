import fc from 'fast-check';
import { takeToken, type BucketRule } from './token-bucket';

const rule = (capacity: number, interval: number): BucketRule => ({ capacity, interval });

/** Runs requests at the given times through one bucket; returns the admitted ones. */
function admitted(times: number[], r: BucketRule): number[] {
  let tat: number | undefined;
  const out: number[] = [];
  for (const t of times) {
    const step = takeToken(tat, t, r);
    tat = step.tat;
    if (step.outcome.allowed) out.push(t);
  }
  return out;
}

const sortedTimes = fc
  .array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 200 })
  .map((ts) => [...ts].sort((a, b) => a - b));
const rules = fc.record({
  capacity: fc.integer({ min: 1, max: 50 }),
  interval: fc.integer({ min: 1, max: 1_000_000 }),
});

describe('takeToken', () => {
  it('admits a full bucket of requests at once, then one per interval', () => {
    const r = rule(3, 1000);
    let tat: number | undefined;
    const results = [0, 0, 0, 0].map(() => {
      const step = takeToken(tat, 5000, r);
      tat = step.tat;
      return step.outcome;
    });
    expect(results.map((o) => o.allowed)).toEqual([true, true, true, false]);
    expect(results.map((o) => o.remaining)).toEqual([2, 1, 0, 0]);
    expect(results[3]).toEqual({ allowed: false, remaining: 0, resetAfter: 3000, retryAfter: 1000 });
    expect(takeToken(tat, 5999, r).outcome.allowed).toBe(false);
    expect(takeToken(tat, 6000, r).outcome).toEqual({
      allowed: true,
      remaining: 0,
      resetAfter: 3000,
      retryAfter: 0,
    });
  });

  it('treats an unknown bucket and one that refilled long ago alike', () => {
    const r = rule(5, 100);
    expect(takeToken(undefined, 1000, r)).toEqual(takeToken(10, 1000, r));
  });

  it('never admits more than capacity plus the elapsed time over the interval', () => {
    fc.assert(
      fc.property(sortedTimes, rules, (times, r) => {
        const ok = admitted(times, r);
        const first = times[0] as number;
        const last = times.at(-1) as number;
        expect(ok.length).toBeLessThanOrEqual(r.capacity + Math.floor((last - first) / r.interval));
      }),
    );
  });

  it('admits every request of a client that stays within the pace', () => {
    fc.assert(
      fc.property(rules, fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 1e9 }), (r, n, t0) => {
        const times = Array.from({ length: n }, (_, i) => t0 + i * r.interval);
        expect(admitted(times, r)).toHaveLength(n);
      }),
    );
  });

  it('tells a rejected client exactly when the next request is admitted', () => {
    fc.assert(
      fc.property(sortedTimes, rules, (times, r) => {
        let tat: number | undefined;
        for (const t of times) {
          const step = takeToken(tat, t, r);
          if (!step.outcome.allowed) {
            const wait = step.outcome.retryAfter;
            expect(wait).toBeGreaterThan(0);
            expect(takeToken(step.tat, t + wait, r).outcome.allowed).toBe(true);
            expect(takeToken(step.tat, t + wait - 1, r).outcome.allowed).toBe(false);
          }
          tat = step.tat;
        }
      }),
    );
  });

  it('reports remaining tokens and time to full consistently', () => {
    fc.assert(
      fc.property(sortedTimes, rules, (times, r) => {
        let tat: number | undefined;
        for (const t of times) {
          const step = takeToken(tat, t, r);
          const { remaining, resetAfter } = step.outcome;
          expect(remaining).toBeGreaterThanOrEqual(0);
          expect(remaining).toBeLessThan(r.capacity);
          expect(resetAfter).toBeGreaterThanOrEqual(0);
          expect(resetAfter).toBeLessThanOrEqual(r.capacity * r.interval);
          if (step.outcome.allowed)
            expect(remaining).toBe(Math.floor((r.capacity * r.interval - resetAfter) / r.interval));
          tat = step.tat;
        }
      }),
    );
  });
});
