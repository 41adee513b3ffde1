import { once } from 'node:events';
import type { LoggerService, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { redactSecrets } from '@warden/observability';
import { Redis } from 'ioredis';
import { MemoryBucketStore } from './memory-bucket.store';
import { RedisBucketStore } from './redis-bucket.store';
import type { BucketOutcome, BucketRule } from './token-bucket';

/** How long one bucket update may wait for Redis before this request falls back to the in-memory bucket. */
export const REDIS_COMMAND_TIMEOUT_MS = 250;
/**
 * After a failed bucket update, requests skip Redis for this long (memory buckets decide): a Redis that hangs
 * without dropping the connection costs one timeout per period, not one per request.
 */
export const REDIS_COOLDOWN_MS = 1_000;
/** How long boot waits for the Redis connection before starting in memory. */
export const REDIS_CONNECT_WAIT_MS = 2_000;
/** Reconnect backoff to Redis: first delay, doubled per attempt up to the maximum. */
const RECONNECT_BASE_MS = 100;
const RECONNECT_MAX_MS = 5_000;
/** How often full in-memory buckets are forgotten. */
const SWEEP_INTERVAL_MS = 60_000;
const MICROS_PER_MS = 1000;
const MICROS_PER_SECOND = 1_000_000;

/** What a ThrottlerStorage answers (the record type is not exported by @nestjs/throttler). */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** Opens the limiter's own Redis connection: fails fast while down (no offline queue, no retries, short timeout). */
export function openRateLimitRedis(url: string): Redis {
  return new Redis(url, {
    connectionName: 'warden-ratelimit',
    retryStrategy: (attempt: number) =>
      Math.min(RECONNECT_BASE_MS * 2 ** Math.min(attempt - 1, 16), RECONNECT_MAX_MS),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    // Concurrent requests' bucket updates issued in the same tick go to Redis as one pipeline.
    enableAutoPipelining: true,
  });
}

/**
 * The token buckets behind every rate limit, as a `@nestjs/throttler` storage (so Nest's ThrottlerGuard uses them)
 * and as {@link take} for the LLM hot path. In Redis when one is given (shared by replicas), else in memory. When
 * Redis fails the request is decided by this replica's memory buckets instead (traffic is never blocked by the
 * limiter's own trouble), with one warning, until Redis answers again.
 *
 * As a ThrottlerStorage, `limit` is the bucket capacity and `ttl` (ms) the time to refill it from empty.
 */
export class BucketThrottlerStorage implements ThrottlerStorage, OnModuleInit, OnApplicationShutdown {
  private readonly memory = new MemoryBucketStore();
  private readonly store: RedisBucketStore | undefined;
  private degraded = false;
  private closed = false;
  /** `Date.now()` before which Redis is not tried (after a failure). */
  private skipRedisUntil = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis | undefined,
    private readonly prefix: string,
    private readonly logger: LoggerService,
    private readonly nowUs: () => number = () => Date.now() * MICROS_PER_MS,
  ) {
    this.store = redis === undefined ? undefined : new RedisBucketStore(redis);
    redis?.on('error', (error: Error) => this.degrade(error.message));
  }

  /** Starts the sweeper and waits (boundedly) for Redis, so the first requests already share buckets. */
  async onModuleInit(): Promise<void> {
    this.sweeper = setInterval(() => this.memory.sweep(this.nowUs()), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
    const redis = this.redis;
    if (redis === undefined || redis.status === 'ready') return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      // Rejects on a connection error: the limiter then starts degraded (in memory) and Redis reconnects later.
      once(redis, 'ready').catch(() => undefined),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, REDIS_CONNECT_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    if (this.redis === undefined || this.redis.status === 'end') return;
    if (this.redis.status !== 'ready') {
      this.redis.disconnect();
      return;
    }
    await this.redis.quit().catch(() => this.redis?.disconnect());
  }

  /** True while buckets are kept in memory although Redis is configured. */
  get isDegraded(): boolean {
    return this.degraded;
  }

  /** Takes one token of bucket `key`; `rule.interval` in microseconds. Never rejects. */
  async take(key: string, rule: BucketRule): Promise<BucketOutcome> {
    if (this.store !== undefined && this.redis?.status === 'ready') {
      if (Date.now() >= this.skipRedisUntil) {
        try {
          const outcome = await this.store.take(this.prefix + key, rule);
          if (this.degraded) this.recovered();
          return outcome;
        } catch (error) {
          this.skipRedisUntil = Date.now() + REDIS_COOLDOWN_MS;
          this.degrade(error instanceof Error ? error.message : 'unknown error');
        }
      }
    } else if (this.store !== undefined) {
      this.degrade('not connected');
    }
    return this.memory.take(key, rule, this.nowUs());
  }

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const capacity = Math.max(1, Math.floor(limit));
    const interval = Math.max(1, Math.round((ttl * MICROS_PER_MS) / capacity));
    const outcome = await this.take(key, { interval, capacity });
    return {
      totalHits: capacity - outcome.remaining,
      timeToExpire: secondsCeil(outcome.resetAfter),
      isBlocked: !outcome.allowed,
      timeToBlockExpire: secondsCeil(outcome.retryAfter),
    };
  }

  private degrade(reason: string): void {
    if (this.degraded || this.closed) return;
    this.degraded = true;
    this.logger.warn(
      `Rate limiting degraded: Redis unavailable (${redactSecrets(reason)}); limits are enforced per replica, in memory, until it returns`,
      'RateLimit',
    );
  }

  private recovered(): void {
    this.degraded = false;
    this.logger.log('Rate limiting: Redis is back; limits are shared across replicas again', 'RateLimit');
  }
}

/** Microseconds to whole seconds, rounded up (what Retry-After and X-RateLimit-Reset carry). */
export function secondsCeil(micros: number): number {
  return Math.ceil(micros / MICROS_PER_SECOND);
}
