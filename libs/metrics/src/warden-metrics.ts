import { NOOP_CALL_OBSERVER, type CallObserver } from '@warden/control-plane';
import type { PublisherStats } from '@warden/events';
import { POLICY_LATENCY_BUCKETS_MS, type PolicyLatency } from '@warden/policy';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { CallMetrics } from './call-metrics.observer';
import { CappedLabels } from './families/capped-labels';
import { CollectedCounter, CollectedHistogram } from './families/collected-metrics';
import { CounterFamily } from './families/metric-families';
import type { CounterSeries } from './families/series';

/** State of an upstream circuit breaker. */
export type BreakerState = 'closed' | 'half-open' | 'open';

/** Reads the breaker state of each provider at scrape time. */
export type BreakerStateSource = () => Iterable<readonly [provider: string, state: BreakerState]>;

/** Values of `warden_upstream_breaker_state`. */
export const BREAKER_STATE_VALUES: Readonly<Record<BreakerState, number>> = {
  closed: 0,
  'half-open': 1,
  open: 2,
};

/** Most distinct routes labelled on rate-limited requests. */
export const MAX_ROUTE_LABELS = 64;

/** What the metrics read from the rest of the gateway at scrape time. */
export interface MetricsSources {
  /** Per-policy latency histograms (the policy engine's `timings.snapshot()`), in ms. */
  readonly policyLatency?: () => readonly PolicyLatency[];
  /** The event publisher's counters (`TrackedEventPublisher.stats()`). */
  readonly eventStats?: () => PublisherStats;
}

/** Options of {@link WardenMetrics}. */
export interface WardenMetricsOptions {
  /** Off: nothing is collected, the registry stays empty and every feeding method is a no-op. */
  readonly enabled: boolean;
  /** Most distinct model labels; later models are labelled `other`. */
  readonly maxModels: number;
  /** Node runtime metrics (`collectDefaultMetrics`); default true. */
  readonly runtimeMetrics?: boolean;
  readonly sources?: MetricsSources;
}

const MS_PER_S = 1000;

/**
 * The gateway's Prometheus metrics, in a registry of its own (never prom-client's global one, so several apps or
 * tests in one process do not collide). Owns the {@link CallObserver} the control plane feeds, reads the policy and
 * event-queue figures at scrape time, and is fed by the rate limiter ({@link rateLimited}) and the upstream
 * breakers ({@link registerBreakerSource}). Plain TypeScript; the Nest module builds it from the config.
 */
export class WardenMetrics {
  readonly registry = new Registry();
  readonly enabled: boolean;
  /** The observer to give the control plane (a no-op when metrics are off). */
  readonly callObserver: CallObserver;
  private readonly rateLimits: CappedLabels<CounterSeries> | undefined;
  private readonly breakerSources = new Set<BreakerStateSource>();

  constructor(options: WardenMetricsOptions) {
    this.enabled = options.enabled;
    if (!options.enabled) {
      this.callObserver = NOOP_CALL_OBSERVER;
      return;
    }
    const calls = new CallMetrics(this.registry, options.maxModels);
    this.callObserver = calls;
    const registers = [this.registry];
    new Gauge({
      name: 'warden_llm_calls_in_flight',
      help: 'LLM calls being served now.',
      registers,
      collect() {
        this.set(calls.inFlight);
      },
    });
    new Gauge({
      name: 'warden_llm_active_streams',
      help: 'Streamed LLM calls being served now.',
      registers,
      collect() {
        this.set(calls.activeStreams);
      },
    });
    const rateLimited = new CounterFamily(this.registry, {
      name: 'warden_rate_limited_total',
      help: 'Requests refused by the rate limiter, by route.',
      labelNames: ['route'],
    });
    this.rateLimits = new CappedLabels(MAX_ROUTE_LABELS, (route) => rateLimited.add({ route }));
    const sources = this.breakerSources;
    new Gauge({
      name: 'warden_upstream_breaker_state',
      help: 'Circuit breaker state of each upstream provider: 0 closed, 1 half-open, 2 open.',
      labelNames: ['provider'],
      registers,
      collect() {
        this.reset();
        for (const source of sources) {
          for (const [provider, state] of source()) this.set({ provider }, BREAKER_STATE_VALUES[state]);
        }
      },
    });
    if (options.sources?.policyLatency !== undefined) this.policyLatency(options.sources.policyLatency);
    if (options.sources?.eventStats !== undefined) this.eventQueue(options.sources.eventStats);
    if (options.runtimeMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Content type of {@link render}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text format. */
  async render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Counts a request the rate limiter refused on `route` (a route path or name; bounded label set). */
  rateLimited(route: string): void {
    this.rateLimits?.get(route).inc();
  }

  /**
   * Adds a source of breaker states, read at each scrape into `warden_upstream_breaker_state{provider}`. Returns
   * the function that removes it. A no-op when metrics are off.
   */
  registerBreakerSource(source: BreakerStateSource): () => void {
    if (!this.enabled) return () => undefined;
    this.breakerSources.add(source);
    return () => {
      this.breakerSources.delete(source);
    };
  }

  private policyLatency(read: () => readonly PolicyLatency[]): void {
    new CollectedHistogram(
      this.registry,
      {
        name: 'warden_policy_duration_seconds',
        help: 'Time spent in each policy per hook invocation (request, response, stream chunk), by policy.',
        labelNames: ['policy'],
      },
      POLICY_LATENCY_BUCKETS_MS.map((ms) => ms / MS_PER_S),
      () =>
        read().map((h) => ({
          labels: { policy: h.policy },
          cumulative: h.buckets,
          count: h.count,
          sum: h.sumMs / MS_PER_S,
        })),
    );
  }

  private eventQueue(read: () => PublisherStats): void {
    const registers = [this.registry];
    const gauge = (name: string, help: string, value: (stats: PublisherStats) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(value(read()));
        },
      });
    gauge('warden_event_queue_depth', 'Events waiting to be written to the history store.', (s) => s.queued);
    gauge(
      'warden_event_queue_bytes',
      'Serialized text of the events waiting to be written to the history store (characters).',
      (s) => s.queuedBytes,
    );
    const counter = (name: string, help: string, value: (stats: PublisherStats) => number) =>
      new CollectedCounter(this.registry, { name, help, labelNames: [] }, () => [
        { labels: {}, value: value(read()) },
      ]);
    counter(
      'warden_events_dropped_total',
      'Events given up for the history (queue overflow, or still queued when shutdown ran out of time).',
      (s) => s.dropped,
    );
    counter(
      'warden_event_store_failures_total',
      'Failed history store writes (each is retried).',
      (s) => s.storeFailures,
    );
    counter(
      'warden_event_bus_failures_total',
      'Events the live bus could not carry (the history still gets them).',
      (s) => s.busFailures,
    );
  }
}
