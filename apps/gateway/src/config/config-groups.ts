import { controlPlaneConfig } from '@warden/control-plane';
import { observabilityConfig } from '@warden/observability';
import { eventsConfig } from '@warden/events';
import { policyConfig } from '@warden/policy';
import { upstreamConfig } from '@warden/upstream';
import { gatewayConfig } from './gateway.config';

/** Every configuration namespace with a title, in documentation order. */
export const CONFIG_GROUPS = [
  { title: 'Gateway (listen address, client auth, request limits)', config: gatewayConfig },
  { title: 'Upstreams (providers, routing, timeouts)', config: upstreamConfig },
  { title: 'Policies', config: policyConfig },
  { title: 'History and events (database, Redis, event queue)', config: eventsConfig },
  { title: 'Call pipeline limits', config: controlPlaneConfig },
  { title: 'Logging', config: observabilityConfig },
] as const;

/** The documented variables of each group. */
export const CONFIG_DOCS = CONFIG_GROUPS.map((g) => ({ title: g.title, variables: g.config.variables }));
