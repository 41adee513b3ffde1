import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { INSTANCE_ID } from '../instance-id';
import {
  ControlChannel,
  controlMessageSchema,
  type ControlListener,
  type ControlMessage,
} from './control-channel';
import { ListenerSet } from './listener-set';
import { closeRedis, openRedis, type RedisConnectionOptions } from './redis-connection';
import { RedisSubscription } from './redis-subscription';

/** The Redis pub/sub channel of control messages. */
export const CONTROL_CHANNEL = 'warden:control';

/** Settings of {@link RedisControlChannel}. */
export interface RedisControlChannelOptions extends RedisConnectionOptions {
  /** Pub/sub channel (default {@link CONTROL_CHANNEL}; tests use their own). */
  channel?: string;
  /** This replica's id (default {@link INSTANCE_ID}); messages with this origin are not delivered back. */
  instanceId?: string;
}

/** Control messages across replicas over Redis pub/sub (its own publisher and subscriber connections). */
export class RedisControlChannel extends ControlChannel implements OnApplicationShutdown {
  readonly instanceId: string;
  private readonly logger = new Logger('RedisControlChannel');
  private readonly listeners = new ListenerSet<ControlMessage>(this.logger, 'control');
  private readonly channel: string;
  private readonly publisher: Redis;
  private readonly subscription: RedisSubscription;
  private closed = false;

  constructor(options: RedisControlChannelOptions) {
    super();
    this.channel = options.channel ?? CONTROL_CHANNEL;
    this.instanceId = options.instanceId ?? INSTANCE_ID;
    this.publisher = openRedis(options, 'warden-control-pub', this.logger);
    this.subscription = new RedisSubscription(
      options,
      this.channel,
      'warden-control-sub',
      this.logger,
      (message) => this.receive(message),
    );
  }

  /** Whether messages can be sent and received now (health). */
  get connected(): boolean {
    return !this.closed && this.publisher.status === 'ready' && this.subscription.subscribed;
  }

  async broadcast(message: ControlMessage): Promise<void> {
    if (this.closed || this.publisher.status !== 'ready') {
      throw new Error('control channel unavailable: Redis is not connected');
    }
    try {
      await this.publisher.publish(this.channel, JSON.stringify(message));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`control channel unavailable: Redis is not connected (${reason})`);
    }
  }

  onMessage(listener: ControlListener): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([closeRedis(this.publisher), this.subscription.close()]);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  private receive(raw: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    const result = controlMessageSchema.safeParse(parsed);
    if (!result.success) {
      this.logger.warn(`ignoring a malformed message on ${this.channel}`);
      return;
    }
    const { type, config, version, origin } = result.data;
    if (origin === this.instanceId) return;
    this.listeners.deliver([{ type, config, version, origin }]);
  }
}
