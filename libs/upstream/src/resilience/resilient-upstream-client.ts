import { Logger } from '@nestjs/common';
import { UpstreamClient, type UpstreamRequest, type UpstreamResponse } from '../client/upstream-client';
import type { UpstreamResilienceOptions } from '../upstream.config';
import type { UpstreamHealth, UpstreamProviderHealth } from './upstream-health';
import { UpstreamResilience, type ResilienceListener } from './upstream-resilience';

/**
 * The pooled upstream client with retries and a circuit breaker per provider (see {@link UpstreamResilience}):
 * what `UpstreamModule` provides as `UpstreamClient`, and as {@link UpstreamHealth}. Retries and transitions are
 * logged with the provider and the reason only (never headers or bodies).
 */
export class ResilientUpstreamClient extends UpstreamClient implements UpstreamHealth {
  private readonly logger = new Logger('Upstream');
  private readonly resilience: UpstreamResilience;
  private readonly attempt: (req: UpstreamRequest) => Promise<UpstreamResponse>;

  constructor(options: UpstreamResilienceOptions) {
    super();
    const listener: ResilienceListener = {
      retry: (r) =>
        this.logger.warn(
          `retrying a ${r.provider} call (attempt ${r.attempt}) in ${r.delayMs} ms after ${r.reason}`,
        ),
      circuit: (provider, state, reason) => {
        if (state === 'open') this.logger.error(`circuit of ${provider} opened (${reason ?? 'failures'})`);
        else if (state === 'half-open') this.logger.warn(`circuit of ${provider} half-open: probing`);
        else this.logger.log(`circuit of ${provider} closed`);
      },
    };
    this.resilience = new UpstreamResilience(options, listener);
    this.attempt = (req) => super.send(req);
  }

  override send(req: UpstreamRequest): Promise<UpstreamResponse> {
    return this.resilience.send(req, this.attempt);
  }

  snapshot(): ReadonlyArray<UpstreamProviderHealth> {
    return this.resilience.snapshot();
  }
}
