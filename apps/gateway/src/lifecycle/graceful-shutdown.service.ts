import type { Server } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { type ConfigType } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import { ControlPlaneService } from '@warden/control-plane';
import { LlmRoutes } from '../llm/llm-routes';
import { lifecycleConfig } from './lifecycle.config';
import { ServingState } from './serving-state';
import { shuttingDown } from './shutting-down';

/** How often the drain checks whether calls are still in flight. */
const POLL_MS = 50;
/** After the grace period, how long calls get to write their in-band error and end. */
const ABORT_SETTLE_MS = 2000;

/** What a drain did. */
export interface DrainReport {
  /** Calls in flight when the drain began. */
  inFlightAtStart: number;
  /** Calls still running when the grace period ran out (ended with an in-band error). */
  aborted: number;
  durationMs: number;
}

/**
 * Graceful shutdown, step one (the process's signal handler runs it, then closes the app, which flushes events
 * and closes pools): readiness turns false, the listening socket closes and idle keep-alive connections are dropped,
 * requests arriving on open connections are refused (503, `connection: close`), and calls and streams in flight
 * get `SHUTDOWN_GRACE_MS` to finish; whatever is left then ends with an in-band error, never a cut stream.
 */
@Injectable()
export class GracefulShutdown {
  private readonly logger = new Logger('Shutdown');
  private drained: Promise<DrainReport> | undefined;

  constructor(
    @Inject(ServingState) private readonly state: ServingState,
    @Inject(ControlPlaneService) private readonly controlPlane: ControlPlaneService,
    @Inject(LlmRoutes) private readonly routes: LlmRoutes,
    @Inject(HttpAdapterHost) private readonly host: HttpAdapterHost,
    @Inject(lifecycleConfig.KEY) private readonly cfg: ConfigType<typeof lifecycleConfig>,
  ) {}

  /** Drains the replica; idempotent (a second signal waits for the same drain). */
  drain(reason: string): Promise<DrainReport> {
    this.drained ??= this.run(reason);
    return this.drained;
  }

  private async run(reason: string): Promise<DrainReport> {
    const started = Date.now();
    this.state.beginDrain();
    const inFlightAtStart = this.routes.inFlight;
    this.logger.log(
      `${reason}: draining, ${inFlightAtStart} call(s) in flight, grace ${this.cfg.shutdownGraceMs} ms`,
    );
    const server = this.host.httpAdapter.getHttpServer() as Server;
    // No new connections; the close callback is Nest's business (app.close() waits for the server).
    if (server.listening) server.close();
    server.closeIdleConnections();
    let aborted = 0;
    if (!(await this.idleWithin(this.cfg.shutdownGraceMs))) {
      aborted = this.controlPlane.abortAll(shuttingDown());
      this.logger.warn(`grace period over: ${aborted} call(s) still running end with an in-band error`);
      await this.idleWithin(ABORT_SETTLE_MS);
    }
    // Connections whose last response just ended are idle now: close them so the server can stop.
    server.closeIdleConnections();
    const report = { inFlightAtStart, aborted, durationMs: Date.now() - started };
    this.logger.log(`drained in ${report.durationMs} ms`);
    return report;
  }

  /** Resolves true once no call is in flight, false if `ms` passed first. */
  private async idleWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    // Counted from the route match: a request still uploading its body is in flight too.
    while (this.routes.inFlight > 0) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return true;
  }
}
