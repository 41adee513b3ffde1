import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { type ConfigType } from '@nestjs/config';
import { normalizeIp } from '@nestjs/throttler';
import { GatewayErrorCode, GatewayException } from '@warden/control-plane';
import { WardenMetrics } from '@warden/metrics';
import { ClientAddress } from '../auth/client-address';
import { BucketThrottlerStorage, secondsCeil } from './bucket-throttler.storage';
import { rateLimitConfig, type RateLimitRule } from './rate-limit.config';
import type { BucketRule } from './token-bucket';

/** The kinds of route rejections are counted by (for `warden_rate_limited_total{route}`). */
export const RATE_LIMIT_ROUTE_KINDS = ['chat', 'messages', 'count_tokens', 'api'] as const;
/** `chat`, `messages`, `count_tokens`: the LLM routes; `api`: the Nest routes (admin API, UI login, models). */
export type RateLimitRouteKind = (typeof RATE_LIMIT_ROUTE_KINDS)[number];

/** Response headers of every rate-limited response (success or not). */
export const RATE_LIMIT_HEADERS = {
  limit: 'x-ratelimit-limit',
  remaining: 'x-ratelimit-remaining',
  reset: 'x-ratelimit-reset',
} as const;

/** A client's rule, precomputed for the hot path. */
export interface ClientLimit {
  readonly rule: RateLimitRule;
  /** Interval in microseconds. */
  readonly bucket: BucketRule;
  /** Time to refill the whole bucket, in milliseconds (the ThrottlerGuard's `ttl`). */
  readonly ttlMs: number;
}

const MICROS_PER_MINUTE = 60_000_000;
const MS_PER_MINUTE = 60_000;

function compile(rule: RateLimitRule): ClientLimit | undefined {
  if (rule.rpm === 0) return undefined;
  return {
    rule,
    bucket: { interval: Math.max(1, Math.round(MICROS_PER_MINUTE / rule.rpm)), capacity: rule.burst },
    ttlMs: (rule.burst * MS_PER_MINUTE) / rule.rpm,
  };
}

/**
 * Per-client request rate limits: which rule applies to a client (its key's override, else the default), whose
 * bucket it draws from (its key id; its IP address without a key), the LLM hot path's check, and the count of
 * rejected requests by route kind (`warden_rate_limited_total{route}`). The Nest routes get the same buckets through {@link RateLimitGuard}.
 */
@Injectable()
export class RateLimitService {
  /** False when no limit is configured: nothing is checked and no header is added. */
  readonly enabled: boolean;
  private readonly defaultLimit: ClientLimit | undefined;
  private readonly overrides: ReadonlyMap<string, ClientLimit | undefined>;

  constructor(
    @Inject(rateLimitConfig.KEY) cfg: ConfigType<typeof rateLimitConfig>,
    @Inject(BucketThrottlerStorage) private readonly storage: BucketThrottlerStorage,
    @Inject(ClientAddress) private readonly addresses: ClientAddress,
    @Inject(WardenMetrics) private readonly metrics: WardenMetrics,
  ) {
    this.enabled = cfg.enabled;
    this.defaultLimit = compile(cfg.defaultRule);
    this.overrides = new Map([...cfg.overrides].map(([keyId, rule]) => [keyId, compile(rule)]));
  }

  /** The limit of a client (undefined: unlimited). */
  limitFor(keyId: string | undefined): ClientLimit | undefined {
    if (keyId !== undefined && this.overrides.has(keyId)) return this.overrides.get(keyId);
    return this.defaultLimit;
  }

  /** Whose bucket a request draws from: its client key id, else its (IPv6: /64) address (see TRUST_PROXY). */
  trackerOf(keyId: string | undefined, req: IncomingMessage): string {
    return keyId !== undefined ? `key:${keyId}` : `ip:${normalizeIp(this.addresses.of(req))}`;
  }

  /**
   * The LLM hot path (after authentication, before the body is read): takes a token of the client's bucket, sets
   * the `X-RateLimit-*` headers on `res`, and throws a 429 {@link GatewayException} with `Retry-After` when empty.
   */
  async admit(
    req: IncomingMessage,
    res: ServerResponse,
    kind: RateLimitRouteKind,
    keyId: string | undefined,
  ): Promise<void> {
    const limit = this.limitFor(keyId);
    if (limit === undefined) return;
    const outcome = await this.storage.take(`llm:${this.trackerOf(keyId, req)}`, limit.bucket);
    res.setHeader(RATE_LIMIT_HEADERS.limit, limit.bucket.capacity);
    res.setHeader(RATE_LIMIT_HEADERS.remaining, outcome.remaining);
    res.setHeader(RATE_LIMIT_HEADERS.reset, secondsCeil(outcome.resetAfter));
    if (!outcome.allowed) throw this.rejection(kind, limit.rule, secondsCeil(outcome.retryAfter));
  }

  /** Counts a rejected request and builds its 429 (the client's error shape is the filter's business). */
  rejection(kind: RateLimitRouteKind, rule: RateLimitRule, retryAfterSeconds: number): GatewayException {
    this.metrics.rateLimited(kind);
    const retry = Math.max(1, retryAfterSeconds);
    return new GatewayException(
      GatewayErrorCode.RateLimited,
      `Rate limit exceeded: this client may send ${rule.rpm} requests per minute (bursts of ${rule.burst}); retry in ${retry} s`,
      { headers: { 'retry-after': String(retry) } },
    );
  }
}
