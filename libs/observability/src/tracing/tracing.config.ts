import { defineEnvConfig, env } from '@warden/config';
import { z } from 'zod';

/** Exporters the OpenTelemetry SDK knows for `OTEL_TRACES_EXPORTER`. */
const TRACE_EXPORTERS = ['otlp', 'console', 'zipkin', 'none'] as const;

/**
 * OpenTelemetry tracing, configured by the standard `OTEL_*` variables (the SDK reads them from the environment
 * itself; this schema documents and validates them). Tracing is off unless an exporter or an OTLP endpoint is set.
 */
export const tracingConfig = defineEnvConfig(
  'tracing',
  {
    OTEL_SERVICE_NAME: z.string().min(1).default('warden').describe('Service name on exported traces.'),
    OTEL_TRACES_EXPORTER: env
      .list()
      .pipe(z.array(z.enum(TRACE_EXPORTERS)))
      .describe(
        'Trace exporters, comma-separated: otlp, console, zipkin or none. Unset: otlp if an OTLP endpoint is set, else off.',
      ),
    OTEL_EXPORTER_OTLP_ENDPOINT: env
      .optional()
      .describe('OTLP collector base URL (http://collector:4318); traces go to <endpoint>/v1/traces.'),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: env
      .optional()
      .describe('Full OTLP traces URL; overrides OTEL_EXPORTER_OTLP_ENDPOINT for traces.'),
    OTEL_EXPORTER_OTLP_PROTOCOL: z
      .enum(['http/protobuf', 'http/json', 'grpc'])
      .default('http/protobuf')
      .describe('OTLP protocol: http/protobuf, http/json or grpc.'),
    OTEL_EXPORTER_OTLP_HEADERS: env
      .optional()
      .describe('Headers sent to the collector, as key=value pairs separated by commas (credentials).'),
    OTEL_TRACES_SAMPLER: z
      .enum([
        'always_on',
        'always_off',
        'traceidratio',
        'parentbased_always_on',
        'parentbased_always_off',
        'parentbased_traceidratio',
      ])
      .default('parentbased_always_on')
      .describe('Sampler; parentbased_* follows the sampling decision of an incoming traceparent.'),
    OTEL_TRACES_SAMPLER_ARG: env
      .optional()
      .describe('Sampler argument: the ratio (0..1) for traceidratio samplers.'),
    OTEL_RESOURCE_ATTRIBUTES: env
      .optional()
      .describe('Extra resource attributes on every span, as key=value pairs (deployment.environment=prod).'),
    OTEL_SDK_DISABLED: env.bool(false).describe('true turns tracing off whatever else is set.'),
  },
  (e) => ({
    serviceName: e.OTEL_SERVICE_NAME,
    /** True when spans are exported: an exporter other than none, or an OTLP endpoint, and the SDK not disabled. */
    enabled:
      !e.OTEL_SDK_DISABLED &&
      !e.OTEL_TRACES_EXPORTER.includes('none') &&
      (e.OTEL_TRACES_EXPORTER.length > 0 ||
        e.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined ||
        e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined),
    exporters: e.OTEL_TRACES_EXPORTER.length > 0 ? e.OTEL_TRACES_EXPORTER : ['otlp'],
    endpoint: e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? e.OTEL_EXPORTER_OTLP_ENDPOINT,
  }),
);
