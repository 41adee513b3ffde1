import { Controller, Get, HttpStatus, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult, type HealthIndicatorFunction } from '@nestjs/terminus';
import type { Response } from 'express';
import { GatewayHealthIndicators } from './health.indicators';

/** Overall state: `degraded` serves calls with an optional part impaired; `down` cannot serve. */
export type OverallHealth = 'ok' | 'degraded' | 'down';

/** A health answer: the overall state and each check (terminus indicator results). */
export interface HealthReport {
  status: OverallHealth;
  checks: HealthCheckResult['details'];
}

/**
 * Probes for orchestrators and operators (terminus):
 * - `GET /health/live`: the process answers (liveness; restart when it fails).
 * - `GET /health/ready`: this replica can take calls (readiness; 503 while starting, draining, or when a required
 *   database is down).
 * - `GET /health`: every dependency, overall `ok` | `degraded` | `down` (200, 200, 503).
 */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly terminus: HealthCheckService,
    @Inject(GatewayHealthIndicators) private readonly indicators: GatewayHealthIndicators,
  ) {}

  /** The process answers. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Whether this replica takes calls now. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<HealthReport> {
    // The database only fails readiness when DATABASE_REQUIRED (otherwise it reports degraded).
    return this.run([() => this.indicators.serving(), () => this.indicators.database()], res);
  }

  /** Every dependency of this replica. */
  @Get()
  async health(@Res({ passthrough: true }) res: Response): Promise<HealthReport> {
    return this.run(
      [
        () => this.indicators.serving(),
        () => this.indicators.database(),
        () => this.indicators.liveBus(),
        () => this.indicators.eventQueue(),
        () => this.indicators.upstreams(),
      ],
      res,
    );
  }

  /** Runs terminus over `checks`: 503 when one is `down` or the app is shutting down; degraded still serves. */
  private async run(checks: HealthIndicatorFunction[], res: Response): Promise<HealthReport> {
    res.setHeader('cache-control', 'no-store');
    let result: HealthCheckResult;
    try {
      result = await this.terminus.check(checks);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      result = error.getResponse() as HealthCheckResult;
      res.status(HttpStatus.SERVICE_UNAVAILABLE);
    }
    return { status: overall(result.status), checks: result.details };
  }
}

function overall(status: HealthCheckResult['status']): OverallHealth {
  if (status === 'ok' || status === 'degraded') return status;
  return 'down';
}
