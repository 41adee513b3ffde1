import { defineEnvConfig, env } from '@warden/config';

/** Readiness and graceful shutdown. */
export const lifecycleConfig = defineEnvConfig(
  'lifecycle',
  {
    SHUTDOWN_GRACE_MS: env
      .int(30_000, 0)
      .describe(
        'On SIGTERM/SIGINT, calls and streams in flight may finish for this long (ms); then they end with an in-band error. Keep it below the orchestrator grace period (Kubernetes terminationGracePeriodSeconds).',
      ),
    DATABASE_REQUIRED: env
      .bool(false)
      .describe(
        'true: /health/ready fails and /health is down while the history database is unreachable. false: calls are served without it (events wait in the bounded queue) and the gateway reports degraded.',
      ),
  },
  (e) => ({ shutdownGraceMs: e.SHUTDOWN_GRACE_MS, databaseRequired: e.DATABASE_REQUIRED }),
);

/** The typed lifecycle configuration. */
export type LifecycleConfig = ReturnType<typeof lifecycleConfig.parse>;
