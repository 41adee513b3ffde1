import { Logger } from '@nestjs/common';
import type { Env } from '@warden/config';
import { shutdownTracing, startTracing } from '@warden/observability';

export { shutdownTracing };

/**
 * Starts OpenTelemetry tracing from the `OTEL_*` variables of `env` (main.ts calls it before the app is created);
 * does nothing unless an exporter or an OTLP endpoint is configured. The graceful shutdown calls
 * {@link shutdownTracing} last, to flush the spans of the calls that just finished.
 */
export function startGatewayTracing(env: Env): void {
  const status = startTracing(env);
  if (status.enabled) {
    Logger.log(
      `Tracing on: service ${status.serviceName}, exporter ${status.exporters.join(', ')}`,
      'Tracing',
    );
  }
}
