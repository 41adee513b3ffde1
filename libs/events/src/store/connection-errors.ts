/** Socket errors and PostgreSQL connection-class SQLSTATEs (08xxx, 57P0x: server shutting down or restarting). */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
const CONNECTION_MESSAGE =
  /connection terminated|timeout exceeded when trying to connect|client has encountered a connection error/i;

/** Whether a failure means the database is unreachable (worth a retry later) rather than a bad write. */
export function isConnectionError(error: unknown): boolean {
  // Duck-typed: errors from node's sockets do not pass `instanceof Error` inside jest's sandbox.
  let current: unknown = error;
  for (let depth = 0; depth < 3 && typeof current === 'object' && current !== null; depth++) {
    const { code, message, driverError, cause } = current as {
      code?: unknown;
      message?: unknown;
      driverError?: unknown;
      cause?: unknown;
    };
    if (typeof code === 'string' && (CONNECTION_CODES.has(code) || /^(08|57P0)/.test(code))) return true;
    if (typeof message === 'string' && CONNECTION_MESSAGE.test(message)) return true;
    current = driverError ?? cause;
  }
  return false;
}
