import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { errorMessage } from '@warden/observability';
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

/**
 * The next sequence number (see ControlChannel.nextSequence), kept at KEYS[1]: the server's clock in microseconds,
 * or one more than the last number given or than ARGV[1] (the caller's newest) when that is higher (several in one
 * microsecond, a clock behind the numbers replicas hold). A script runs alone on the server, so no two replicas get
 * the same number. Numbers are exact to 2^53 (microseconds until the year 2255); returned as text. TIME before a
 * write needs Redis 5 or later (scripts replicated by their effects).
 */
const NEXT_SEQUENCE_SCRIPT = `
local time = redis.call('TIME')
local seq = tonumber(time[1]) * 1000000 + tonumber(time[2])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(ARGV[1]) or 0
if last < floor then last = floor end
if seq <= last then seq = last + 1 end
local text = string.format('%.0f', seq)
redis.call('SET', KEYS[1], text)
return text
`;

/**
 * Keeps a swap in the hash KEYS[1]: its `seq` (ARGV[1]) and `message` (ARGV[2], JSON), unless the hash holds a
 * swap with a `seq` at least as high: two replicas keeping at once leave the newer one, whatever order their
 * scripts run in.
 */
const KEEP_SCRIPT = `
local current = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0') or 0
if current >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'message', ARGV[2])
return 1
`;

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
  private readonly connectListeners = new Set<() => void>();
  private readonly channel: string;
  private readonly pubSub: RedisPubSub;

  constructor(options: RedisControlChannelOptions) {
    super();
    this.channel = options.channel ?? CONTROL_CHANNEL;
    this.instanceId = options.instanceId ?? INSTANCE_ID;
    this.pubSub = new RedisPubSub(
      options,
      this.channel,
      'warden-control',
      this.logger,
      (message) => this.receive(message),
      () => {
        for (const listener of this.connectListeners) this.notifyConnected(listener);
      },
    );
  }

  /** Whether messages can be sent and received now (health). */
  get connected(): boolean {
    return this.pubSub.connected;
  }

  async broadcast(message: ControlMessage): Promise<void> {
    await this.command(() => this.pubSub.publish(JSON.stringify(message)));
  }

  async nextSequence(after = 0): Promise<number> {
    const reply = await this.command(() =>
      this.pubSub.eval(NEXT_SEQUENCE_SCRIPT, [`${this.channel}:seq`], [String(after)]),
    );
    const seq = Number(reply);
    if (!Number.isSafeInteger(seq) || seq <= 0)
      throw new Error(`unexpected sequence number ${String(reply)}`);
    return seq;
  }

  async keep(message: ControlMessage): Promise<void> {
    if (message.seq === undefined) throw new Error('only a swap with a sequence number can be kept');
    const seq = String(message.seq);
    await this.command(() => this.pubSub.eval(KEEP_SCRIPT, [this.keptKey], [seq, JSON.stringify(message)]));
  }

  async kept(): Promise<ControlMessage | undefined> {
    const raw = await this.command(() => this.pubSub.hget(this.keptKey, 'message'));
    if (raw === null) return undefined;
    const result = controlMessageSchema.safeParse(parseMessage(raw));
    if (!result.success) {
      this.logger.warn(`ignoring a malformed swap kept at ${this.keptKey}`);
      return undefined;
    }
    return result.data;
  }

  onMessage(listener: ControlListener): () => void {
    return this.listeners.add(listener);
  }

  onConnect(listener: () => void): () => void {
    this.connectListeners.add(listener);
    if (this.pubSub.connected)
      queueMicrotask(() => {
        if (this.connectListeners.has(listener)) this.notifyConnected(listener);
      });
    return () => this.connectListeners.delete(listener);
  }

  private notifyConnected(listener: () => void): void {
    try {
      listener();
    } catch (error) {
      this.logger.error(`a connect listener failed: ${errorMessage(error)}`);
    }
  }

  /** Where the newest swap is kept. */
  private get keptKey(): string {
    return `${this.channel}:policy`;
  }

  /** Runs a Redis command; rejects with one message whether Redis was known to be down or failed the command. */
  private async command<T>(run: () => Promise<T>): Promise<T> {
    if (!this.pubSub.canPublish) throw new Error('control channel unavailable: Redis is not connected');
    try {
      return await run();
    } catch (error) {
      const reason = errorMessage(error);
      throw new Error(`control channel unavailable: Redis is not connected (${reason})`);
    }
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
    if (result.data.origin === this.instanceId) return;
    this.listeners.deliver([result.data]);
  }
}
