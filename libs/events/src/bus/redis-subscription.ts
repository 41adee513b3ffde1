import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { closeRedis, openRedis, type RedisConnectionOptions } from './redis-connection';

/**
 * A subscriber connection on one channel. It (re)subscribes each time the connection becomes ready, and counts as
 * subscribed only once Redis has confirmed, so `subscribed` means messages published from now on will arrive.
 */
export class RedisSubscription {
  private readonly client: Redis;
  private confirmed = false;

  constructor(
    options: RedisConnectionOptions,
    channel: string,
    name: string,
    logger: Logger,
    onMessage: (message: string) => void,
  ) {
    this.client = openRedis(options, name, logger);
    this.client.on('message', (from: string, message: string) => {
      if (from === channel) onMessage(message);
    });
    this.client.on('close', () => {
      this.confirmed = false;
    });
    this.client.on('ready', () => {
      this.client.subscribe(channel).then(
        () => {
          this.confirmed = this.client.status === 'ready';
        },
        (error: unknown) => {
          logger.warn(
            `${name}: SUBSCRIBE failed (${error instanceof Error ? error.message : String(error)}); reconnecting`,
          );
          // A fresh connection cycle subscribes again.
          if (this.client.status === 'ready') this.client.disconnect(true);
        },
      );
    });
  }

  get subscribed(): boolean {
    return this.confirmed && this.client.status === 'ready';
  }

  close(): Promise<void> {
    this.confirmed = false;
    return closeRedis(this.client);
  }
}
