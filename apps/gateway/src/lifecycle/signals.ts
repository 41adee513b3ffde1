import type { INestApplication } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { errorMessage } from '@warden/observability';
import { GracefulShutdown } from './graceful-shutdown.service';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Stops the process gracefully on SIGTERM or SIGINT: drain (readiness false, new requests refused, calls in flight
 * finish within SHUTDOWN_GRACE_MS), then close the app (events flushed to the history, pools and connections
 * closed), then `after` (tracing flush), then exit 0. A second signal exits at once with status 1.
 */
export function exitGracefullyOnSignals(app: INestApplication, after: () => Promise<void>): void {
  const logger = new Logger('Shutdown');
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    closeGracefully(app, `received ${signal}`)
      // Traces are flushed whatever happened to the rest.
      .finally(after)
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error(`shutdown failed: ${errorMessage(error)}`);
          process.exit(1);
        },
      );
  };
  for (const signal of SIGNALS) process.on(signal, stop);
}

/** Drains the app, then closes it (Nest's shutdown hooks: event flush, pools). */
export async function closeGracefully(app: INestApplication, reason: string): Promise<void> {
  await app.get(GracefulShutdown).drain(reason);
  await app.close();
}
