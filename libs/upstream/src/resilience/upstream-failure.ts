import { UpstreamException } from '../client/upstream.exception';

/** Upstream statuses retried before the response reached the client: rate limited, overloaded, bad gateway. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 529]);

/** Lowest status that counts as a provider failure for its circuit (529 "overloaded" included). */
const FIRST_SERVER_ERROR = 500;

/** Whether an upstream response status is worth another attempt (429, 502, 503, 529). */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

/**
 * Whether a transport failure is worth another attempt: only when no response came at all (connection refused,
 * connect timeout, reset before the headers). Timeouts waiting for a response and aborts are not retried.
 */
export function isRetryableError(error: unknown): boolean {
  return error instanceof UpstreamException && (error.failure === 'connect' || error.failure === 'reset');
}

/** Whether a response counts against its provider's circuit: 5xx and 529. 4xx (429 included) means the provider is up. */
export function isBreakerFailureStatus(status: number): boolean {
  return status >= FIRST_SERVER_ERROR;
}

/**
 * Whether a thrown error counts against the provider's circuit: every transport failure (connect, reset,
 * timeouts) except an abort (the client left, or the gateway is shutting down).
 */
export function isBreakerFailureError(error: unknown): boolean {
  return error instanceof UpstreamException && error.failure !== 'aborted';
}
