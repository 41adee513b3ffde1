import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { INSTANCE_ID } from '../instance-id';
import {
  ControlChannel,
  controlMessageSchema,
  type ControlListener,
  type ControlMessage,
} from './control-channel';
import { ListenerSet } from './listener-set';
import type { RedisConnectionOptions } from './redis-connection';
import { parseMessage, RedisPubSub } from './redis-subscription';

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
  private readonly pubSub: RedisPubSub;

  constructor(options: RedisControlChannelOptions) {
    super();
    this.channel = options.channel ?? CONTROL_CHANNEL;
    this.instanceId = options.instanceId ?? INSTANCE_ID;
    this.pubSub = new RedisPubSub(options, this.channel, 'warden-control', this.logger, (message) =>
      this.receive(message),
    );
  }

  /** Whether messages can be sent and received now (health). */
  get connected(): boolean {
    return this.pubSub.connected;
  }

  async broadcast(message: ControlMessage): Promise<void> {
    if (!this.pubSub.canPublish) {
      throw new Error('control channel unavailable: Redis is not connected');
    }
    try {
      await this.pubSub.publish(JSON.stringify(message));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`control channel unavailable: Redis is not connected (${reason})`);
    }
  }

  onMessage(listener: ControlListener): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {
    await this.pubSub.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  private receive(raw: string): void {
    const result = controlMessageSchema.safeParse(parseMessage(raw));
    if (!result.success) {
      this.logger.warn(`ignoring a malformed message on ${this.channel}`);
      return;
    }
    const { type, config, version, origin } = result.data;
    if (origin === this.instanceId) return;
    this.listeners.deliver([{ type, config, version, origin }]);
  }
}
