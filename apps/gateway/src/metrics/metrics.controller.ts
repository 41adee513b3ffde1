import type { IncomingMessage } from 'node:http';
import { Controller, Get, Inject, Logger, Req, Res } from '@nestjs/common';
import { type ConfigType } from '@nestjs/config';
import { GatewayErrorCode, GatewayException } from '@warden/control-plane';
import { metricsConfig, WardenMetrics } from '@warden/metrics';
import type { Response } from 'express';
import { digestOf, matchesDigest } from '../auth/constant-time';
import { gatewayConfig } from '../config/gateway.config';

/**
 * `GET /metrics`: the Prometheus text format. With `METRICS_TOKEN` set, scrapers must send it as
 * `Authorization: Bearer` (compared in constant time); without one the endpoint is open, so restrict it at the
 * network. 404 when `METRICS_ENABLED=false`.
 */
@Controller('metrics')
export class MetricsController {
  private readonly digest: Buffer | undefined;
  private readonly enabled: boolean;

  constructor(
    @Inject(WardenMetrics) private readonly metrics: WardenMetrics,
    @Inject(metricsConfig.KEY) cfg: ConfigType<typeof metricsConfig>,
    @Inject(gatewayConfig.KEY) gateway: ConfigType<typeof gatewayConfig>,
  ) {
    this.enabled = cfg.enabled;
    this.digest = cfg.token === undefined ? undefined : digestOf(cfg.token);
    if (cfg.enabled && cfg.token === undefined && gateway.nodeEnv === 'production') {
      new Logger('Metrics').warn(
        'METRICS_TOKEN is not set: GET /metrics is open to anyone who reaches it; set a token or keep it off public networks',
      );
    }
  }

  @Get()
  async scrape(@Req() req: IncomingMessage, @Res() res: Response): Promise<void> {
    if (!this.enabled) throw new GatewayException(GatewayErrorCode.NotFound, 'Metrics are disabled');
    if (this.digest !== undefined) {
      const presented = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
      if (presented === undefined || !matchesDigest(presented, this.digest)) {
        throw new GatewayException(GatewayErrorCode.Authentication, 'A valid metrics token is required', {
          headers: { 'www-authenticate': 'Bearer realm="metrics"' },
        });
      }
    }
    const text = await this.metrics.render();
    res.setHeader('content-type', this.metrics.contentType);
    res.setHeader('cache-control', 'no-store');
    res.send(text);
  }
}
