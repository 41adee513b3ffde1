/** State of a provider's circuit: `half-open` means the next call (or the one in flight) is the probe. */
export type CircuitStateName = 'closed' | 'open' | 'half-open';

/** Health of one upstream provider, as seen by its circuit breaker and retries since boot. */
export interface UpstreamProviderHealth {
  readonly provider: string;
  readonly state: CircuitStateName;
  /** Failures in a row (reset by any success). */
  readonly consecutiveFailures: number;
  /** While open: milliseconds until a probe call is let through. */
  readonly retryAfterMs?: number;
  /** Retries made (each one counted once). */
  readonly retries: number;
  /** Times the circuit opened. */
  readonly opened: number;
  /** Times it half-opened (a probe went through). */
  readonly halfOpened: number;
  /** Times it closed again after a successful probe. */
  readonly closed: number;
  /** Calls refused fast while open. */
  readonly rejected: number;
}

/**
 * Read side of the upstream circuit breakers and retries, for `/health` and `/metrics`. Doubles as its DI token
 * (exported by `UpstreamModule`). Providers appear once they served a call.
 */
export abstract class UpstreamHealth {
  /** One entry per provider called so far; O(providers), allocation-light, safe to call at scrape time. */
  abstract snapshot(): ReadonlyArray<UpstreamProviderHealth>;
}
