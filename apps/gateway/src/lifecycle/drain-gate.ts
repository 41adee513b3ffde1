import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { writeApiError } from '../llm/api-error.writer';
import { ServingState } from './serving-state';
import { shuttingDown } from './shutting-down';

/**
 * Refuses new requests to Nest routes while the replica drains (503 in the caller's error shape, connection
 * closed), except health probes, which must keep answering (readiness reports the drain). Installed as the first
 * Express middleware as soon as the HTTP adapter exists, like {@link SecurityHeaders}. The LLM routes check the
 * same {@link ServingState} themselves (they never reach Express).
 */
@Injectable()
export class DrainGate {
  private readonly logger = new Logger('Shutdown');

  constructor(
    @Inject(HttpAdapterHost) host: HttpAdapterHost,
    @Inject(ServingState) private readonly state: ServingState,
  ) {
    host.init$.subscribe(() => {
      host.httpAdapter.use((req: IncomingMessage, res: ServerResponse, next: () => void) =>
        this.handle(req, res, next),
      );
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    if (this.state.phase !== 'draining' || isHealthProbe(req.url ?? '')) {
      next();
      return;
    }
    writeApiError(req, res, shuttingDown(), this.logger);
  }
}

function isHealthProbe(url: string): boolean {
  return url === '/health' || url.startsWith('/health/') || url.startsWith('/health?');
}
