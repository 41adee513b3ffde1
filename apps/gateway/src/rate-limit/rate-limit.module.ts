import { Logger, Module } from '@nestjs/common';
import { type ConfigType } from '@nestjs/config';
import { getOptionsToken, getStorageToken } from '@nestjs/throttler';
import { eventsConfig } from '@warden/events';
import { MetricsModule } from '@warden/metrics';
import { ClientAddressModule } from '../auth/client-address.module';
import { BucketThrottlerStorage, openRateLimitRedis } from './bucket-throttler.storage';
import { rateLimitConfig } from './rate-limit.config';
import { THROTTLER_OPTIONS } from './rate-limit.guard';
import { RateLimitService } from './rate-limit.service';

/**
 * Rate limiting: the bucket storage (Redis at `REDIS_URL`, else memory), registered as `@nestjs/throttler`'s
 * storage and options so {@link RateLimitGuard} (a global guard of the app module, which owns client
 * authentication) and the LLM ingress share it, and the {@link RateLimitService}.
 */
@Module({
  imports: [MetricsModule, ClientAddressModule],
  providers: [
    {
      provide: BucketThrottlerStorage,
      useFactory: (
        rateLimit: ConfigType<typeof rateLimitConfig>,
        events: ConfigType<typeof eventsConfig>,
      ): BucketThrottlerStorage =>
        new BucketThrottlerStorage(
          rateLimit.enabled && events.redisUrl !== undefined
            ? openRateLimitRedis(events.redisUrl)
            : undefined,
          rateLimit.redisPrefix,
          new Logger('RateLimit'),
        ),
      inject: [rateLimitConfig.KEY, eventsConfig.KEY],
    },
    { provide: getStorageToken(), useExisting: BucketThrottlerStorage },
    { provide: getOptionsToken(), useValue: THROTTLER_OPTIONS },
    RateLimitService,
  ],
  exports: [BucketThrottlerStorage, getStorageToken(), getOptionsToken(), RateLimitService],
})
export class RateLimitModule {}
