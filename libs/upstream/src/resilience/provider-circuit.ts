import { circuitBreaker, CircuitState, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import type { UpstreamResponse } from '../client/upstream-client';
import type { BreakerOptions } from '../upstream.config';
import type { CircuitStateName, UpstreamProviderHealth } from './upstream-health';
import { UpstreamException } from '../client/upstream.exception';
import { isBreakerFailureError, isBreakerFailureStatus } from './upstream-failure';
import { ProviderFailureBreaker } from './provider-failure.breaker';

/** Told of every circuit transition (logging and counting happen there). */
export type CircuitListener = (provider: string, state: CircuitStateName, reason?: string) => void;

/** Counters kept per provider. */
interface ProviderCounters {
  retries: number;
  opened: number;
  halfOpened: number;
  closed: number;
  rejected: number;
}

/**
 * One provider's circuit (a cockatiel {@link CircuitBreakerPolicy} over a {@link ProviderFailureBreaker}) and its
 * counters. Without a breaker (`consecutiveFailures` 0) it only counts. Calls made while a probe is in flight are
 * refused rather than queued behind it (cockatiel would make them wait).
 */
export class ProviderCircuit {
  readonly counters: ProviderCounters = { retries: 0, opened: 0, halfOpened: 0, closed: 0, rejected: 0 };
  private readonly breaker: ProviderFailureBreaker | undefined;
  private readonly policy: CircuitBreakerPolicy | undefined;
  private openedAt = 0;

  constructor(
    readonly provider: string,
    private readonly options: BreakerOptions,
    listener: CircuitListener,
  ) {
    if (options.consecutiveFailures === 0) return;
    this.breaker = new ProviderFailureBreaker(options);
    const policy = circuitBreaker(
      // An aborted probe proved nothing: cockatiel would close the circuit on an unhandled error, so while
      // half-open an abort counts as a failure and the circuit opens again for another delay.
      handleWhen((error) => isBreakerFailureError(error) || this.isAbortedProbe(error)).orWhenResult((r) =>
        isBreakerFailureStatus((r as UpstreamResponse).status),
      ),
      { breaker: this.breaker, halfOpenAfter: options.halfOpenAfterMs },
    );
    policy.onBreak((reason) => {
      this.openedAt = Date.now();
      this.counters.opened++;
      listener(provider, 'open', describeReason(reason));
    });
    policy.onHalfOpen(() => {
      this.counters.halfOpened++;
      listener(provider, 'half-open');
    });
    policy.onReset(() => {
      this.counters.closed++;
      listener(provider, 'closed');
    });
    this.policy = policy;
  }

  /** The effective state: an open circuit whose delay is over is `half-open` (the next call probes). */
  get state(): CircuitStateName {
    const state = this.policy?.state ?? CircuitState.Closed;
    if (state === CircuitState.Closed) return 'closed';
    if (state === CircuitState.HalfOpen) return 'half-open';
    return this.retryAfterMs() > 0 ? 'open' : 'half-open';
  }

  /** Milliseconds until an open circuit lets a probe through; 0 otherwise. */
  retryAfterMs(): number {
    if (this.policy?.state !== CircuitState.Open) return 0;
    return Math.max(0, this.openedAt + this.options.halfOpenAfterMs - Date.now());
  }

  /** Whether a call may go out now: closed, or open with its delay over (it becomes the probe). */
  accepts(): boolean {
    const state = this.policy?.state ?? CircuitState.Closed;
    if (state === CircuitState.Closed) return true;
    return state === CircuitState.Open && this.retryAfterMs() === 0;
  }

  private isAbortedProbe(error: unknown): boolean {
    return (
      this.policy?.state === CircuitState.HalfOpen &&
      error instanceof UpstreamException &&
      error.failure === 'aborted'
    );
  }

  /** Counts a call refused without trying. */
  reject(): void {
    this.counters.rejected++;
  }

  /**
   * Runs one attempt through the circuit: 5xx/529 responses and transport failures (not aborts) count as failures
   * and are returned or rethrown as they are. Throws cockatiel's `BrokenCircuitError` when the circuit is open.
   */
  execute(attempt: () => Promise<UpstreamResponse>): Promise<UpstreamResponse> {
    // No signal for cockatiel: an attempt made for an aborted call fails at once in the client, which is what
    // cockatiel's own cancellation check would do.
    return this.policy === undefined ? attempt() : this.policy.execute(attempt);
  }

  /** The provider's health entry. */
  health(): UpstreamProviderHealth {
    const retryAfterMs = this.retryAfterMs();
    return {
      provider: this.provider,
      state: this.state,
      consecutiveFailures: this.breaker?.consecutive ?? 0,
      ...(retryAfterMs > 0 ? { retryAfterMs } : {}),
      ...this.counters,
    };
  }
}

/** A short, secret-free description of what opened a circuit. */
function describeReason(reason: { error: Error } | { value: unknown } | { isolated: true }): string {
  if ('error' in reason) return reason.error.message;
  if ('value' in reason) return `HTTP ${(reason.value as UpstreamResponse).status}`;
  return 'isolated';
}
