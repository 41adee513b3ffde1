import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { errorMessage } from '@warden/observability';
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
    onSubscribed: () => void = () => undefined,
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
          if (this.confirmed) onSubscribed();
        },
        (error: unknown) => {
          logger.warn(`${name}: SUBSCRIBE failed (${errorMessage(error)}); reconnecting`);
          // A fresh connection cycle subscribes again.
          if (this.client.status === 'ready') this.client.disconnect(true);
        },
      );
    });
  }

  get subscribed(): boolean {
    return this.confirmed && this.client.status === 'ready';
  }

  /** Calls `listener` each time the connection closes. */
  onClose(listener: () => void): void {
    this.client.on('close', listener);
  }

  close(): Promise<void> {
    this.confirmed = false;
    return closeRedis(this.client);
  }
}

/**
 * The two connections of a Redis pub/sub adapter on one channel: a publisher (`<name>-pub`, opened first) and a
 * {@link RedisSubscription} (`<name>-sub`). Once closed it neither publishes nor counts as connected.
 */
export class RedisPubSub {
  private readonly publisher: Redis;
  private readonly subscription: RedisSubscription;
  private closed = false;
  /** {@link connected} was seen true since either connection last closed: `onConnected` is not called again. */
  private announced = false;

  /**
   * `onConnected` is called each time both connections are up after being down (the first time included): what
   * was published meanwhile did not arrive.
   */
  constructor(
    options: RedisConnectionOptions,
    private readonly channel: string,
    name: string,
    logger: Logger,
    onMessage: (message: string) => void,
    private readonly onConnected: () => void = () => undefined,
  ) {
    this.publisher = openRedis(options, `${name}-pub`, logger);
    this.subscription = new RedisSubscription(options, channel, `${name}-sub`, logger, onMessage, () =>
      this.announce(),
    );
    this.publisher.on('ready', () => this.announce());
    this.publisher.on('close', () => {
      this.announced = false;
    });
    this.subscription.onClose(() => {
      this.announced = false;
    });
  }

  private announce(): void {
    if (this.announced || !this.connected) return;
    this.announced = true;
    this.onConnected();
  }

  /** Whether a PUBLISH may be tried now (not closed, publisher ready). */
  get canPublish(): boolean {
    return !this.closed && this.publisher.status === 'ready';
  }

  /** Whether messages can be sent and received now. */
  get connected(): boolean {
    return this.canPublish && this.subscription.subscribed;
  }

  /** PUBLISHes one message on the channel; rejects when Redis fails. */
  async publish(message: string): Promise<void> {
    await this.publisher.publish(this.channel, message);
  }

  /** HGETs a field of a hash on the publisher connection; rejects when Redis fails. */
  async hget(key: string, field: string): Promise<string | null> {
    return await this.publisher.hget(key, field);
  }

  /** Runs a Lua script on the publisher connection (`keys`, then `args`); rejects when Redis fails. */
  async eval(script: string, keys: readonly string[], args: readonly string[] = []): Promise<unknown> {
    return await this.publisher.eval(script, keys.length, ...keys, ...args);
  }

  /** Closes both connections, once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([closeRedis(this.publisher), this.subscription.close()]);
  }
}

/** Parses a pub/sub message as JSON; `undefined` when it is not JSON (the schema check then rejects it). */
export function parseMessage(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}
