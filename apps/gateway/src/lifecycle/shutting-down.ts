import { GatewayErrorCode, GatewayException } from '@warden/control-plane';

/** Seconds a refused client is asked to wait before retrying (another replica will answer it). */
const RETRY_AFTER_SECONDS = '1';

/** The error a request gets while this replica drains: 503, `connection: close`, `retry-after`. */
export function shuttingDown(): GatewayException {
  return new GatewayException(
    GatewayErrorCode.Unavailable,
    'This gateway replica is shutting down; retry the request',
    { headers: { connection: 'close', 'retry-after': RETRY_AFTER_SECONDS } },
  );
}
