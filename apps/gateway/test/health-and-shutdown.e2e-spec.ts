import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockLlm, type MockLlmHandle } from '@warden/mock-llm';
import { GracefulShutdown } from '../src/lifecycle/graceful-shutdown.service';
import { ServingState } from '../src/lifecycle/serving-state';
import { LlmRoutes } from '../src/llm/llm-routes';
import { script, sseFrames, startTestGateway } from './support/harness';
import { spawnGateway } from './support/gateway-process';
import { stopProcess } from './support/processes';
import { waitFor } from './support/wait';

interface HealthBody {
  status: string;
  checks: Record<string, { status: string } & Record<string, unknown>>;
}

async function health(url: string, path: string): Promise<{ status: number; body: HealthBody }> {
  const res = await fetch(`${url}${path}`);
  return { status: res.status, body: (await res.json()) as HealthBody };
}

async function post(url: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
  });
}

describe('health probes', () => {
  it('reports live, ready and every dependency when all is well', async () => {
    const gw = await startTestGateway();
    try {
      expect(await health(gw.url, '/health/live')).toEqual({ status: 200, body: { status: 'ok' } });
      const ready = await health(gw.url, '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({
        status: 'ok',
        checks: { serving: { status: 'up', phase: 'serving' }, database: { status: 'up', required: false } },
      });
      const all = await health(gw.url, '/health');
      expect(all.status).toBe(200);
      expect(all.body.status).toBe('ok');
      expect(Object.keys(all.body.checks).sort()).toEqual(
        expect.arrayContaining(['bus', 'database', 'events', 'serving']),
      );
      expect(all.body.checks.events).toMatchObject({
        status: 'up',
        queued: expect.any(Number) as unknown,
        queuedBytes: expect.any(Number) as unknown,
        capacity: 10_000,
        capacityBytes: 256 * 1024 * 1024,
        fill: 0,
      });
      expect(all.body.checks.bus).toMatchObject({ status: 'up', kind: 'in-process' });
    } finally {
      await gw.close();
    }
  });

  it('is degraded but ready without an optional database, down and not ready when it is required', async () => {
    const unreachable = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' };
    const optional = await startTestGateway(unreachable);
    const required = await startTestGateway({ ...unreachable, DATABASE_REQUIRED: 'true' }, optional.mock);
    try {
      const readyOptional = await health(optional.url, '/health/ready');
      expect(readyOptional.status).toBe(200);
      expect(readyOptional.body).toMatchObject({
        status: 'degraded',
        checks: { database: { status: 'degraded', reachable: false } },
      });
      expect((await health(optional.url, '/health')).body.status).toBe('degraded');

      const readyRequired = await health(required.url, '/health/ready');
      expect(readyRequired.status).toBe(503);
      expect(readyRequired.body).toMatchObject({
        status: 'down',
        checks: { database: { status: 'down', required: true } },
      });
      const all = await health(required.url, '/health');
      expect(all.status).toBe(503);
      expect(all.body.status).toBe('down');
      expect((await fetch(`${required.url}/health/live`)).status).toBe(200);
    } finally {
      await required.close();
      await optional.close();
    }
  });

  it('reports an open upstream circuit as degraded, in /health and /metrics', async () => {
    const gw = await startTestGateway({ BREAKER_CONSECUTIVE_FAILURES: '2', UPSTREAM_MAX_RETRIES: '0' });
    try {
      const failing = { model: 'gpt-test', messages: [{ role: 'user', content: script({ status: 500 }) }] };
      expect((await post(gw.url, '/v1/chat/completions', failing)).status).toBe(500);
      expect((await health(gw.url, '/health')).body.checks.upstreams).toMatchObject({
        status: 'up',
        providers: [{ provider: 'openai', state: 'closed', consecutiveFailures: 1 }],
      });
      expect((await post(gw.url, '/v1/chat/completions', failing)).status).toBe(500);
      const all = await health(gw.url, '/health');
      expect(all.status).toBe(200);
      expect(all.body.status).toBe('degraded');
      expect(all.body.checks.upstreams).toMatchObject({ status: 'degraded', impaired: ['openai'] });
      // Readiness ignores upstreams: taking the replica out would not bring the provider back.
      expect((await health(gw.url, '/health/ready')).status).toBe(200);
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      expect(metrics).toMatch(/^warden_upstream_breaker_state\{provider="openai"\} 2$/m);
    } finally {
      await gw.close();
    }
  });

  it('turns readiness off and refuses new requests while draining, in each API error shape', async () => {
    const gw = await startTestGateway();
    try {
      // The gate alone (the listening socket stays open): what a request on an already open connection meets.
      gw.app.get(ServingState).beginDrain();
      const ready = await health(gw.url, '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({
        status: 'down',
        checks: { serving: { status: 'down', phase: 'draining' } },
      });
      expect((await fetch(`${gw.url}/health/live`)).status).toBe(200);

      const openai = await post(gw.url, '/v1/chat/completions', { model: 'gpt-test', messages: [] });
      expect(openai.status).toBe(503);
      expect(openai.headers.get('retry-after')).toBe('1');
      expect(openai.headers.get('connection')).toBe('close');
      expect(await openai.json()).toMatchObject({
        error: {
          type: 'server_error',
          code: 'service_unavailable',
          message: expect.stringContaining('shutting down') as unknown,
        },
      });
      const anthropic = await post(gw.url, '/v1/messages', { model: 'claude-test', messages: [] });
      expect(anthropic.status).toBe(503);
      expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
      expect((await fetch(`${gw.url}/api/policy`)).status).toBe(503);
      expect(gw.mock.requests).toHaveLength(0);
    } finally {
      await gw.close();
    }
  });

  it('lets a call in flight finish, then stops listening', async () => {
    const gw = await startTestGateway({ SHUTDOWN_GRACE_MS: '10000' });
    try {
      const slow = post(gw.url, '/v1/chat/completions', {
        model: 'gpt-test',
        messages: [{ role: 'user', content: script({ words: 3, ttftMs: 1000 }) }],
      });
      await waitFor(() => (gw.mock.requests.length > 0 ? true : undefined));
      const report = await gw.app.get(GracefulShutdown).drain('test drain');
      const answered = await slow;
      expect(answered.status).toBe(200);
      expect(await answered.json()).toMatchObject({ object: 'chat.completion' });
      expect(report).toMatchObject({ inFlightAtStart: 1, aborted: 0 });
      expect(report.durationMs).toBeGreaterThanOrEqual(500);
      await expect(fetch(`${gw.url}/health/live`)).rejects.toThrow();
    } finally {
      await gw.close();
    }
  });

  it('waits for a request whose body is still uploading when the drain begins', async () => {
    const gw = await startTestGateway({ SHUTDOWN_GRACE_MS: '10000' });
    try {
      const body = JSON.stringify({
        model: 'gpt-test',
        messages: [{ role: 'user', content: script({ words: 2 }) }],
      });
      const { request } = await import('node:http');
      const req = request(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      const answered = new Promise<{ status: number; text: string }>((resolve, reject) => {
        req.on('response', (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
      });
      req.write(body.slice(0, 10));
      req.flushHeaders();
      const routes = gw.app.get(LlmRoutes);
      await waitFor(() => (routes.inFlight === 1 ? true : undefined));
      const drain = gw.app.get(GracefulShutdown).drain('test drain');
      await new Promise((r) => setTimeout(r, 200));
      req.end(body.slice(10));
      const { status, text } = await answered;
      expect(status).toBe(200);
      expect(JSON.parse(text)).toMatchObject({ object: 'chat.completion' });
      expect(await drain).toMatchObject({ inFlightAtStart: 1, aborted: 0 });
    } finally {
      await gw.close();
    }
  });

  it('ends calls still running when the grace period is over: in-band in a stream, 503 before headers', async () => {
    const gw = await startTestGateway({ SHUTDOWN_GRACE_MS: '300' });
    try {
      const res = await post(gw.url, '/v1/messages', {
        model: 'claude-test',
        max_tokens: 100,
        stream: true,
        messages: [{ role: 'user', content: script({ words: 50, chunkDelayMs: 200 }) }],
      });
      expect(res.status).toBe(200);
      // A second call still waiting for the upstream's headers when the grace period ends.
      const waiting = post(gw.url, '/v1/chat/completions', {
        model: 'gpt-test',
        messages: [{ role: 'user', content: script({ words: 3, ttftMs: 5000 }) }],
      });
      await waitFor(() => (gw.mock.requests.length === 2 ? true : undefined));
      const report = await gw.app.get(GracefulShutdown).drain('test drain');
      expect(report).toMatchObject({ inFlightAtStart: 2, aborted: 2 });
      const refused = await waiting;
      expect(refused.status).toBe(503);
      expect(await refused.json()).toMatchObject({ error: { code: 'service_unavailable' } });
      const frames = sseFrames(await res.text());
      const last = frames.at(-1);
      expect(last?.event).toBe('error');
      expect(JSON.parse(last?.data ?? '{}')).toMatchObject({
        type: 'error',
        error: { type: 'overloaded_error', message: expect.stringContaining('shutting down') as unknown },
      });
    } finally {
      await gw.close();
    }
  });
});

/** Starts a streamed Anthropic call of `words` chunks, 150 ms apart; resolves once the first bytes arrived. */
async function openStream(url: string, words: number): Promise<{ callId: string; rest(): Promise<string> }> {
  const res = await post(url, '/v1/messages', {
    model: 'claude-test',
    max_tokens: 1000,
    stream: true,
    messages: [{ role: 'user', content: script({ words, chunkDelayMs: 150 }) }],
  });
  expect(res.status).toBe(200);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = decoder.decode((await reader.read()).value, { stream: true });
  return {
    callId: res.headers.get('x-warden-call-id') ?? '',
    rest: async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return text + decoder.decode();
        text += decoder.decode(value, { stream: true });
      }
    },
  };
}

describe('SIGTERM during a live stream', () => {
  let mock: MockLlmHandle;
  let dir: string;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    mock = await startMockLlm();
    dir = mkdtempSync(join(tmpdir(), 'warden-shutdown-'));
  });

  afterAll(async () => {
    await stopProcess(child, 'SIGKILL');
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets a short stream finish, ends one outlasting the grace period in-band, stores both and exits 0', async () => {
    const database = `sqlite:${join(dir, 'history.db')}`;
    const gateway = await spawnGateway({
      DATABASE_URL: database,
      UPSTREAM_ANTHROPIC_BASE_URL: mock.url,
      ANTHROPIC_API_KEY: 'sk-ant-shutdown-test',
      SHUTDOWN_GRACE_MS: '4000',
    });
    child = gateway.child;
    const exited = once(gateway.child, 'exit');
    // 12 chunks 150 ms apart end well within the grace period; 200 chunks would take 30 s.
    const short = await openStream(gateway.url, 12);
    const long = await openStream(gateway.url, 200);
    const signalledAt = Date.now();
    gateway.child.kill('SIGTERM');
    // New calls are refused at once (the listening socket is closed), while the streams go on.
    await waitFor(async () => {
      const probe = await fetch(`${gateway.url}/health/ready`).catch(() => undefined);
      return probe === undefined || probe.status === 503 ? true : undefined;
    }, 10_000);

    const shortFrames = sseFrames(await short.rest());
    expect(shortFrames.at(-1)?.event).toBe('message_stop');
    expect(shortFrames.filter((f) => f.event === 'content_block_delta').length).toBeGreaterThanOrEqual(12);
    const longFrames = sseFrames(await long.rest());
    expect(longFrames.at(-1)?.event).toBe('error');
    expect(JSON.parse(longFrames.at(-1)?.data ?? '{}')).toMatchObject({
      error: { type: 'overloaded_error', message: expect.stringContaining('shutting down') as unknown },
    });

    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(15_000);
    child = undefined;

    // The history written during shutdown is there for the next process.
    const next = await startTestGateway({ DATABASE_URL: database }, mock);
    try {
      const stored = async (id: string): Promise<{ status: string; types: string[] }> => {
        const res = await fetch(`${next.url}/api/calls/${id}`);
        const view = (await res.json()) as { call: { status: string }; events: Array<{ type: string }> };
        return { status: view.call.status, types: view.events.map((e) => e.type) };
      };
      const completed = await stored(short.callId);
      expect(completed.status).toBe('completed');
      expect(completed.types).toEqual(
        expect.arrayContaining(['call.started', 'response.completed', 'call.completed']),
      );
      const cut = await stored(long.callId);
      expect(cut.status).toBe('failed');
      expect(cut.types).toEqual(
        expect.arrayContaining(['call.started', 'response.completed', 'call.failed']),
      );
    } finally {
      await next.close();
    }
  }, 150_000);
});
