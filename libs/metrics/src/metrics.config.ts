import { defineEnvConfig, env } from '@warden/config';

/** Prometheus metrics: on/off, access token, label cardinality. */
export const metricsConfig = defineEnvConfig(
  'metrics',
  {
    METRICS_ENABLED: env
      .bool(true)
      .describe('Collect Prometheus metrics and serve them at GET /metrics (false: no collection, 404).'),
    METRICS_TOKEN: env
      .optional()
      .describe(
        'Bearer token GET /metrics requires; unset: the endpoint is open (restrict it at the network).',
      ),
    METRICS_MAX_MODELS: env
      .int(100, 1, 10_000)
      .describe(
        'Most distinct model names used as metric labels; models seen after that are counted as "other".',
      ),
  },
  (e) => ({ enabled: e.METRICS_ENABLED, token: e.METRICS_TOKEN, maxModels: e.METRICS_MAX_MODELS }),
);

/** The typed metrics configuration. */
export type MetricsConfig = ReturnType<typeof metricsConfig.parse>;
