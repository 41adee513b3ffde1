import { Logger } from '@nestjs/common';
import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Env } from '@warden/config';
import { tracingConfig } from './tracing.config';

/** Options of {@link startTracing}. */
export interface TracingOptions {
  /**
   * Span processors to use instead of the exporters named by `OTEL_TRACES_EXPORTER` (tests pass an in-memory
   * exporter). Given, they turn tracing on whatever the environment says.
   */
  readonly spanProcessors?: SpanProcessor[];
}

/** What {@link startTracing} did. */
export interface TracingStatus {
  readonly enabled: boolean;
  readonly serviceName: string;
  /** Exporters in use (`custom` for processors given in the options). */
  readonly exporters: readonly string[];
}

let sdk: NodeSDK | undefined;
let stopping: Promise<void> | undefined;

/**
 * Starts the OpenTelemetry SDK once per process, before the app is created: our own spans only (no
 * auto-instrumentation), W3C trace-context propagation, exporters, sampler and resource from the standard `OTEL_*`
 * variables (the SDK reads `process.env`; `env` decides whether tracing is on). Off unless configured: nothing is
 * registered, and the OpenTelemetry API stays a no-op.
 */
export function startTracing(env: Env, options: TracingOptions = {}): TracingStatus {
  const cfg = tracingConfig.parse(env);
  const custom = options.spanProcessors !== undefined;
  const status: TracingStatus = {
    enabled: cfg.enabled || custom,
    serviceName: cfg.serviceName,
    exporters: custom ? ['custom'] : cfg.exporters,
  };
  if (!status.enabled) return status;
  if (sdk !== undefined) throw new Error('Tracing is already started');
  sdk = new NodeSDK({
    serviceName: cfg.serviceName,
    instrumentations: [],
    textMapPropagator: new W3CTraceContextPropagator(),
    // Traces only: no metrics (Prometheus has its own endpoint) and no log export.
    metricReaders: [],
    logRecordProcessors: [],
    ...(custom ? { spanProcessors: options.spanProcessors } : {}),
  });
  sdk.start();
  stopping = undefined;
  return status;
}

/**
 * Flushes the spans still buffered and stops tracing (graceful shutdown). Idempotent: later and concurrent calls
 * share the first one's promise; never rejects (an unreachable collector is logged, not fatal).
 */
export function shutdownTracing(): Promise<void> {
  if (stopping !== undefined) return stopping;
  const current = sdk;
  if (current === undefined) return Promise.resolve();
  sdk = undefined;
  stopping = current
    .shutdown()
    .catch((error: unknown) => {
      new Logger('Tracing').warn(
        `flushing traces failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    })
    .finally(() => {
      trace.disable();
      context.disable();
      propagation.disable();
    });
  return stopping;
}
