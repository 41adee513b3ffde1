import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { WardenMetrics } from '@warden/metrics';
import { UpstreamHealth } from '@warden/upstream';

/** Feeds `/metrics` from the parts of the app it reads at scrape time: the upstream circuit breakers. */
@Injectable()
export class MetricSources implements OnModuleInit, OnModuleDestroy {
  private unregister: (() => void) | undefined;

  constructor(
    @Inject(WardenMetrics) private readonly metrics: WardenMetrics,
    @Inject(UpstreamHealth) private readonly upstreams: UpstreamHealth,
  ) {}

  onModuleInit(): void {
    this.unregister = this.metrics.registerBreakerSource(() =>
      this.upstreams.snapshot().map((h) => [h.provider, h.state] as const),
    );
  }

  onModuleDestroy(): void {
    this.unregister?.();
  }
}
