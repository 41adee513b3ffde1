import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ControlPlaneService } from '@warden/control-plane';
import { UpstreamHealth, type UpstreamProviderHealth } from '@warden/upstream';
import { script, sseFrames, startTestGateway, type TestGateway } from './support/harness';

/** Polling period of {@link waitFor} (it awaits a condition, it is not a sleep standing for one). */
const POLL_MS = 20;
/** Longest wait for a condition. */
const WAIT_LIMIT_MS = 10_000;

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const until = Date.now() + WAIT_LIMIT_MS;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

let ids = 0;
/** A script id unique to this run, so the mock counts each test's requests apart. */
function uniqueId(name: string): string {
  return `${name}-${process.pid}-${++ids}`;
}

/** How many requests carrying `scriptId` reached the mock upstream. */
function attemptsSeen(gw: TestGateway, scriptId: string): number {
  return gw.mock.requests.filter((r) => JSON.stringify(r.body ?? '').includes(scriptId)).length;
}

function health(gw: TestGateway, provider: string): UpstreamProviderHealth | undefined {
  return gw.app
    .get(UpstreamHealth)
    .snapshot()
    .find((h) => h.provider === provider);
}

function openaiPost(gw: TestGateway, model: string, mock: Record<string, unknown>, extra: object = {}) {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: `hi ${script(mock)}` }], ...extra }),
  });
}

function anthropicPost(gw: TestGateway, model: string, mock: Record<string, unknown>, extra: object = {}) {
  return fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({
      model,
      max_tokens: 50,
      messages: [{ role: 'user', content: `hi ${script(mock)}` }],
      ...extra,
    }),
  });
}

describe('upstream retries', () => {
  let gw: TestGateway;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    gw = await startTestGateway({
      UPSTREAM_RETRY_BASE_MS: '20',
      UPSTREAM_RETRY_MAX_DELAY_MS: '50',
      UPSTREAM_RETRY_AFTER_MAX_MS: '2000',
      // These tests fail on purpose many times; the breaker has its own tests below.
      BREAKER_CONSECUTIVE_FAILURES: '100',
    });
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'loopback', maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'loopback', maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
  });

  it.each([502, 503])('turns two transient %i answers into a success (OpenAI client)', async (status) => {
    const scriptId = uniqueId(`s${status}`);
    const completion = await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: script({ status, failFirst: 2, scriptId, text: 'third time lucky' }) },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe('third time lucky');
    expect(attemptsSeen(gw, scriptId)).toBe(3);
  });

  it('turns two transient 529 overloaded answers into a success (Anthropic client)', async () => {
    const scriptId = uniqueId('s529');
    const message = await anthropic.messages.create({
      model: 'claude-test-sonnet',
      max_tokens: 50,
      messages: [
        {
          role: 'user',
          content: script({
            status: 529,
            errorType: 'overloaded_error',
            failFirst: 2,
            scriptId,
            text: 'ok now',
          }),
        },
      ],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'ok now' }]);
    expect(attemptsSeen(gw, scriptId)).toBe(3);
  });

  it('retries a connection reset before any response, across formats', async () => {
    const scriptId = uniqueId('reset');
    const res = await anthropicPost(gw, 'gpt-4o', {
      resetAfterChunks: 0,
      failFirst: 1,
      scriptId,
      text: 'back',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ type: 'message', content: [{ type: 'text', text: 'back' }] });
    expect(attemptsSeen(gw, scriptId)).toBe(2);
  });

  it('retries a refused connection, then answers 502 in the client shape', async () => {
    const down = await startTestGateway({
      UPSTREAM_OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      UPSTREAM_RETRY_BASE_MS: '10',
      UPSTREAM_RETRY_MAX_DELAY_MS: '20',
    });
    try {
      const res = await openaiPost(down, 'gpt-4o', {});
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({
        error: { type: 'server_error', code: 'upstream_unreachable' },
      });
      expect(health(down, 'openai')).toMatchObject({ retries: 2, consecutiveFailures: 3, state: 'closed' });
    } finally {
      await down.close();
    }
  });

  it('does not retry a failed TLS handshake: one attempt, then 502 naming TLS', async () => {
    // A plain HTTP server behind an https:// base URL: the handshake fails the same way on every attempt.
    let connections = 0;
    const plain = createServer((_req, res) => res.end('not TLS'));
    plain.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const { port } = plain.address() as AddressInfo;
    const tls = await startTestGateway({
      UPSTREAM_OPENAI_BASE_URL: `https://127.0.0.1:${port}/v1`,
      UPSTREAM_RETRY_BASE_MS: '10',
      UPSTREAM_RETRY_MAX_DELAY_MS: '20',
    });
    try {
      const res = await openaiPost(tls, 'gpt-4o', {});
      expect(res.status).toBe(502);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('upstream_unreachable');
      expect(body.error.message).toMatch(/TLS with openai failed/);
      expect(connections).toBe(1);
      expect(health(tls, 'openai')).toMatchObject({ retries: 0, consecutiveFailures: 1 });
    } finally {
      await tls.close();
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
  });

  it('gives up after UPSTREAM_MAX_RETRIES and passes the last answer through', async () => {
    const scriptId = uniqueId('always503');
    const res = await openaiPost(gw, 'gpt-4o', {
      status: 503,
      errorMessage: 'still down',
      failFirst: 10,
      scriptId,
    });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { message: 'still down' } });
    expect(attemptsSeen(gw, scriptId)).toBe(3);
  });

  it('honours a short retry-after on a 429', async () => {
    const scriptId = uniqueId('429short');
    const started = performance.now();
    const res = await openaiPost(gw, 'gpt-4o', { status: 429, retryAfter: 1, failFirst: 1, scriptId });
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(attemptsSeen(gw, scriptId)).toBe(2);
  });

  it('passes a 429 through unchanged when its retry-after is beyond the bound', async () => {
    const scriptId = uniqueId('429long');
    const res = await anthropicPost(gw, 'claude-test', {
      status: 429,
      retryAfter: 30,
      errorMessage: 'quota',
      failFirst: 1,
      scriptId,
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(await res.json()).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'quota' },
    });
    expect(attemptsSeen(gw, scriptId)).toBe(1);
  });

  it.each([400, 500])('does not retry an upstream %i', async (status) => {
    const scriptId = uniqueId(`no${status}`);
    const res = await openaiPost(gw, 'gpt-4o', { status, failFirst: 1, scriptId });
    expect(res.status).toBe(status);
    expect(attemptsSeen(gw, scriptId)).toBe(1);
  });

  it.each([
    ['openai', 'gpt-4o', { errorAfterChunks: 2 }],
    ['anthropic', 'claude-test', { resetAfterChunks: 2 }],
  ] as const)('never retries once a %s stream started (%s)', async (format, model, fault) => {
    const scriptId = uniqueId(`stream-${format}`);
    const mock = { words: 20, failFirst: 1, scriptId, ...fault };
    const res =
      format === 'openai'
        ? await openaiPost(gw, model, mock, { stream: true })
        : await anthropicPost(gw, model, mock, { stream: true });
    expect(res.status).toBe(200);
    const frames = sseFrames(await res.text());
    if (format === 'anthropic') expect(frames.at(-1)?.event).toBe('error');
    else expect(frames.some((f) => f.data.includes('"error"'))).toBe(true);
    expect(attemptsSeen(gw, scriptId)).toBe(1);
  });

  it('stops retrying at once when the client leaves', async () => {
    const scriptId = uniqueId('leave');
    const controller = new AbortController();
    const res = fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o',
        // Each retry would wait 2 s (within UPSTREAM_RETRY_AFTER_MAX_MS): the client leaves during the first wait.
        messages: [{ role: 'user', content: script({ status: 503, retryAfter: 2, failFirst: 5, scriptId }) }],
      }),
      signal: controller.signal,
    }).catch((e: unknown) => e);
    const controlPlane = gw.app.get(ControlPlaneService);
    await waitFor(() => attemptsSeen(gw, scriptId) === 1, 'the first attempt');
    const left = performance.now();
    controller.abort();
    expect(await res).toMatchObject({ name: 'AbortError' });
    await waitFor(() => controlPlane.inFlight === 0, 'the abandoned call to end');
    expect(performance.now() - left).toBeLessThan(1000);
    expect(attemptsSeen(gw, scriptId)).toBe(1);
  });
});

describe('circuit breaker per provider', () => {
  const HALF_OPEN_AFTER_MS = 1500;
  let gw: TestGateway;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    gw = await startTestGateway({
      UPSTREAM_MAX_RETRIES: '0',
      BREAKER_CONSECUTIVE_FAILURES: '3',
      BREAKER_HALF_OPEN_AFTER_MS: String(HALF_OPEN_AFTER_MS),
    });
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'loopback', maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'loopback', maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('opens after the threshold: 503 + retry-after in the OpenAI shape, without calling the upstream', async () => {
    for (let i = 0; i < 3; i++) {
      const error = await openai.chat.completions
        .create({ model: 'gpt-4o', messages: [{ role: 'user', content: script({ status: 500 }) }] })
        .catch((e: unknown) => e);
      expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(500);
    }
    expect(health(gw, 'openai')).toMatchObject({ state: 'open', consecutiveFailures: 3, opened: 1 });
    const before = gw.mock.stats.requests;
    const error = await openai.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(503);
    expect(apiError.type).toBe('server_error');
    expect(apiError.code).toBe('service_unavailable');
    const retryAfter = Number(apiError.headers?.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(HALF_OPEN_AFTER_MS / 1000));
    // An Anthropic client calling a model of the same provider gets its own shape.
    const crossed = await anthropicPost(gw, 'gpt-4o', {});
    expect(crossed.status).toBe(503);
    expect(crossed.headers.get('retry-after')).not.toBeNull();
    expect(await crossed.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(gw.mock.stats.requests).toBe(before);
    // Other providers are unaffected.
    expect((await anthropicPost(gw, 'claude-test', {})).status).toBe(200);
  });

  it('half-opens after BREAKER_HALF_OPEN_AFTER_MS and closes when the probe succeeds', async () => {
    await waitFor(() => health(gw, 'openai')?.state === 'half-open', 'the half-open state');
    const completion = await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: script({ text: 'probe ok' }) }],
    });
    expect(completion.choices[0]?.message.content).toBe('probe ok');
    expect(health(gw, 'openai')).toMatchObject({
      state: 'closed',
      consecutiveFailures: 0,
      halfOpened: 1,
      closed: 1,
    });
  });

  it('opens on connection failures too, in the Anthropic shape, and reopens when the probe fails', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await anthropicPost(gw, 'claude-test', { resetAfterChunks: 0 });
      expect(res.status).toBe(502);
    }
    const error = await anthropic.messages
      .create({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    const apiError = error as InstanceType<typeof Anthropic.APIError>;
    expect(apiError.status).toBe(503);
    expect(apiError.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(Number(apiError.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);

    await waitFor(() => health(gw, 'anthropic')?.state === 'half-open', 'the half-open state');
    expect((await anthropicPost(gw, 'claude-test', { status: 503 })).status).toBe(503);
    expect(health(gw, 'anthropic')).toMatchObject({ state: 'open', opened: 2, halfOpened: 1 });
    expect((await anthropicPost(gw, 'claude-test', {})).status).toBe(503);
  });

  it('does not count client errors (4xx, 429) as provider failures', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await openaiPost(gw, 'gpt-4o', { status: i % 2 === 0 ? 400 : 429 });
      expect(res.status).toBe(i % 2 === 0 ? 400 : 429);
    }
    expect(health(gw, 'openai')).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });
});

describe('MAX_RESPONSE_BYTES', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ MAX_RESPONSE_BYTES: '1024' });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('answers 502 in the OpenAI shape for an oversized non-streaming response, without retrying', async () => {
    const scriptId = uniqueId('big-openai');
    const res = await openaiPost(gw, 'gpt-4o', { words: 1000, scriptId });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { message: string } };
    expect(body).toMatchObject({ error: { type: 'server_error', code: 'upstream_bad_response' } });
    expect(body.error.message).toContain('larger than the limit of 1024 bytes');
    expect(attemptsSeen(gw, scriptId)).toBe(1);
  });

  it('answers 502 in the Anthropic shape, converted or not', async () => {
    for (const model of ['claude-test', 'gpt-4o']) {
      const res = await anthropicPost(gw, model, { words: 1000 });
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({
        type: 'error',
        error: { type: 'api_error', message: expect.stringContaining('1024 bytes') as unknown },
      });
    }
  });

  it('keeps the answer of a response within the limit, and does not apply to streams', async () => {
    expect((await openaiPost(gw, 'gpt-4o', { words: 5 })).status).toBe(200);
    const res = await anthropicPost(gw, 'claude-test', { words: 1000 }, { stream: true });
    expect(res.status).toBe(200);
    expect(sseFrames(await res.text()).at(-1)?.event).toBe('message_stop');
  });
});
