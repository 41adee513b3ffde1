import Anthropic from '@anthropic-ai/sdk';
import { findSamples, parsePrometheusText, sumSamples, type PrometheusSample } from '@warden/metrics';
import OpenAI from 'openai';
import { script, startTestGateway, type TestGateway } from './support/harness';
import { writePolicyConfig } from './support/test-plugins';
import { waitFor } from './support/wait';

const CHAT = '/v1/chat/completions';
const MESSAGES = '/v1/messages';

async function scrape(gw: TestGateway, headers: Record<string, string> = {}): Promise<PrometheusSample[]> {
  const res = await fetch(`${gw.url}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

/** Token counters of `model` as [input, output]. */
function tokens(samples: PrometheusSample[], model: string): [number, number] {
  return [
    sumSamples(samples, 'warden_llm_tokens_total', { model, direction: 'input' }),
    sumSamples(samples, 'warden_llm_tokens_total', { model, direction: 'output' }),
  ];
}

describe('Prometheus metrics (GET /metrics)', () => {
  describe('open endpoint, calls on both APIs', () => {
    let gw: TestGateway;
    let openai: OpenAI;
    let anthropic: Anthropic;
    /** Usage each model's call returned to the SDK client: [input, output]. */
    const usage = new Map<string, [number, number]>();

    beforeAll(async () => {
      gw = await startTestGateway({
        POLICY_CONFIG: writePolicyConfig([
          { type: 'regex-block', options: { patterns: ['FORBIDDEN'], scopes: ['request'] } },
        ]),
      });
      openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'loopback', maxRetries: 0 });
      anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'loopback', maxRetries: 0 });

      const whole = await openai.chat.completions.create({
        model: 'gpt-metrics-whole',
        messages: [{ role: 'user', content: script({ text: 'One two three.' }) }],
      });
      usage.set('gpt-metrics-whole', [
        whole.usage?.prompt_tokens ?? -1,
        whole.usage?.completion_tokens ?? -1,
      ]);

      const stream = await openai.chat.completions.create({
        model: 'gpt-metrics-stream',
        stream: true,
        stream_options: { include_usage: true },
        messages: [
          { role: 'user', content: script({ words: 12, usage: { input_tokens: 31, output_tokens: 17 } }) },
        ],
      });
      let streamUsage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) streamUsage = chunk.usage ?? streamUsage;
      usage.set('gpt-metrics-stream', [
        streamUsage?.prompt_tokens ?? -1,
        streamUsage?.completion_tokens ?? -1,
      ]);

      const message = await anthropic.messages.create({
        model: 'claude-metrics-whole',
        max_tokens: 100,
        messages: [{ role: 'user', content: script({ text: 'Hello there.' }) }],
      });
      usage.set('claude-metrics-whole', [message.usage.input_tokens, message.usage.output_tokens]);

      const streamed = await anthropic.messages
        .stream({
          model: 'claude-metrics-stream',
          max_tokens: 100,
          messages: [
            { role: 'user', content: script({ words: 9, usage: { input_tokens: 44, output_tokens: 9 } }) },
          ],
        })
        .finalMessage();
      usage.set('claude-metrics-stream', [streamed.usage.input_tokens, streamed.usage.output_tokens]);

      await expect(
        openai.chat.completions.create({
          model: 'gpt-metrics-whole',
          messages: [{ role: 'user', content: script({ status: 400, errorMessage: 'bad thing' }) }],
        }),
      ).rejects.toMatchObject({ status: 400 });

      const blocked = await anthropic.messages.create({
        model: 'claude-metrics-blocked',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'Please say FORBIDDEN' }],
      });
      expect(blocked.content[0]?.type).toBe('text');
    });
    afterAll(async () => {
      await gw.close();
    });

    it('counts requests by route, status and model, with their latency', async () => {
      const samples = await scrape(gw);
      const requests = (labels: Record<string, string>) =>
        sumSamples(samples, 'warden_llm_requests_total', labels);
      expect(requests({ route: CHAT, status: '200', model: 'gpt-metrics-whole' })).toBe(1);
      expect(requests({ route: CHAT, status: '400', model: 'gpt-metrics-whole' })).toBe(1);
      expect(requests({ route: CHAT, status: '200', model: 'gpt-metrics-stream' })).toBe(1);
      expect(requests({ route: MESSAGES, status: '200', model: 'claude-metrics-whole' })).toBe(1);
      expect(requests({ route: MESSAGES, status: '200', model: 'claude-metrics-stream' })).toBe(1);
      expect(requests({ route: MESSAGES, status: '200', model: 'claude-metrics-blocked' })).toBe(1);
      expect(requests({})).toBe(6);
      expect(sumSamples(samples, 'warden_llm_request_duration_seconds_count')).toBe(6);
      expect(
        sumSamples(samples, 'warden_llm_request_duration_seconds_bucket', {
          route: CHAT,
          status: '200',
          model: 'gpt-metrics-stream',
          le: '+Inf',
        }),
      ).toBe(1);
      // Five calls reached the upstream (the blocked one was answered by the policy).
      expect(sumSamples(samples, 'warden_upstream_response_seconds_count')).toBe(5);
    });

    it('records time to first token for streamed calls only', async () => {
      const samples = await scrape(gw);
      const ttft = (model: string) =>
        sumSamples(samples, 'warden_llm_time_to_first_token_seconds_count', { model });
      expect(ttft('gpt-metrics-stream')).toBe(1);
      expect(ttft('claude-metrics-stream')).toBe(1);
      expect(ttft('gpt-metrics-whole')).toBe(0);
      expect(ttft('claude-metrics-whole')).toBe(0);
    });

    it('sums tokens per model equal to the usage the upstream returned', async () => {
      expect(usage.get('gpt-metrics-stream')).toEqual([31, 17]);
      expect(usage.get('claude-metrics-stream')).toEqual([44, 9]);
      // Usage is read after the response is on its way: wait until the last call's tokens are in.
      const samples = await waitFor(async () => {
        const s = await scrape(gw);
        return tokens(s, 'claude-metrics-stream')[1] > 0 ? s : undefined;
      });
      for (const [model, expected] of usage) {
        expect(expected.every((n) => n > 0)).toBe(true);
        expect(tokens(samples, model)).toEqual(expected);
      }
    });

    it('is back to zero calls and streams in flight', async () => {
      const samples = await scrape(gw);
      expect(findSamples(samples, 'warden_llm_calls_in_flight')).toEqual([
        { name: 'warden_llm_calls_in_flight', labels: {}, value: 0 },
      ]);
      expect(sumSamples(samples, 'warden_llm_active_streams')).toBe(0);
    });

    it('shows a stream in flight while it runs', async () => {
      const stream = await openai.chat.completions.create({
        model: 'gpt-metrics-slow',
        stream: true,
        messages: [{ role: 'user', content: script({ words: 6, chunkDelayMs: 150 }) }],
      });
      const chunks = stream[Symbol.asyncIterator]();
      await chunks.next();
      let samples = await scrape(gw);
      expect(sumSamples(samples, 'warden_llm_calls_in_flight')).toBe(1);
      expect(sumSamples(samples, 'warden_llm_active_streams')).toBe(1);
      while (!(await chunks.next()).done);
      samples = await waitFor(async () => {
        const s = await scrape(gw);
        return sumSamples(s, 'warden_llm_calls_in_flight') === 0 ? s : undefined;
      });
      expect(sumSamples(samples, 'warden_llm_active_streams')).toBe(0);
      expect(
        sumSamples(samples, 'warden_llm_requests_total', { model: 'gpt-metrics-slow', status: '200' }),
      ).toBe(1);
    });

    it('counts policy decisions and times each policy', async () => {
      const samples = await scrape(gw);
      expect(
        sumSamples(samples, 'warden_policy_events_total', { policy: 'regex-block', event: 'blocked' }),
      ).toBe(1);
      expect(
        sumSamples(samples, 'warden_policy_decisions_total', { policy: 'regex-block', action: 'respond' }),
      ).toBe(1);
      // Every call so far ran the request hook once.
      expect(
        sumSamples(samples, 'warden_policy_duration_seconds_count', { policy: 'regex-block' }),
      ).toBeGreaterThanOrEqual(6);
      expect(
        findSamples(samples, 'warden_policy_duration_seconds_bucket', { policy: 'regex-block', le: '+Inf' }),
      ).toHaveLength(1);
    });

    it('reports the event queue, the features fed by other parts, and the Node runtime', async () => {
      const samples = await scrape(gw);
      expect(findSamples(samples, 'warden_event_queue_depth')).toHaveLength(1);
      expect(findSamples(samples, 'warden_event_queue_bytes')).toHaveLength(1);
      expect(findSamples(samples, 'warden_events_dropped_total')).toEqual([
        { name: 'warden_events_dropped_total', labels: {}, value: 0 },
      ]);
      expect(findSamples(samples, 'warden_event_store_failures_total')).toHaveLength(1);
      expect(findSamples(samples, 'process_cpu_user_seconds_total')).toHaveLength(1);
      expect(findSamples(samples, 'process_resident_memory_bytes')).toHaveLength(1);
      expect(findSamples(samples, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      expect(text).toContain('# TYPE warden_rate_limited_total counter');
      expect(text).toContain('# TYPE warden_upstream_breaker_state gauge');
    });

    it('records a call whose client left before the answer as 499', async () => {
      const controller = new AbortController();
      const pending = fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gpt-metrics-abort',
          messages: [{ role: 'user', content: script({ ttftMs: 5_000 }) }],
        }),
        signal: controller.signal,
      });
      await waitFor(async () =>
        sumSamples(await scrape(gw), 'warden_llm_calls_in_flight') === 1 ? true : undefined,
      );
      controller.abort();
      await expect(pending).rejects.toThrow();
      const samples = await waitFor(async () => {
        const s = await scrape(gw);
        return sumSamples(s, 'warden_llm_calls_in_flight') === 0 ? s : undefined;
      });
      const statuses = findSamples(samples, 'warden_llm_requests_total', { model: 'gpt-metrics-abort' });
      expect(statuses.map((s) => [s.labels.status, s.value])).toEqual([['499', 1]]);
    });
  });

  describe('METRICS_TOKEN', () => {
    let gw: TestGateway;
    const token = 'metrics-scrape-token-0123456789';

    beforeAll(async () => {
      gw = await startTestGateway({ METRICS_TOKEN: token });
    });
    afterAll(async () => {
      await gw.close();
    });

    it('refuses a scrape without the token or with a wrong one', async () => {
      const missing = await fetch(`${gw.url}/metrics`);
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const body = await missing.text();
      expect(body).not.toContain('warden_llm_requests_total');
      expect(body).not.toContain(token);
      const wrong = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${token}x` } });
      expect(wrong.status).toBe(401);
      const otherScheme = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Basic ${token}` } });
      expect(otherScheme.status).toBe(401);
    });

    it('serves the metrics with the token', async () => {
      const samples = await scrape(gw, { authorization: `Bearer ${token}` });
      expect(findSamples(samples, 'warden_llm_calls_in_flight')).toHaveLength(1);
    });
  });

  describe('METRICS_ENABLED=false', () => {
    let gw: TestGateway;

    beforeAll(async () => {
      gw = await startTestGateway({ METRICS_ENABLED: 'false' });
    });
    afterAll(async () => {
      await gw.close();
    });

    it('answers 404 and still serves calls', async () => {
      const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'loopback', maxRetries: 0 });
      const res = await openai.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: script({ text: 'Still here.' }) }],
      });
      expect(res.choices[0]?.message.content).toBe('Still here.');
      const metrics = await fetch(`${gw.url}/metrics`);
      expect(metrics.status).toBe(404);
    });
  });
});
