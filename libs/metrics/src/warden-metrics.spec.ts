import { NOOP_CALL_OBSERVER, type CallContext } from '@warden/control-plane';
import type { PublisherStats } from '@warden/events';
import { POLICY_LATENCY_BUCKETS_MS, PolicyTimings } from '@warden/policy';
import {
  findSamples,
  parsePrometheusText,
  sumSamples,
  type PrometheusSample,
} from './exposition/prometheus-text';
import { WardenMetrics, type BreakerState } from './warden-metrics';

async function scrape(metrics: WardenMetrics): Promise<PrometheusSample[]> {
  return parsePrometheusText(await metrics.render());
}

describe('WardenMetrics', () => {
  it('renders the Prometheus text format with HELP and TYPE lines from its own registry', async () => {
    const metrics = new WardenMetrics({ enabled: true, maxModels: 10, runtimeMetrics: false });
    const text = await metrics.render();
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain('# TYPE warden_llm_requests_total counter');
    expect(text).toContain('# TYPE warden_llm_request_duration_seconds histogram');
    expect(text).toContain('# TYPE warden_llm_calls_in_flight gauge');
    expect(text).toMatch(/^warden_llm_calls_in_flight 0$/m);
    // Two instances in one process do not collide (no global registry).
    expect(() => new WardenMetrics({ enabled: true, maxModels: 10 })).not.toThrow();
  });

  it('feeds the call observer into the exposition', async () => {
    const metrics = new WardenMetrics({ enabled: true, maxModels: 10, runtimeMetrics: false });
    const call = { model: 'gpt-4o', endpoint: 'chat', stream: true } as unknown as CallContext;
    metrics.callObserver.callStarted(call);
    let samples = await scrape(metrics);
    expect(sumSamples(samples, 'warden_llm_calls_in_flight')).toBe(1);
    expect(sumSamples(samples, 'warden_llm_active_streams')).toBe(1);
    metrics.callObserver.callEnded(call, 200, 10);
    samples = await scrape(metrics);
    expect(sumSamples(samples, 'warden_llm_calls_in_flight')).toBe(0);
    expect(sumSamples(samples, 'warden_llm_requests_total', { model: 'gpt-4o', status: '200' })).toBe(1);
  });

  it('counts rate-limited requests by route', async () => {
    const metrics = new WardenMetrics({ enabled: true, maxModels: 10, runtimeMetrics: false });
    metrics.rateLimited('/v1/messages');
    metrics.rateLimited('/v1/messages');
    metrics.rateLimited('/v1/chat/completions');
    const samples = await scrape(metrics);
    expect(sumSamples(samples, 'warden_rate_limited_total', { route: '/v1/messages' })).toBe(2);
    expect(sumSamples(samples, 'warden_rate_limited_total', { route: '/v1/chat/completions' })).toBe(1);
  });

  it('reads breaker states from registered sources at scrape time', async () => {
    const metrics = new WardenMetrics({ enabled: true, maxModels: 10, runtimeMetrics: false });
    const states = new Map<string, BreakerState>([
      ['openai', 'closed'],
      ['anthropic', 'open'],
    ]);
    const remove = metrics.registerBreakerSource(() => states);
    metrics.registerBreakerSource(() => [['local', 'half-open']]);
    let samples = await scrape(metrics);
    expect(sumSamples(samples, 'warden_upstream_breaker_state', { provider: 'openai' })).toBe(0);
    expect(sumSamples(samples, 'warden_upstream_breaker_state', { provider: 'anthropic' })).toBe(2);
    expect(sumSamples(samples, 'warden_upstream_breaker_state', { provider: 'local' })).toBe(1);
    states.set('openai', 'half-open');
    remove();
    samples = await scrape(metrics);
    expect(findSamples(samples, 'warden_upstream_breaker_state', { provider: 'openai' })).toEqual([]);
    expect(findSamples(samples, 'warden_upstream_breaker_state').map((s) => s.labels.provider)).toEqual([
      'local',
    ]);
  });

  it('exports the policy engine timings as a histogram in seconds', async () => {
    const timings = new PolicyTimings();
    timings.observe('regex-block', 0.2);
    timings.observe('regex-block', 30);
    timings.observe('judge', 20_000);
    const metrics = new WardenMetrics({
      enabled: true,
      maxModels: 10,
      runtimeMetrics: false,
      sources: { policyLatency: () => timings.snapshot() },
    });
    const samples = await scrape(metrics);
    const regex = { policy: 'regex-block' };
    expect(sumSamples(samples, 'warden_policy_duration_seconds_count', regex)).toBe(2);
    expect(sumSamples(samples, 'warden_policy_duration_seconds_sum', regex)).toBeCloseTo(0.0302);
    expect(sumSamples(samples, 'warden_policy_duration_seconds_bucket', { ...regex, le: '0.00025' })).toBe(1);
    expect(sumSamples(samples, 'warden_policy_duration_seconds_bucket', { ...regex, le: '0.05' })).toBe(2);
    expect(sumSamples(samples, 'warden_policy_duration_seconds_bucket', { policy: 'judge', le: '10' })).toBe(
      0,
    );
    expect(
      sumSamples(samples, 'warden_policy_duration_seconds_bucket', { policy: 'judge', le: '+Inf' }),
    ).toBe(1);
    expect(findSamples(samples, 'warden_policy_duration_seconds_bucket', regex)).toHaveLength(
      POLICY_LATENCY_BUCKETS_MS.length + 1,
    );
  });

  it('reads the event queue figures at scrape time', async () => {
    const stats: PublisherStats = {
      queued: 4,
      queuedBytes: 900,
      dropped: 2,
      storeFailures: 1,
      busFailures: 0,
    };
    const metrics = new WardenMetrics({
      enabled: true,
      maxModels: 10,
      runtimeMetrics: false,
      sources: { eventStats: () => stats },
    });
    let samples = await scrape(metrics);
    expect(sumSamples(samples, 'warden_event_queue_depth')).toBe(4);
    expect(sumSamples(samples, 'warden_event_queue_bytes')).toBe(900);
    expect(sumSamples(samples, 'warden_events_dropped_total')).toBe(2);
    expect(sumSamples(samples, 'warden_event_store_failures_total')).toBe(1);
    expect(findSamples(samples, 'warden_event_bus_failures_total')).toHaveLength(1);
    stats.queued = 0;
    stats.dropped = 5;
    samples = await scrape(metrics);
    expect(sumSamples(samples, 'warden_event_queue_depth')).toBe(0);
    expect(sumSamples(samples, 'warden_events_dropped_total')).toBe(5);
  });

  it('adds the Node runtime metrics unless told not to', async () => {
    const samples = await scrape(new WardenMetrics({ enabled: true, maxModels: 10 }));
    expect(findSamples(samples, 'process_cpu_user_seconds_total')).toHaveLength(1);
    expect(findSamples(samples, 'nodejs_heap_size_used_bytes')).toHaveLength(1);
  });

  it('collects nothing when disabled', async () => {
    const metrics = new WardenMetrics({
      enabled: false,
      maxModels: 10,
      sources: {
        eventStats: () => ({ queued: 1, queuedBytes: 0, dropped: 0, storeFailures: 0, busFailures: 0 }),
      },
    });
    expect(metrics.callObserver).toBe(NOOP_CALL_OBSERVER);
    metrics.rateLimited('/v1/messages');
    metrics.registerBreakerSource(() => [['openai', 'open']])();
    expect(await metrics.render()).toBe('\n');
  });
});
