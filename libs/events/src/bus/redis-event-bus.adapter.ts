import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { EventListener } from '../event-publisher.port';
import { INSTANCE_ID } from '../instance-id';
import type { WardenEvent } from '../warden-event';
import { EventBus, type BusStatus } from './event-bus.port';
import { ListenerSet } from './listener-set';
import type { RedisConnectionOptions } from './redis-connection';
import { parseMessage, RedisPubSub } from './redis-subscription';
import { busMessageSchema } from './warden-event.schema';

/** The Redis pub/sub channel of the live events (DESIGN.md §5). */
export const EVENTS_CHANNEL = 'warden:events';
/** Largest Redis message: a batch is split into JSON arrays of at most this size (one oversized event goes alone). */
export const MAX_BUS_MESSAGE_BYTES = 1024 * 1024;

/** Settings of {@link RedisEventBus}. */
export interface RedisEventBusOptions extends RedisConnectionOptions {
  /** Pub/sub channel (default {@link EVENTS_CHANNEL}; tests use their own). */
  channel?: string;
  /** This replica's id (default {@link INSTANCE_ID}); events whose `instance` equals it are not taken from Redis. */
  instanceId?: string;
}

/**
 * The live bus across replicas: Redis pub/sub on `warden:events`, one publisher and one subscriber connection,
 * messages are JSON arrays of events.
 *
 * Own events are delivered once: to local listeners directly when published (so the live view of a replica keeps
 * its own traffic while Redis is down), and skipped when they come back from Redis (matched on `event.instance`).
 * While Redis is down publishing fails fast: the events are counted in `unsent`, never buffered or re-sent; the
 * connections reconnect with backoff.
 */
export class RedisEventBus extends EventBus implements OnApplicationShutdown {
  private readonly logger = new Logger('RedisEventBus');
  private readonly listeners = new ListenerSet<WardenEvent>(this.logger, 'event');
  private readonly channel: string;
  private readonly instanceId: string;
  private readonly pubSub: RedisPubSub;
  private unsent = 0;
  private received = 0;
  private invalidLogged = false;

  constructor(options: RedisEventBusOptions) {
    super();
    this.channel = options.channel ?? EVENTS_CHANNEL;
    this.instanceId = options.instanceId ?? INSTANCE_ID;
    this.pubSub = new RedisPubSub(options, this.channel, 'warden-events', this.logger, (message) =>
      this.receive(message),
    );
  }

  async publish(events: readonly WardenEvent[]): Promise<void> {
    if (events.length === 0) return;
    this.listeners.deliver(events);
    const { messages, unserializable } = toMessages(events);
    this.unsent += unserializable;
    for (const { json, count } of messages) {
      if (!this.pubSub.canPublish) {
        this.unsent += count;
        continue;
      }
      try {
        await this.pubSub.publish(json);
      } catch {
        // The connection's error handler has logged the outage; here we only count.
        this.unsent += count;
      }
    }
  }

  subscribe(listener: EventListener): () => void {
    return this.listeners.add(listener);
  }

  status(): BusStatus {
    return {
      kind: 'redis',
      connected: this.pubSub.connected,
      unsent: this.unsent,
      received: this.received,
    };
  }

  async close(): Promise<void> {
    await this.pubSub.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  private receive(message: string): void {
    const result = busMessageSchema.safeParse(parseMessage(message));
    if (!result.success) {
      if (!this.invalidLogged) this.logger.warn(`ignoring a malformed message on ${this.channel}`);
      this.invalidLogged = true;
      return;
    }
    const foreign = result.data.filter((event) => event.instance !== this.instanceId);
    this.received += foreign.length;
    this.listeners.deliver(foreign);
  }
}

/** Splits a batch into JSON arrays of at most {@link MAX_BUS_MESSAGE_BYTES}; counts events JSON cannot encode. */
function toMessages(events: readonly WardenEvent[]): {
  messages: { json: string; count: number }[];
  unserializable: number;
} {
  const messages: { json: string; count: number }[] = [];
  let unserializable = 0;
  let parts: string[] = [];
  let bytes = 2;
  for (const event of events) {
    let json: string;
    try {
      json = JSON.stringify(event);
    } catch {
      unserializable += 1;
      continue;
    }
    const size = Buffer.byteLength(json) + 1;
    if (parts.length > 0 && bytes + size > MAX_BUS_MESSAGE_BYTES) {
      messages.push({ json: `[${parts.join(',')}]`, count: parts.length });
      parts = [];
      bytes = 2;
    }
    parts.push(json);
    bytes += size;
  }
  if (parts.length > 0) messages.push({ json: `[${parts.join(',')}]`, count: parts.length });
  return { messages, unserializable };
}
