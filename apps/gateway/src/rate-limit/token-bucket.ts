/**
 * A token bucket of `capacity` tokens refilled one token per `interval`, kept as GCRA state: a single number, the
 * time at which the bucket is full again ("theoretical arrival time", TAT). Units are the caller's (the memory
 * store uses milliseconds, the Redis script microseconds); the math is the same in both.
 */
export interface BucketRule {
  /** Time to refill one token (60 000 ms / requests per minute). */
  readonly interval: number;
  /** Most tokens the bucket holds: the burst a client may send at once. */
  readonly capacity: number;
}

/** What taking one token did. Durations are relative to `now`, in the rule's unit. */
export interface BucketOutcome {
  readonly allowed: boolean;
  /** Tokens left after this request (0 when rejected). */
  readonly remaining: number;
  /** Time until the bucket is full again. */
  readonly resetAfter: number;
  /** Time until one token is available (0 when allowed). */
  readonly retryAfter: number;
}

/** The outcome and the new stored state (`tat` unchanged when rejected). */
export interface BucketStep {
  readonly outcome: BucketOutcome;
  readonly tat: number;
}

/**
 * Takes one token at `now` from the bucket whose stored TAT is `tat` (undefined: never used, hence full).
 * Admits when the debt after this request (new TAT minus now) fits in `capacity` intervals.
 */
export function takeToken(tat: number | undefined, now: number, rule: BucketRule): BucketStep {
  const start = tat === undefined || tat < now ? now : tat;
  const next = start + rule.interval;
  const debt = next - now;
  const span = rule.interval * rule.capacity;
  if (debt > span) {
    return {
      tat: start,
      outcome: { allowed: false, remaining: 0, resetAfter: start - now, retryAfter: debt - span },
    };
  }
  return {
    tat: next,
    outcome: {
      allowed: true,
      remaining: Math.floor((span - debt) / rule.interval),
      resetAfter: debt,
      retryAfter: 0,
    },
  };
}
