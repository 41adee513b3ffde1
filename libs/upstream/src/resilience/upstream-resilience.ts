import { BrokenCircuitError } from 'cockatiel';
import type { AbortSource } from '../client/abort-source';
import type { UpstreamRequest, UpstreamResponse } from '../client/upstream-client';
import { toUpstreamException, UpstreamException } from '../client/upstream.exception';
import type { UpstreamResilienceOptions } from '../upstream.config';
import { backoffDelay } from './backoff';
import { ProviderCircuit, type CircuitListener } from './provider-circuit';
import { retryAfterMs } from './retry-after';
import { UpstreamCircuitOpenException } from './upstream-circuit-open.exception';
import type { UpstreamRetry } from './upstream-retry';
import type { UpstreamHealth, UpstreamProviderHealth } from './upstream-health';
import { isRetryableError, isRetryableStatus } from './upstream-failure';

/** Most bytes read from a discarded error response to keep its connection reusable (then it is destroyed). */
const DISCARD_LIMIT_BYTES = 64 * 1024;

/** Told of every retry and circuit transition. */
export interface ResilienceListener {
  retry(retry: UpstreamRetry): void;
  circuit: CircuitListener;
}

type Outcome = { readonly response: UpstreamResponse } | { readonly error: unknown };

/**
 * Retries and circuit breaking around upstream attempts. Everything happens before the response headers are handed
 * on, so a retry never follows a byte sent to the client. An attempt is retried when it failed without a response
 * (connect, reset) or answered 429/502/503/529, up to `maxRetries` times, with jittered exponential backoff or the
 * upstream's `retry-after` when it is within `retryAfterMaxMs` (a longer one gives up and returns the response as
 * is). The call's signal stops a pending retry at once; a retry that would end past `deadlineAt` is not made.
 * Each attempt goes through the provider's circuit; an open circuit refuses the call with
 * {@link UpstreamCircuitOpenException}.
 */
export class UpstreamResilience implements UpstreamHealth {
  private readonly circuits = new Map<string, ProviderCircuit>();

  constructor(
    private readonly options: UpstreamResilienceOptions,
    private readonly listener: ResilienceListener,
    private readonly random: () => number = Math.random,
  ) {}

  /** Sends `req` with `attempt`, retrying and breaking as described above. */
  async send(
    req: UpstreamRequest,
    attempt: (req: UpstreamRequest) => Promise<UpstreamResponse>,
  ): Promise<UpstreamResponse> {
    const circuit = this.circuitFor(req.provider.name);
    if (!circuit.accepts()) {
      circuit.reject();
      throw new UpstreamCircuitOpenException(circuit.provider, circuit.retryAfterMs());
    }
    const run = (): Promise<UpstreamResponse> => attempt(req);
    for (let retry = 1; ; retry++) {
      let outcome: Outcome;
      try {
        outcome = { response: await circuit.execute(run) };
      } catch (error) {
        if (error instanceof BrokenCircuitError) {
          circuit.reject();
          throw new UpstreamCircuitOpenException(circuit.provider, circuit.retryAfterMs());
        }
        outcome = { error };
      }
      const delayMs = this.retryDelay(outcome, retry, req);
      if (delayMs === undefined || !circuit.accepts()) {
        if ('error' in outcome) throw outcome.error;
        return outcome.response;
      }
      const reason = 'response' in outcome ? `HTTP ${outcome.response.status}` : failureOf(outcome.error);
      // Read a little of a discarded answer so its connection is reused; a longer one is destroyed.
      if ('response' in outcome) void outcome.response.body.discard(DISCARD_LIMIT_BYTES);
      circuit.counters.retries++;
      const event: UpstreamRetry = { provider: circuit.provider, attempt: retry + 1, delayMs, reason };
      this.listener.retry(event);
      req.onRetry?.(event);
      await sleep(delayMs, req.signal, circuit.provider);
    }
  }

  snapshot(): ReadonlyArray<UpstreamProviderHealth> {
    const out: UpstreamProviderHealth[] = [];
    for (const circuit of this.circuits.values()) out.push(circuit.health());
    return out;
  }

  /** Delay before retry number `retry`, or undefined when the outcome is final. */
  private retryDelay(outcome: Outcome, retry: number, req: UpstreamRequest): number | undefined {
    if (retry > this.options.maxRetries || req.signal.aborted) return undefined;
    let delay: number;
    if ('response' in outcome) {
      if (!isRetryableStatus(outcome.response.status)) return undefined;
      const asked = retryAfterMs(outcome.response.headers);
      if (asked !== undefined && asked > this.options.retryAfterMaxMs) return undefined;
      delay = asked ?? this.backoff(retry);
    } else {
      if (!isRetryableError(outcome.error)) return undefined;
      delay = this.backoff(retry);
    }
    if (req.deadlineAt !== undefined && performance.now() + delay >= req.deadlineAt) return undefined;
    return delay;
  }

  private backoff(retry: number): number {
    return backoffDelay(retry, this.options.retryBaseMs, this.options.retryMaxDelayMs, this.random);
  }

  private circuitFor(provider: string): ProviderCircuit {
    let circuit = this.circuits.get(provider);
    if (circuit === undefined) {
      circuit = new ProviderCircuit(provider, this.options.breaker, this.listener.circuit);
      this.circuits.set(provider, circuit);
    }
    return circuit;
  }
}

function failureOf(error: unknown): string {
  return error instanceof UpstreamException ? error.failure : 'error';
}

/** Waits `ms`, or rejects at once with the call's failure when it is aborted (client gone, deadline). */
function sleep(ms: number, signal: AbortSource, provider: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(toUpstreamException(signal.reason, provider, signal));
      return;
    }
    const stop = signal.onAbort(() => {
      clearTimeout(timer);
      reject(toUpstreamException(signal.reason, provider, signal));
    });
    const timer = setTimeout(() => {
      stop();
      resolve();
    }, ms);
  });
}
