/** Why an upstream call failed before or while its response was read. */
export type UpstreamFailure =
  'connect' | 'timeout' | 'first-token-timeout' | 'idle-timeout' | 'reset' | 'aborted';

/** An upstream call that failed at the transport level (HTTP error statuses are responses, not exceptions). */
export class UpstreamException extends Error {
  constructor(
    readonly failure: UpstreamFailure,
    readonly provider: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UpstreamException';
  }
}

const TIMEOUT_CODES: Record<string, UpstreamFailure> = {
  UND_ERR_CONNECT_TIMEOUT: 'connect',
  UND_ERR_HEADERS_TIMEOUT: 'first-token-timeout',
  UND_ERR_BODY_TIMEOUT: 'idle-timeout',
};

/** Maps an undici/Node error to an {@link UpstreamException} (`aborted` when the call's signal fired). */
export function toUpstreamException(
  error: unknown,
  provider: string,
  signal: { readonly aborted: boolean; readonly reason: unknown },
): UpstreamException {
  if (error instanceof UpstreamException) return error;
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof UpstreamException) return reason;
    return new UpstreamException('aborted', provider, 'upstream call aborted', { cause: error });
  }
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string') {
    const timeout = TIMEOUT_CODES[code];
    if (timeout === 'connect')
      return new UpstreamException('connect', provider, `connect timeout to ${provider}`);
    if (timeout !== undefined)
      return new UpstreamException(timeout, provider, `${provider} ${timeout.replaceAll('-', ' ')}`);
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH') {
      return new UpstreamException('connect', provider, `cannot connect to ${provider} (${code})`, {
        cause: error,
      });
    }
  }
  return new UpstreamException('reset', provider, `connection to ${provider} failed: ${message}`, {
    cause: error,
  });
}
