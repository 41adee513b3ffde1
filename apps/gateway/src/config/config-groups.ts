import { controlPlaneConfig } from '@warden/control-plane';
import { observabilityConfig, tracingConfig } from '@warden/observability';
import { eventsConfig } from '@warden/events';
import { metricsConfig } from '@warden/metrics';
import { policyConfig } from '@warden/policy';
import { upstreamConfig } from '@warden/upstream';
import { lifecycleConfig } from '../lifecycle/lifecycle.config';
import { rateLimitConfig } from '../rate-limit/rate-limit.config';
import { gatewayConfig } from './gateway.config';

/** Every configuration namespace with a title, in documentation order. */
export const CONFIG_GROUPS = [
  { title: 'Gateway (listen address, client auth, request limits)', config: gatewayConfig },
  { title: 'Upstreams (providers, routing, timeouts)', config: upstreamConfig },
  { title: 'Policies', config: policyConfig },
  { title: 'History and events (database, Redis, event queue)', config: eventsConfig },
  { title: 'Call pipeline limits', config: controlPlaneConfig },
  { title: 'Logging', config: observabilityConfig },
  { title: 'Tracing (OpenTelemetry)', config: tracingConfig },
  { title: 'Readiness and graceful shutdown', config: lifecycleConfig },
  { title: 'Metrics (Prometheus)', config: metricsConfig },
  { title: 'Rate limiting', config: rateLimitConfig },
] as const;

/** The documented variables of each group. */
export const CONFIG_DOCS = CONFIG_GROUPS.map((g) => ({ title: g.title, variables: g.config.variables }));
