import type { CallContext, CallEndpoint } from '@warden/control-plane';
import { Registry } from 'prom-client';
import { CallMetrics, LLM_LATENCY_BUCKETS_S } from './call-metrics.observer';
import {
  findSamples,
  parsePrometheusText,
  sumSamples,
  type PrometheusSample,
} from './exposition/prometheus-text';

/** The fields of a call the observer reads; the rest of the context plays no part here. */
function call(
  model: string,
  endpoint: CallEndpoint = 'chat',
  stream = false,
  provider = 'openai',
): CallContext {
  return { model, endpoint, stream, route: { provider: { name: provider } } } as unknown as CallContext;
}

async function scrape(registry: Registry): Promise<PrometheusSample[]> {
  return parsePrometheusText(await registry.metrics());
}

describe('CallMetrics', () => {
  let registry: Registry;
  let metrics: CallMetrics;

  beforeEach(() => {
    registry = new Registry();
    metrics = new CallMetrics(registry, 3);
  });

  it('counts calls by route, status and model, with their durations', async () => {
    const a = call('gpt-4o');
    metrics.callStarted(a);
    metrics.callEnded(a, 200, 1500);
    const b = call('gpt-4o');
    metrics.callStarted(b);
    metrics.callEnded(b, 200, 20);
    const c = call('claude-x', 'messages');
    metrics.callStarted(c);
    metrics.callEnded(c, 429, 3);

    const samples = await scrape(registry);
    const chat = { route: '/v1/chat/completions', status: '200', model: 'gpt-4o' };
    expect(sumSamples(samples, 'warden_llm_requests_total', chat)).toBe(2);
    expect(sumSamples(samples, 'warden_llm_requests_total', { route: '/v1/messages', status: '429' })).toBe(
      1,
    );
    expect(sumSamples(samples, 'warden_llm_request_duration_seconds_count', chat)).toBe(2);
    expect(sumSamples(samples, 'warden_llm_request_duration_seconds_sum', chat)).toBeCloseTo(1.52);
    // 20 ms falls in the 0.025 s bucket, 1.5 s in 2.5 s; buckets are cumulative.
    const bucket = (le: string) =>
      sumSamples(samples, 'warden_llm_request_duration_seconds_bucket', { ...chat, le });
    expect(bucket('0.01')).toBe(0);
    expect(bucket('0.025')).toBe(1);
    expect(bucket('1')).toBe(1);
    expect(bucket('2.5')).toBe(2);
    expect(bucket('+Inf')).toBe(2);
    expect(
      findSamples(samples, 'warden_llm_request_duration_seconds_bucket', chat).map((s) => s.labels.le),
    ).toEqual([...LLM_LATENCY_BUCKETS_S.map(String), '+Inf']);
  });

  it('tracks calls and streams in flight', () => {
    const plain = call('m');
    const streamed = call('m', 'messages', true);
    metrics.callStarted(plain);
    metrics.callStarted(streamed);
    expect([metrics.inFlight, metrics.activeStreams]).toEqual([2, 1]);
    metrics.callEnded(streamed, 200, 1);
    expect([metrics.inFlight, metrics.activeStreams]).toEqual([1, 0]);
    metrics.callEnded(plain, 500, 1);
    expect([metrics.inFlight, metrics.activeStreams]).toEqual([0, 0]);
  });

  it('labels models beyond the cap, and a model named other, as other', async () => {
    for (const model of ['a', 'b', 'c', 'd', 'e', 'other', 'a']) {
      const c = call(model);
      metrics.callStarted(c);
      metrics.callEnded(c, 200, 1);
      metrics.usage(c, 10, 1);
    }
    const samples = await scrape(registry);
    const models = findSamples(samples, 'warden_llm_requests_total').map((s) => s.labels.model);
    expect(new Set(models)).toEqual(new Set(['a', 'b', 'c', 'other']));
    expect(sumSamples(samples, 'warden_llm_requests_total', { model: 'other' })).toBe(3);
    expect(sumSamples(samples, 'warden_llm_requests_total', { model: 'a' })).toBe(2);
    expect(sumSamples(samples, 'warden_llm_tokens_total', { model: 'other', direction: 'input' })).toBe(30);
    // Each label set appears once: no duplicate series for `other`.
    const keys = findSamples(samples, 'warden_llm_tokens_total').map((s) => JSON.stringify(s.labels));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('sums token usage per model and direction, skipping what is missing', async () => {
    const c = call('gpt-4o');
    metrics.usage(c, 12, 7);
    metrics.usage(c, 3, undefined);
    metrics.usage(c, undefined, 5);
    const samples = await scrape(registry);
    expect(sumSamples(samples, 'warden_llm_tokens_total', { model: 'gpt-4o', direction: 'input' })).toBe(15);
    expect(sumSamples(samples, 'warden_llm_tokens_total', { model: 'gpt-4o', direction: 'output' })).toBe(12);
  });

  it('records time to first token by model and upstream latency by provider', async () => {
    metrics.firstToken(call('claude-x', 'messages', true), 250);
    metrics.upstreamResponded(call('claude-x', 'messages', true, 'anthropic'), 200, 40);
    metrics.upstreamResponded(call('gpt-4o', 'chat', false, 'openai'), 500, 4000);
    const samples = await scrape(registry);
    expect(sumSamples(samples, 'warden_llm_time_to_first_token_seconds_count', { model: 'claude-x' })).toBe(
      1,
    );
    expect(sumSamples(samples, 'warden_llm_time_to_first_token_seconds_sum', { model: 'claude-x' })).toBe(
      0.25,
    );
    expect(sumSamples(samples, 'warden_upstream_response_seconds_count', { provider: 'anthropic' })).toBe(1);
    expect(
      sumSamples(samples, 'warden_upstream_response_seconds_bucket', { provider: 'openai', le: '2.5' }),
    ).toBe(0);
    expect(sumSamples(samples, 'warden_upstream_response_seconds_sum', { provider: 'openai' })).toBe(4);
  });

  it('counts policy decisions by policy and action, and policy events by policy and event', async () => {
    const c = call('m');
    metrics.policyDecision(c, 'no-secrets', 'reject');
    metrics.policyDecision(c, 'no-secrets', 'reject');
    metrics.policyDecision(c, 'canned', 'respond');
    metrics.policyEvent(c, 'policy.no-secrets.blocked');
    metrics.policyEvent(c, 'policy.tool.judge.allowed');
    metrics.policyEvent(c, 'policy.tool.judge.allowed');
    metrics.policyEvent(c, 'malformed');
    const samples = await scrape(registry);
    const decisions = (policy: string, action: string) =>
      sumSamples(samples, 'warden_policy_decisions_total', { policy, action });
    const events = (policy: string, event: string) =>
      sumSamples(samples, 'warden_policy_events_total', { policy, event });
    expect(decisions('no-secrets', 'reject')).toBe(2);
    expect(decisions('canned', 'respond')).toBe(1);
    // Events are a family of their own: summing decisions never counts a call twice.
    expect(sumSamples(samples, 'warden_policy_decisions_total', {})).toBe(3);
    expect(events('no-secrets', 'blocked')).toBe(1);
    expect(events('tool.judge', 'allowed')).toBe(2);
    expect(events('other', 'other')).toBe(1);
  });
});
