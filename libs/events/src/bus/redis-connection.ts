import type { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';

/** First reconnect delay; doubles per attempt up to the maximum. */
export const RECONNECT_BASE_MS = 100;
/** Default longest delay between reconnect attempts. */
export const RECONNECT_MAX_MS = 5_000;
/** How long one command (PUBLISH) may wait for Redis before it counts as failed. */
export const COMMAND_TIMEOUT_MS = 2_000;
/** How long closing a connection that is not ready waits for its socket before destroying it. */
export const DISCONNECT_TIMEOUT_MS = 200;

/** Settings shared by the Redis adapters of the bus and the control channel. */
export interface RedisConnectionOptions {
  /** `redis://[:password@]host:port[/db]` */
  url: string;
  /** Longest delay between reconnect attempts (default {@link RECONNECT_MAX_MS}). */
  reconnectMaxMs?: number;
}

/**
 * Opens a Redis connection that reconnects forever with exponential backoff and logs only state changes (never the
 * URL, which may hold a password). It fails fast while down: no offline queue, in-flight commands rejected on
 * disconnect and never re-sent, so nothing is buffered without bound and nothing is sent twice.
 */
export function openRedis(options: RedisConnectionOptions, name: string, logger: Logger): Redis {
  const maxDelay = options.reconnectMaxMs ?? RECONNECT_MAX_MS;
  const client = new Redis(options.url, {
    connectionName: name,
    retryStrategy: (attempt: number) =>
      Math.min(RECONNECT_BASE_MS * 2 ** Math.min(attempt - 1, 16), maxDelay),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    commandTimeout: COMMAND_TIMEOUT_MS,
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
  });
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.warn(`${name}: Redis unavailable (${error.message}); reconnecting with backoff`);
  });
  client.on('ready', () => {
    if (down) logger.log(`${name}: Redis connection restored`);
    down = false;
  });
  return client;
}

/** Closes a connection: QUIT when connected, else drop it at once (no reconnect). Never throws. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
