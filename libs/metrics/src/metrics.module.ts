import { Module } from '@nestjs/common';
import { type ConfigType } from '@nestjs/config';
import { CallObserver } from '@warden/control-plane';
import { EventsModule, TrackedEventPublisher } from '@warden/events';
import { PolicyEngine, PolicyModule } from '@warden/policy';
import { metricsConfig } from './metrics.config';
import { WardenMetrics } from './warden-metrics';

/**
 * Prometheus metrics: {@link WardenMetrics} (the registry, fed by the rate limiter and breakers) and the
 * {@link CallObserver} the control plane reports calls to. Give it to the pipeline with
 * `ControlPlaneModule.withObserver(MetricsModule)`. Needs `metricsConfig` loaded by the app's config root.
 */
@Module({
  imports: [PolicyModule, EventsModule],
  providers: [
    {
      provide: WardenMetrics,
      inject: [metricsConfig.KEY, PolicyEngine, TrackedEventPublisher],
      useFactory: (
        cfg: ConfigType<typeof metricsConfig>,
        policies: PolicyEngine,
        publisher: TrackedEventPublisher,
      ): WardenMetrics =>
        new WardenMetrics({
          enabled: cfg.enabled,
          maxModels: cfg.maxModels,
          sources: {
            policyLatency: () => policies.timings.snapshot(),
            eventStats: () => publisher.stats(),
          },
        }),
    },
    {
      provide: CallObserver,
      inject: [WardenMetrics],
      useFactory: (metrics: WardenMetrics): CallObserver => metrics.callObserver,
    },
  ],
  exports: [WardenMetrics, CallObserver],
})
export class MetricsModule {}
