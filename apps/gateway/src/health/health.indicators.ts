import { Inject, Injectable } from '@nestjs/common';
import { type ConfigType } from '@nestjs/config';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { ConversationStore, EventBus, eventsConfig, TrackedEventPublisher } from '@warden/events';
import { errorMessage, redactSecrets } from '@warden/observability';
import { UpstreamHealth } from '@warden/upstream';
import { lifecycleConfig } from '../lifecycle/lifecycle.config';
import { ServingState } from '../lifecycle/serving-state';

/** How long the database check may take before it counts as unreachable. */
const DATABASE_CHECK_MS = 2000;
/** The event queue counts as impaired beyond this fill ratio (events are about to be dropped). */
const QUEUE_HIGH_WATER = 0.9;

/**
 * The gateway's health indicators (terminus). A dependency calls can be served without (history database unless
 * DATABASE_REQUIRED, Redis bus, event queue) reports `degraded` when impaired, never `down`: losing it must not
 * take the replica out of the load balancer. `down` is kept for what stops this replica from serving.
 */
@Injectable()
export class GatewayHealthIndicators {
  constructor(
    @Inject(HealthIndicatorService) private readonly health: HealthIndicatorService,
    @Inject(ServingState) private readonly state: ServingState,
    @Inject(ConversationStore) private readonly store: ConversationStore,
    @Inject(EventBus) private readonly eventBus: EventBus,
    @Inject(TrackedEventPublisher) private readonly publisher: TrackedEventPublisher,
    @Inject(eventsConfig.KEY) private readonly eventsCfg: ConfigType<typeof eventsConfig>,
    @Inject(lifecycleConfig.KEY) private readonly lifecycle: ConfigType<typeof lifecycleConfig>,
    @Inject(UpstreamHealth) private readonly upstreamHealth: UpstreamHealth,
  ) {}

  /** Whether this replica takes new requests: down while starting or draining. */
  serving(): HealthIndicatorResult<'serving'> {
    const session = this.health.check('serving');
    const phase = this.state.phase;
    if (phase === 'serving') return session.up({ phase });
    const since = this.state.drainingForMs;
    return session.down(since === undefined ? { phase } : { phase, drainingForMs: since });
  }

  /** The history database: down when required, else degraded, while it does not answer. */
  async database(): Promise<HealthIndicatorResult<'database'>> {
    const session = this.health.check('database');
    // History off (HISTORY_ENABLED=false): no database is used, so none can be down.
    if (!this.store.enabled) return session.up({ kind: 'disabled', required: false });
    const required = this.lifecycle.databaseRequired;
    const kind = this.eventsCfg.database.kind;
    try {
      await withTimeout(this.store.ping(), DATABASE_CHECK_MS);
      return session.up({ kind, required });
    } catch (error) {
      const data = { kind, required, reachable: false, error: messageOf(error) };
      return required ? session.down(data) : session.degraded(data);
    }
  }

  /** The live event bus (Redis across replicas): degraded while disconnected (the history still gets events). */
  liveBus(): HealthIndicatorResult<'bus'> {
    const session = this.health.check('bus');
    const status = this.eventBus.status();
    const data = {
      kind: status.kind,
      connected: status.connected,
      unsent: status.unsent,
      received: status.received,
    };
    return status.connected ? session.up(data) : session.degraded(data);
  }

  /**
   * The queue of events waiting for the history: degraded when nearly full, by count or by text (events are about to
   * be dropped).
   */
  eventQueue(): HealthIndicatorResult<'events'> {
    const session = this.health.check('events');
    const stats = this.publisher.stats();
    const capacity = this.eventsCfg.queueMax;
    const capacityBytes = this.eventsCfg.queueMaxBytes;
    const ratio = Math.max(stats.queued / capacity, stats.queuedBytes / capacityBytes);
    const fill = Math.round(ratio * 1000) / 1000;
    const data = { ...stats, capacity, capacityBytes, fill };
    return fill >= QUEUE_HIGH_WATER ? session.degraded(data) : session.up(data);
  }

  /**
   * Each upstream provider's circuit breaker (providers appear after their first call): degraded while one is open
   * or probing, since calls to that provider fail fast. Never down: restarting or unrouting this replica would not
   * bring a provider back.
   */
  upstreams(): HealthIndicatorResult<'upstreams'> {
    const session = this.health.check('upstreams');
    const providers = this.upstreamHealth.snapshot().map((p) => ({
      provider: p.provider,
      state: p.state,
      consecutiveFailures: p.consecutiveFailures,
      ...(p.retryAfterMs === undefined ? {} : { retryAfterMs: p.retryAfterMs }),
    }));
    const impaired = providers.filter((p) => p.state !== 'closed').map((p) => p.provider);
    return impaired.length > 0 ? session.degraded({ providers, impaired }) : session.up({ providers });
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A driver error for the health answer: key- and bearer-shaped strings removed (health is unauthenticated). */
function messageOf(error: unknown): string {
  return redactSecrets(errorMessage(error));
}
