import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ExecutionContext, Inject, Injectable, type Provider } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { ClientAuthService } from '../auth/client-auth.service';
import { RATE_LIMIT_HEADERS, RateLimitService } from './rate-limit.service';

/** Nest routes never limited: probes, the metrics scrape, the UI's static pages and assets. */
const EXEMPT_PREFIXES = ['/health', '/metrics', '/ui'] as const;
const MS_PER_MINUTE = 60_000;

/**
 * Nest's ThrottlerGuard over the rate limiter's buckets, for the Nest routes (admin API, UI login, models): one
 * bucket per client across them (key id when the request carries a client key, else IP address), separate from
 * its LLM bucket. A 429 goes through the usual exception filter (the client's error shape) with `Retry-After` and
 * the `X-RateLimit-*` headers.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    @Inject(Reflector) reflector: Reflector,
    @Inject(RateLimitService) private readonly limiter: RateLimitService,
    @Inject(ClientAuthService) private readonly auth: ClientAuthService,
  ) {
    super(options, storage, reflector);
  }

  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    if (!this.limiter.enabled || context.getType() !== 'http') return Promise.resolve(true);
    const url = context.switchToHttp().getRequest<IncomingMessage>().url ?? '';
    return Promise.resolve(EXEMPT_PREFIXES.some((prefix) => isUnder(url, prefix)));
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const req = props.context.switchToHttp().getRequest<IncomingMessage>();
    const keyId = this.keyIdOf(req);
    const limit = this.limiter.limitFor(keyId);
    if (limit === undefined) return true;
    const tracker = this.limiter.trackerOf(keyId, req);
    return super.handleRequest({
      ...props,
      limit: limit.bucket.capacity,
      ttl: limit.ttlMs,
      getTracker: () => tracker,
      generateKey: () => `api:${tracker}`,
    });
  }

  protected override throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const res = context.switchToHttp().getResponse<ServerResponse>();
    res.setHeader(RATE_LIMIT_HEADERS.limit, detail.limit);
    res.setHeader(RATE_LIMIT_HEADERS.remaining, 0);
    res.setHeader(RATE_LIMIT_HEADERS.reset, detail.timeToExpire);
    const rpm = Math.round((detail.limit * MS_PER_MINUTE) / detail.ttl);
    throw this.limiter.rejection('api', { rpm, burst: detail.limit }, detail.timeToBlockExpire);
  }

  /** The client key of a Nest request, if it carries a valid one (admin keys and others count by address). */
  private keyIdOf(req: IncomingMessage): string | undefined {
    try {
      return this.auth.authenticate(req, { forUpstream: false }).keyId;
    } catch {
      return undefined;
    }
  }
}

function isUnder(url: string, prefix: string): boolean {
  if (!url.startsWith(prefix)) return false;
  const next = url.charAt(prefix.length);
  return next === '' || next === '/' || next === '?';
}

/** The guard as a global (APP_GUARD) provider of the app module. */
export const RATE_LIMIT_GUARD: Provider = { provide: APP_GUARD, useClass: RateLimitGuard };

/** ThrottlerGuard options: one throttler whose limit and window {@link RateLimitGuard} sets per client. */
export const THROTTLER_OPTIONS: ThrottlerModuleOptions = {
  throttlers: [{ name: 'default', limit: 1, ttl: MS_PER_MINUTE }],
  setHeaders: true,
};
