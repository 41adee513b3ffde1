import { once } from 'node:events';
import { networkInterfaces } from 'node:os';
import type { MockRequestRecord } from '@warden/mock-llm';
import { script, sseFrames, startTestGateway, type TestGateway } from './support/harness';

function streamRequest(
  format: 'openai' | 'anthropic',
  model: string,
  mock: Record<string, unknown>,
): RequestInit & { path: string } {
  const messages = [{ role: 'user', content: script(mock) }];
  const body =
    format === 'openai'
      ? { model, stream: true, messages }
      : { model, stream: true, max_tokens: 1000, messages };
  return {
    path: format === 'openai' ? '/v1/chat/completions' : '/v1/messages',
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
  };
}

async function streamText(
  gw: TestGateway,
  format: 'openai' | 'anthropic',
  model: string,
  mock: Record<string, unknown>,
) {
  const { path, ...init } = streamRequest(format, model, mock);
  const res = await fetch(`${gw.url}${path}`, init);
  expect(res.status).toBe(200);
  return sseFrames(await res.text());
}

describe('streaming failures end cleanly in the client protocol', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw.close();
  });

  // Each case: client format, model (same-format passthrough and both conversion directions).
  const routes = [
    ['anthropic', 'claude-test'],
    ['anthropic', 'gpt-test'],
    ['openai', 'gpt-test'],
    ['openai', 'claude-test'],
  ] as const;

  it.each(routes)(
    '%s client, %s: a connection reset mid-stream becomes the protocol error event',
    async (format, model) => {
      const frames = await streamText(gw, format, model, { words: 50, resetAfterChunks: 4 });
      const last = frames.at(-1);
      if (format === 'anthropic') {
        expect(last?.event).toBe('error');
        expect(JSON.parse(last?.data ?? '{}')).toMatchObject({ type: 'error', error: { type: 'api_error' } });
      } else {
        expect(last?.data).toBe('[DONE]');
        expect(JSON.parse(frames.at(-2)?.data ?? '{}')).toMatchObject({ error: { type: 'server_error' } });
      }
    },
  );

  it.each(routes)(
    '%s client, %s: malformed upstream SSE becomes a protocol error, never garbage',
    async (format, model) => {
      const frames = await streamText(gw, format, model, { words: 20, malformedAfterChunks: 3 });
      for (const frame of frames) {
        if (frame.data !== '[DONE]') expect(() => JSON.parse(frame.data) as unknown).not.toThrow();
      }
      const errorFrame = format === 'anthropic' ? frames.at(-1) : frames.at(-2);
      expect(errorFrame?.data).toMatch(/invalid upstream stream/);
    },
  );

  it.each(routes)(
    '%s client, %s: an in-band upstream error reaches the client in its protocol',
    async (format, model) => {
      const frames = await streamText(gw, format, model, { words: 20, errorAfterChunks: 3 });
      if (format === 'anthropic') {
        expect(frames.at(-1)?.event).toBe('error');
      } else {
        expect(frames.at(-1)?.data).toBe('[DONE]');
        expect(JSON.parse(frames.at(-2)?.data ?? '{}')).toHaveProperty('error');
      }
    },
  );

  it.each(routes)(
    '%s client, %s: a client disconnect aborts the upstream request at once',
    async (format, model) => {
      const { path, ...init } = streamRequest(format, model, { words: 500, chunkDelayMs: 20 });
      const controller = new AbortController();
      const aborted = once(gw.mock.events, 'aborted') as Promise<[MockRequestRecord]>;
      const res = await fetch(`${gw.url}${path}`, { ...init, signal: controller.signal });
      const reader = res.body?.getReader();
      await reader?.read();
      controller.abort();
      const [record] = await aborted;
      expect(record.path).toMatch(/\/v1\/(messages|chat\/completions)/);
    },
  );

  it('times out a stream whose first token never comes, with an in-protocol error', async () => {
    const slow = await startTestGateway({ FIRST_TOKEN_TIMEOUT_MS: '200' }, gw.mock);
    try {
      const { path, ...init } = streamRequest('openai', 'gpt-test', { ttftMs: 10_000 });
      const res = await fetch(`${slow.url}${path}`, init);
      const text = await res.text();
      // The mock sends headers only with the first byte, so this is a 504 before any SSE, in the OpenAI shape.
      if (res.status === 200) expect(text).toMatch(/upstream_timeout|timeout/);
      else expect(res.status).toBe(504);
    } finally {
      await slow.close();
    }
  });
});

describe('loopback-only mode without client keys', () => {
  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal)?.address;

  (external === undefined ? it.skip : it)(
    'refuses a non-loopback client with 403 in the client shape',
    async () => {
      const gw = await startTestGateway({ HOST: '0.0.0.0' });
      try {
        const port = new URL(gw.url).port;
        const body = JSON.stringify({
          model: 'mock-small',
          max_tokens: 5,
          messages: [{ role: 'user', content: 'x' }],
        });
        const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body };
        const remote = await fetch(`http://${external}:${port}/v1/messages`, init);
        expect(remote.status).toBe(403);
        expect(await remote.json()).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
        expect((await fetch(`${gw.url}/v1/messages`, init)).status).toBe(200);
      } finally {
        await gw.close();
      }
    },
  );
});
