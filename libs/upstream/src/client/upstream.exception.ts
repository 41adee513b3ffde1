/**
 * Why an upstream call failed before or while its response was read: `connect` (no connection), `reset` (the
 * connection broke), `tls` (the provider's certificate was refused), timeouts, `aborted` (the client left or the
 * gateway ended the call), `error` (anything else: a malformed HTTP response, an unexpected error).
 */
export type UpstreamFailure =
  'connect' | 'timeout' | 'first-token-timeout' | 'idle-timeout' | 'reset' | 'tls' | 'aborted' | 'error';

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

/** Codes of a connection that could not be made. */
const CONNECT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
]);

/** Codes of a connection that broke (closed by the other side, or by the network). */
const RESET_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** OpenSSL verification codes without `CERT` in their name, and Node's code of a failed handshake. */
const TLS_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'HOSTNAME_MISMATCH',
  'EPROTO',
]);

/** Whether a code is a TLS failure (a certificate refused, a failed handshake): the same on every attempt. */
function isTlsCode(code: string): boolean {
  return (
    TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code.includes('CERT')
  );
}

/** The `code` of an error, or of the error that caused it (undici wraps some). */
function codeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 3 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

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
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code !== undefined) {
    const timeout = TIMEOUT_CODES[code];
    if (timeout === 'connect')
      return new UpstreamException('connect', provider, `connect timeout to ${provider}`);
    if (timeout !== undefined)
      return new UpstreamException(timeout, provider, `${provider} ${timeout.replaceAll('-', ' ')}`);
    if (CONNECT_CODES.has(code)) {
      return new UpstreamException('connect', provider, `cannot connect to ${provider} (${code})`, {
        cause: error,
      });
    }
    if (RESET_CODES.has(code)) {
      return new UpstreamException('reset', provider, `connection to ${provider} failed: ${message}`, {
        cause: error,
      });
    }
    if (isTlsCode(code)) {
      return new UpstreamException('tls', provider, `TLS with ${provider} failed (${code}): ${message}`, {
        cause: error,
      });
    }
  }
  // Not a failure of the connection: retrying it could send the call twice for nothing.
  return new UpstreamException('error', provider, `call to ${provider} failed: ${message}`, { cause: error });
}
