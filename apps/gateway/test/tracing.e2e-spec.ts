import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { startMockLlm, type MockLlmHandle } from '@warden/mock-llm';
import { shutdownTracing, startTracing } from '@warden/observability';
import OpenAI from 'openai';
import { spawnGateway, type GatewayProcess } from './support/gateway-process';
import { GATEWAY_ANTHROPIC_KEY, GATEWAY_OPENAI_KEY } from './support/harness';
import { lastUpstreamRequest, script, startTestGateway, type TestGateway } from './support/harness';
import { stopProcess } from './support/processes';
import { TEST_PLUGIN_DIR, writePolicyConfig } from './support/test-plugins';
import { waitFor } from './support/wait';

/** Largest disagreement between the clocks of two spans of one trace (see the stream-span check). */
const SPAN_CLOCK_SKEW_NS = 1_000_000;

/** Spans started and not ended yet: every one must end, whatever path the call took. */
class OpenSpans implements SpanProcessor {
  readonly open = new Set<Span>();
  onStart(span: Span): void {
    this.open.add(span);
  }
  onEnd(span: ReadableSpan): void {
    this.open.delete(span as Span);
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

const exporter = new InMemorySpanExporter();
const tracker = new OpenSpans();

/** A client's own trace context, continued by the gateway. */
const CLIENT_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN_ID = '00f067aa0ba902b7';

/**
 * The finished spans of one call: its `warden.call` span (found by call id) and the spans under it (a client SDK
 * may have its own spans around the call in the same trace: the Anthropic SDK does when a provider is registered).
 */
/**
 * A non-streaming chat completion through `client` under the client's span (`flags` of its traceparent: 01 sampled,
 * 00 not), and the span tree of its call.
 */
async function tracedChatCall(
  client: OpenAI,
  flags: '00' | '01',
  words: number,
): Promise<{ call: ReadableSpan; trace: ReadableSpan[] }> {
  const { response } = await client.chat.completions
    .create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: script({ words }) }] },
      { headers: { traceparent: `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-${flags}` } },
    )
    .withResponse();
  return callTree(response.headers.get('x-warden-call-id'));
}

async function callTree(callId: string | null): Promise<{ call: ReadableSpan; trace: ReadableSpan[] }> {
  expect(callId).toEqual(expect.any(String));
  const call = await waitFor(() =>
    exporter
      .getFinishedSpans()
      .find((s) => s.name === 'warden.call' && s.attributes['warden.call_id'] === callId),
  );
  const traceId = call.spanContext().traceId;
  const all = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
  const under = [call];
  for (let i = 0; i < under.length; i++) under.push(...childrenOf(under[i] as ReadableSpan, all));
  return { call, trace: under };
}

function childrenOf(parent: ReadableSpan, spans: ReadableSpan[]): ReadableSpan[] {
  return spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
}

function only(spans: ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((s) => s.name === name);
  expect(found.map((s) => s.name)).toEqual([name]);
  return found[0] as ReadableSpan;
}

/** The upstream request's traceparent, split: trace id, parent span id. */
function upstreamTraceparent(gw: TestGateway): { traceId: string; spanId: string } {
  const header = lastUpstreamRequest(gw).headers.traceparent;
  expect(header).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  const [, traceId, spanId] = String(header).split('-');
  return { traceId: traceId as string, spanId: spanId as string };
}

/** Asserts the common tree: call (SERVER) -> request policy span + upstream (CLIENT) span; returns the children. */
function expectCallTree(
  gw: TestGateway,
  tree: { call: ReadableSpan; trace: ReadableSpan[] },
  expected: { system: string; model: string; route: string },
): ReadableSpan[] {
  const { call, trace } = tree;
  expect(call.kind).toBe(SpanKind.SERVER);
  expect(call.attributes).toMatchObject({
    'gen_ai.system': expected.system,
    'gen_ai.request.model': expected.model,
    'http.route': expected.route,
    'http.response.status_code': 200,
  });
  expect(call.attributes['gen_ai.usage.input_tokens']).toEqual(expect.any(Number));
  expect(call.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
  expect(call.attributes['warden.policy.test-faults.ms']).toEqual(expect.any(Number));
  expect(call.status.code).not.toBe(SpanStatusCode.ERROR);
  const children = childrenOf(call, trace);
  const request = only(children, 'warden.policy.test-faults.request');
  expect(request.attributes['warden.policy.action']).toBe('forward');
  const upstream = only(children, 'warden.upstream');
  expect(upstream.kind).toBe(SpanKind.CLIENT);
  expect(upstream.attributes['http.response.status_code']).toBe(200);
  // The upstream got the upstream span's context, in the call's trace.
  expect(upstreamTraceparent(gw)).toEqual({
    traceId: call.spanContext().traceId,
    spanId: upstream.spanContext().spanId,
  });
  // Every span of the trace sits inside the call span.
  for (const span of trace) {
    expect(span.endTime).toBeDefined();
    expect(span.startTime[0] * 1e9 + span.startTime[1]).toBeGreaterThanOrEqual(
      call.startTime[0] * 1e9 + call.startTime[1],
    );
  }
  return children;
}

/** Asserts the streaming part: a `warden.stream` span under the call, with the policy's one stream span under it. */
function expectStreamSpan(call: ReadableSpan, trace: ReadableSpan[]): ReadableSpan {
  const stream = only(childrenOf(call, trace), 'warden.stream');
  expect(stream.attributes['warden.stream.outcome']).toBe('completed');
  expect(stream.attributes['warden.stream.ttft_ms']).toBeGreaterThan(0);
  expect(stream.attributes['warden.stream.bytes_in']).toBeGreaterThan(0);
  expect(stream.attributes['warden.stream.bytes_out']).toBeGreaterThan(0);
  const policy = only(childrenOf(stream, trace), 'warden.policy.test-faults.stream');
  expect(policy.attributes['warden.policy.events']).toBeGreaterThan(2);
  expect(policy.attributes['warden.policy.interrupted']).toBeUndefined();
  return stream;
}

describe('OpenTelemetry span tree (real SDK, in-memory exporter)', () => {
  let gw: TestGateway;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    const status = startTracing({}, { spanProcessors: [tracker, new SimpleSpanProcessor(exporter)] });
    expect(status.enabled).toBe(true);
    gw = await startTestGateway({
      POLICY_PLUGIN_DIR: TEST_PLUGIN_DIR,
      POLICY_CONFIG: writePolicyConfig([{ type: 'test-faults' }, { type: 'noop' }]),
      UPSTREAM_RETRY_BASE_MS: '1',
      UPSTREAM_RETRY_MAX_DELAY_MS: '5',
    });
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused-loopback', maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'unused-loopback', maxRetries: 0 });
  });
  afterEach(async () => {
    await waitFor(() => (tracker.open.size === 0 ? true : undefined));
  });
  afterAll(async () => {
    await gw.close();
    await shutdownTracing();
    await shutdownTracing();
  });

  it('continues the client trace on /v1/chat/completions and sends upstream its own traceparent', async () => {
    const tree = await tracedChatCall(openai, '01', 5);
    expect(tree.call.spanContext().traceId).toBe(CLIENT_TRACE_ID);
    expect(tree.call.parentSpanContext?.spanId).toBe(CLIENT_SPAN_ID);
    const children = expectCallTree(gw, tree, {
      system: 'openai',
      model: 'gpt-4o',
      route: '/v1/chat/completions',
    });
    // The client's traceparent was replaced, not forwarded.
    expect(upstreamTraceparent(gw).spanId).not.toBe(CLIENT_SPAN_ID);
    expect(only(children, 'warden.policy.test-faults.response').endTime).toBeDefined();
    expect(children.map((s) => s.name)).not.toContain('warden.stream');
  });

  it.each([
    ['link', true],
    ['ignore', false],
  ])(
    'with TRACE_CLIENT_CONTEXT=%s, starts its own sampled trace even under an unsampled client trace',
    async (mode, linked) => {
      const own = await startTestGateway({ TRACE_CLIENT_CONTEXT: mode });
      try {
        const client = new OpenAI({ baseURL: `${own.url}/v1`, apiKey: 'unused-loopback', maxRetries: 0 });
        // Flags 00: the client asks not to be sampled; it cannot switch the gateway's tracing off for its calls.
        const tree = await tracedChatCall(client, '00', 3);
        expect(tree.call.spanContext().traceId).not.toBe(CLIENT_TRACE_ID);
        expect(tree.call.parentSpanContext).toBeUndefined();
        expect(tree.call.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual(
          linked ? [[CLIENT_TRACE_ID, CLIENT_SPAN_ID]] : [],
        );
        expect(upstreamTraceparent(own).traceId).toBe(tree.call.spanContext().traceId);
      } finally {
        await own.close();
      }
    },
  );

  it('records a streaming /v1/chat/completions call with the stream span nested under the call span', async () => {
    const { data, response } = await openai.chat.completions
      .create({
        model: 'gpt-4o-mini',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: script({ words: 12 }) }],
      })
      .withResponse();
    for await (const chunk of data) expect(chunk.object).toBe('chat.completion.chunk');
    const tree = await callTree(response.headers.get('x-warden-call-id'));
    expect(tree.call.parentSpanContext).toBeUndefined();
    expectCallTree(gw, tree, { system: 'openai', model: 'gpt-4o-mini', route: '/v1/chat/completions' });
    const stream = expectStreamSpan(tree.call, tree.trace);
    // Each SDK span anchors its clock to Date.now() (millisecond steps) when it starts, so timestamps of two spans
    // may disagree by up to a millisecond: "ends before" is checked within that.
    expect(stream.endTime[0] * 1e9 + stream.endTime[1]).toBeLessThanOrEqual(
      tree.call.endTime[0] * 1e9 + tree.call.endTime[1] + SPAN_CLOCK_SKEW_NS,
    );
  });

  it('records a non-streaming /v1/messages call', async () => {
    const { response } = await anthropic.messages
      .create({
        model: 'claude-test',
        max_tokens: 50,
        messages: [{ role: 'user', content: script({ words: 5 }) }],
      })
      .withResponse();
    const tree = await callTree(response.headers.get('x-warden-call-id'));
    const children = expectCallTree(gw, tree, {
      system: 'anthropic',
      model: 'claude-test',
      route: '/v1/messages',
    });
    expect(only(children, 'warden.policy.test-faults.response').endTime).toBeDefined();
  });

  it('records a streaming /v1/messages call, converted to an OpenAI upstream', async () => {
    const { data, response } = await anthropic.messages
      .create({
        model: 'gpt-4o',
        max_tokens: 50,
        stream: true,
        messages: [{ role: 'user', content: script({ words: 12 }) }],
      })
      .withResponse();
    for await (const event of data) expect(event.type).toEqual(expect.any(String));
    const tree = await callTree(response.headers.get('x-warden-call-id'));
    expectCallTree(gw, tree, { system: 'openai', model: 'gpt-4o', route: '/v1/messages' });
    expectStreamSpan(tree.call, tree.trace);
  });

  it('shows upstream retries as events of the one upstream span', async () => {
    const { response } = await anthropic.messages
      .create({
        model: 'claude-test',
        max_tokens: 50,
        messages: [
          {
            role: 'user',
            content: script({ words: 3, status: 503, failFirst: 2, scriptId: `trace-retry-${Date.now()}` }),
          },
        ],
      })
      .withResponse();
    const { call, trace } = await callTree(response.headers.get('x-warden-call-id'));
    const upstream = only(childrenOf(call, trace), 'warden.upstream');
    expect(upstream.attributes['http.response.status_code']).toBe(200);
    const retries = upstream.events.filter((e) => e.name === 'warden.upstream.retry');
    expect(retries.map((e) => e.attributes?.['warden.retry.attempt'])).toEqual([2, 3]);
    expect(retries[0]?.attributes?.['warden.retry.reason']).toBe('HTTP 503');
    // Every attempt carried the same upstream span context.
    expect(upstreamTraceparent(gw).spanId).toBe(upstream.spanContext().spanId);
  });

  it('ends every span with an error status when a request policy fails', async () => {
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'claude-test',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'FAIL_REQUEST please' }],
      }),
    });
    expect(res.status).toBe(500);
    const { call, trace } = await callTree(res.headers.get('x-warden-call-id'));
    expect(call.status.code).toBe(SpanStatusCode.ERROR);
    expect(call.attributes).toMatchObject({ 'error.type': 'internal', 'http.response.status_code': 500 });
    const children = childrenOf(call, trace);
    expect(only(children, 'warden.policy.test-faults.request').status.code).toBe(SpanStatusCode.ERROR);
    expect(children.map((s) => s.name)).not.toContain('warden.upstream');
  });

  it('ends the stream and policy spans when the upstream fails mid-stream', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o',
        stream: true,
        messages: [{ role: 'user', content: script({ words: 30, wordsPerChunk: 1, resetAfterChunks: 3 }) }],
      }),
    });
    expect(await res.text()).toContain('error');
    const { call, trace } = await callTree(res.headers.get('x-warden-call-id'));
    expect(call.status.code).toBe(SpanStatusCode.ERROR);
    const stream = only(childrenOf(call, trace), 'warden.stream');
    expect(stream.status.code).toBe(SpanStatusCode.ERROR);
    expect(stream.attributes['warden.stream.outcome']).toBe('failed');
    const policy = only(childrenOf(stream, trace), 'warden.policy.test-faults.stream');
    expect(policy.attributes['warden.policy.interrupted']).toBe(true);
  });

  it('ends the stream and policy spans when the client goes away mid-stream', async () => {
    const controller = new AbortController();
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'claude-test',
        max_tokens: 500,
        stream: true,
        messages: [{ role: 'user', content: script({ words: 200, wordsPerChunk: 1, chunkDelayMs: 20 }) }],
      }),
      signal: controller.signal,
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    controller.abort();
    const { call, trace } = await callTree(res.headers.get('x-warden-call-id'));
    expect(call.attributes['warden.client_aborted']).toBe(true);
    const stream = only(childrenOf(call, trace), 'warden.stream');
    expect(stream.attributes['warden.stream.outcome']).toBe('client_aborted');
    const policy = only(childrenOf(stream, trace), 'warden.policy.test-faults.stream');
    expect(policy.attributes['warden.policy.interrupted']).toBe(true);
  });
});

/** The parts of an OTLP/JSON export request the test reads. */
interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: OtlpAttribute[];
}
interface OtlpExport {
  resourceSpans: Array<{
    resource: { attributes: OtlpAttribute[] };
    scopeSpans: Array<{ spans: OtlpSpan[] }>;
  }>;
}

function attribute(attributes: OtlpAttribute[] | undefined, key: string): unknown {
  const value = attributes?.find((a) => a.key === key)?.value;
  return value?.stringValue ?? value?.intValue ?? value?.boolValue;
}

describe('tracing in the gateway process (OTEL_* variables, OTLP over HTTP)', () => {
  const exports: OtlpExport[] = [];
  let collector: Server;
  let mock: MockLlmHandle;
  let gateway: GatewayProcess;

  const spans = (): Array<OtlpSpan & { service: unknown }> =>
    exports.flatMap((e) =>
      e.resourceSpans.flatMap((r) =>
        r.scopeSpans.flatMap((s) =>
          s.spans.map((span) => ({ ...span, service: attribute(r.resource.attributes, 'service.name') })),
        ),
      ),
    );

  beforeAll(async () => {
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/v1/traces') exports.push(JSON.parse(body) as OtlpExport);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    mock = await startMockLlm();
    gateway = await spawnGateway({
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      DATABASE_URL: 'sqlite::memory:',
      OPENAI_API_KEY: GATEWAY_OPENAI_KEY,
      ANTHROPIC_API_KEY: GATEWAY_ANTHROPIC_KEY,
      UPSTREAM_ANTHROPIC_BASE_URL: mock.url,
      UPSTREAM_OPENAI_BASE_URL: `${mock.url}/v1`,
      POLICY_PLUGIN_DIR: TEST_PLUGIN_DIR,
      POLICY_CONFIG: writePolicyConfig([{ type: 'test-faults' }]),
      OTEL_SERVICE_NAME: 'warden-e2e',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
  }, 120_000);
  afterAll(async () => {
    await stopProcess(gateway.child, 'SIGKILL');
    await mock.close();
    collector.close();
  });

  it('exports the span tree of a streaming call to the collector', async () => {
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'claude-test',
        max_tokens: 50,
        stream: true,
        messages: [{ role: 'user', content: script({ words: 6 }) }],
      }),
    });
    expect(await res.text()).toContain('message_stop');
    const callId = res.headers.get('x-warden-call-id');
    const call = await waitFor(() =>
      spans().find((s) => s.name === 'warden.call' && attribute(s.attributes, 'warden.call_id') === callId),
    );
    expect(call.service).toBe('warden-e2e');
    const tree = await waitFor(() => {
      const inTrace = spans().filter((s) => s.traceId === call.traceId);
      return inTrace.length >= 5 ? inTrace : undefined;
    });
    const byName = new Map(tree.map((s) => [s.name, s]));
    expect([...byName.keys()].sort()).toEqual([
      'warden.call',
      'warden.policy.test-faults.request',
      'warden.policy.test-faults.stream',
      'warden.stream',
      'warden.upstream',
    ]);
    expect(byName.get('warden.upstream')?.parentSpanId).toBe(call.spanId);
    expect(byName.get('warden.stream')?.parentSpanId).toBe(call.spanId);
    expect(byName.get('warden.policy.test-faults.stream')?.parentSpanId).toBe(
      byName.get('warden.stream')?.spanId,
    );
    expect(String(lastUpstreamRequest({ mock } as TestGateway).headers.traceparent)).toContain(
      `-${call.traceId}-${byName.get('warden.upstream')?.spanId}-`,
    );
  });

  it("writes the call's trace and span ids in its JSON log lines", async () => {
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'FAIL_REQUEST now' }] }),
    });
    expect(res.status).toBe(500);
    const callId = res.headers.get('x-warden-call-id') as string;
    const call = await waitFor(() =>
      spans().find((s) => s.name === 'warden.call' && attribute(s.attributes, 'warden.call_id') === callId),
    );
    const line = await waitFor(() =>
      gateway
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { message?: unknown; trace_id?: string; span_id?: string })
        .find((l) => typeof l.message === 'string' && l.message.includes(callId)),
    );
    expect(line).toMatchObject({ trace_id: call.traceId, span_id: call.spanId });
  });
});
