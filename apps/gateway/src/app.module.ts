import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ConfigRootModule, type Env } from '@warden/config';
import { ControlPlaneModule, controlPlaneConfig } from '@warden/control-plane';
import { observabilityConfig, tracingConfig } from '@warden/observability';
import { eventsConfig } from '@warden/events';
import { MetricsModule, metricsConfig } from '@warden/metrics';
import { policyConfig } from '@warden/policy';
import { upstreamConfig } from '@warden/upstream';
import { AdminAuthGuard } from './admin/admin-auth.guard';
import { PolicyAdminController } from './admin/policy-admin.controller';
import { PolicySyncService } from './admin/policy-sync.service';
import { ClientAddressModule } from './auth/client-address.module';
import { ClientAuthService } from './auth/client-auth.service';
import { gatewayConfig } from './config/gateway.config';
import { HealthController } from './health/health.controller';
import { MetricsController } from './metrics/metrics.controller';
import { MetricSources } from './metrics/metric-sources';
import { GatewayHealthIndicators } from './health/health.indicators';
import { DrainGate } from './lifecycle/drain-gate';
import { GracefulShutdown } from './lifecycle/graceful-shutdown.service';
import { lifecycleConfig } from './lifecycle/lifecycle.config';
import { rateLimitConfig } from './rate-limit/rate-limit.config';
import { RATE_LIMIT_GUARD } from './rate-limit/rate-limit.guard';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { ServingState } from './lifecycle/serving-state';
import { EventStreamController } from './history/event-stream.controller';
import { HistoryController } from './history/history.controller';
import { LiveEventBuffer } from './history/live-event-buffer';
import { LiveFeedOptions } from './history/live-feed.options';
import { LlmIngressService } from './llm/llm-ingress.service';
import { LlmRoutes } from './llm/llm-routes';
import { ModelsController } from './llm/models.controller';
import { EmbeddedMockService } from './mock/embedded-mock.service';
import { AuthController } from './ui/auth.controller';
import { SecurityHeaders } from './ui/security-headers';
import { UiController } from './ui/ui.controller';
import { UiSessionService } from './ui/ui-session.service';

/** Every configuration namespace of the gateway, loaded from one environment. */
export const CONFIG_NAMESPACES = [
  gatewayConfig,
  upstreamConfig,
  policyConfig,
  eventsConfig,
  controlPlaneConfig,
  observabilityConfig,
  tracingConfig,
  lifecycleConfig,
  metricsConfig,
  rateLimitConfig,
] as const;

/** The gateway's composition root. */
@Module({})
export class AppModule {
  /** The app configured from `env` (process.env in production; an explicit map in tests). */
  static register(env: Env): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigRootModule.forRoot(env, CONFIG_NAMESPACES),
        ControlPlaneModule.withObserver(MetricsModule),
        MetricsModule,
        TerminusModule.forRoot({ logger: false }),
        RateLimitModule,
        ClientAddressModule,
      ],
      controllers: [
        ModelsController,
        HealthController,
        MetricsController,
        PolicyAdminController,
        HistoryController,
        EventStreamController,
        AuthController,
        UiController,
      ],
      providers: [
        ClientAuthService,
        AdminAuthGuard,
        PolicySyncService,
        LlmIngressService,
        LlmRoutes,
        EmbeddedMockService,
        SecurityHeaders,
        UiSessionService,
        LiveFeedOptions,
        LiveEventBuffer,
        ServingState,
        DrainGate,
        GracefulShutdown,
        GatewayHealthIndicators,
        MetricSources,
        RATE_LIMIT_GUARD,
      ],
    };
  }
}
