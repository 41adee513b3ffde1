import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import {
  GATEWAY_ANTHROPIC_KEY,
  GATEWAY_OPENAI_KEY,
  lastUpstreamRequest,
  script,
  sseFrames,
  startTestGateway,
  type TestGateway,
} from './support/harness';

describe('Anthropic client through the gateway (@anthropic-ai/sdk)', () => {
  let gw: TestGateway;
  let client: Anthropic;

  beforeAll(async () => {
    gw = await startTestGateway();
    client = new Anthropic({ baseURL: gw.url, apiKey: 'unused-loopback', maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
  });

  describe('same format (claude-* on an Anthropic upstream)', () => {
    it('forwards every body field and provider header untouched', async () => {
      const body = {
        model: 'claude-test-sonnet',
        max_tokens: 2048,
        system: [{ type: 'text', text: 'You are careful.', cache_control: { type: 'ephemeral' } }],
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'text',
                text: `Look ${script({ text: 'Seen.' })}`,
                cache_control: { type: 'ephemeral' },
              },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            ],
          },
        ],
        thinking: { type: 'enabled', budget_tokens: 1024 },
        tool_choice: { type: 'auto', disable_parallel_tool_use: true },
        tools: [{ name: 'bash', description: 'run', input_schema: { type: 'object' } }],
        metadata: { user_id: 'u-1' },
        a_field_from_the_future: { nested: [1, 2, 3] },
      };
      const res = await fetch(`${gw.url}/v1/messages?beta=true`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'anthropic-version': '2023-06-01',
          'anthropic-beta': 'interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14',
          'x-claude-code-session-id': 'session-42',
          'x-app': 'cli',
        },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-warden-call-id')).toMatch(/^[0-9a-f-]{36}$/);
      const upstream = lastUpstreamRequest(gw);
      expect(upstream.body).toEqual(body);
      expect(upstream.query).toBe('?beta=true');
      expect(upstream.headers['anthropic-beta']).toBe(
        'interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14',
      );
      expect(upstream.headers['x-claude-code-session-id']).toBe('session-42');
      expect(upstream.headers['x-app']).toBe('cli');
      expect(upstream.headers['x-api-key']).toBe(GATEWAY_ANTHROPIC_KEY);
    });

    it('streams thinking, signature, text and usage byte-identical to the upstream', async () => {
      const request = {
        model: 'claude-test-opus',
        max_tokens: 4000,
        stream: true,
        messages: [
          { role: 'user', content: script({ thinking: 'Consider the options carefully.', words: 9 }) },
        ],
      };
      const init = {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify(request),
      };
      const viaGateway = await (await fetch(`${gw.url}/v1/messages`, init)).text();
      const direct = await (await fetch(`${gw.mock.url}/v1/messages`, init)).text();
      const normalise = (text: string): string => text.replace(/msg_mock_\d+/g, 'msg_mock_N');
      expect(normalise(viaGateway)).toBe(normalise(direct));
      const types = sseFrames(viaGateway).map((f) => f.event);
      expect(types).toContain('ping');
      expect(viaGateway).toContain('signature_delta');
    });

    it('is read by the SDK stream helper with thinking and signature intact', async () => {
      const stream = client.messages.stream({
        model: 'claude-test-sonnet',
        max_tokens: 4000,
        thinking: { type: 'enabled', budget_tokens: 2000 },
        messages: [{ role: 'user', content: script({ thinking: 'Deep thought.', text: 'Answer: 42.' }) }],
      });
      const message = await stream.finalMessage();
      const thinking = message.content.find((b) => b.type === 'thinking');
      expect(thinking?.type === 'thinking' && thinking.thinking).toBe('Deep thought.');
      expect(thinking?.type === 'thinking' && thinking.signature.length > 0).toBe(true);
      const text = message.content.find((b) => b.type === 'text');
      expect(text?.type === 'text' && text.text).toBe('Answer: 42.');
      expect(message.stop_reason).toBe('end_turn');
      expect(message.usage.output_tokens).toBeGreaterThan(0);
    });

    it('streams parallel tool calls', async () => {
      const tools = [
        { name: 'bash', arguments: { command: 'rm -rf ./build' } },
        { name: 'write_file', arguments: { path: 'a.txt', content: 'line1\nline2 "quoted"' } },
      ];
      const message = await client.messages
        .stream({
          model: 'claude-test-sonnet',
          max_tokens: 1000,
          messages: [{ role: 'user', content: script({ text: 'Doing it.', tools }) }],
          tools: tools.map((t) => ({ name: t.name, input_schema: { type: 'object' as const } })),
        })
        .finalMessage();
      expect(message.stop_reason).toBe('tool_use');
      const uses = message.content.filter((b) => b.type === 'tool_use');
      expect(uses.map((u) => [u.name, u.input])).toEqual(tools.map((t) => [t.name, t.arguments]));
    });

    it('forwards count_tokens', async () => {
      const res = await client.messages.countTokens({
        model: 'claude-test-sonnet',
        messages: [{ role: 'user', content: 'How many tokens is this?' }],
      });
      expect(res.input_tokens).toBeGreaterThan(0);
      expect(lastUpstreamRequest(gw).path).toBe('/v1/messages/count_tokens');
    });

    it('passes an upstream 529 through with its Anthropic error body and retry-after', async () => {
      const res = await fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({
          model: 'claude-test-sonnet',
          max_tokens: 10,
          messages: [
            { role: 'user', content: script({ status: 529, errorType: 'overloaded_error', retryAfter: 9 }) },
          ],
        }),
      });
      expect(res.status).toBe(529);
      expect(res.headers.get('retry-after')).toBe('9');
      expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    });

    it('lists the routable models in the Anthropic shape', async () => {
      const page = await client.models.list();
      const ids = page.data.map((m) => m.id);
      expect(ids).toEqual(expect.arrayContaining(['claude-sonnet-4-5', 'mock-small']));
      expect(page.data[0]?.type).toBe('model');
    });
  });

  describe('cross format (gpt-* on an OpenAI upstream)', () => {
    it('converts a non-streaming call both ways', async () => {
      const message = await client.messages.create({
        model: 'gpt-4o',
        max_tokens: 500,
        system: 'Be brief.',
        stop_sequences: ['STOP'],
        messages: [{ role: 'user', content: `Hi ${script({ text: 'Brief reply.' })}` }],
      });
      expect(message.content).toEqual([{ type: 'text', text: 'Brief reply.' }]);
      expect(message.stop_reason).toBe('end_turn');
      expect(message.usage.input_tokens).toBeGreaterThan(0);
      const upstream = lastUpstreamRequest(gw);
      expect(upstream.path).toBe('/v1/chat/completions');
      expect(upstream.headers.authorization).toBe(`Bearer ${GATEWAY_OPENAI_KEY}`);
      expect(upstream.body).toMatchObject({
        model: 'gpt-4o',
        messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user' }],
        stop: ['STOP'],
        max_completion_tokens: 500,
      });
    });

    it('streams converted text and tool calls as a valid Anthropic stream', async () => {
      const tools = [
        { name: 'bash', arguments: { command: 'ls' } },
        { name: 'read', arguments: { path: 'README.md', lines: [1, 20] } },
      ];
      const stream = client.messages.stream({
        model: 'gpt-4o-mini',
        max_tokens: 500,
        messages: [{ role: 'user', content: script({ text: 'Calling tools now.', tools }) }],
        tools: tools.map((t) => ({ name: t.name, input_schema: { type: 'object' as const } })),
      });
      const message = await stream.finalMessage();
      expect(message.stop_reason).toBe('tool_use');
      expect(message.content[0]).toEqual({ type: 'text', text: 'Calling tools now.' });
      const uses = message.content.filter((b) => b.type === 'tool_use');
      expect(uses.map((u) => [u.name, u.input])).toEqual(tools.map((t) => [t.name, t.arguments]));
      expect(message.usage.output_tokens).toBeGreaterThan(0);
    });

    it('converts an upstream OpenAI 429 into the Anthropic shape with retry-after', async () => {
      const res = await fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({
          model: 'gpt-4o',
          max_tokens: 10,
          messages: [
            { role: 'user', content: script({ status: 429, retryAfter: 5, errorMessage: 'quota' }) },
          ],
        }),
      });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toEqual({
        type: 'error',
        error: { type: 'rate_limit_error', message: 'quota' },
      });
    });

    it('rejects count_tokens for a model not served over the Anthropic API', async () => {
      const error = await client.messages
        .countTokens({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    });
  });
});

describe('an explicit provider prefix (anthropic/claude-…) on a same-format call', () => {
  let gw: TestGateway;
  let upstream: Server;
  const bodies: string[] = [];

  beforeAll(async () => {
    // An upstream that records the exact bytes it gets (the mock parses them) and answers one message.
    upstream = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString());
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'msg_raw',
            type: 'message',
            role: 'assistant',
            model: 'claude-x',
            content: [{ type: 'text', text: 'ok' }],
            stop_reason: 'end_turn',
            stop_sequence: null,
            usage: { input_tokens: 1, output_tokens: 1 },
          }),
        );
      });
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const { port } = upstream.address() as AddressInfo;
    gw = await startTestGateway({ UPSTREAM_ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}` });
  });
  afterAll(async () => {
    await gw.close();
    upstream.close();
  });

  it('sends the client bytes with only the model replaced: numbers and spacing as the client wrote them', async () => {
    const sent =
      '{ "model" : "anthropic/claude-x", "max_tokens": 5,\n' +
      '  "messages": [{"role": "user", "content": "x"}], "weird": {"a": 1.0, "b": 12345678901234567890} }';
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: sent,
    });
    expect(res.status).toBe(200);
    expect(bodies.at(-1)).toBe(sent.replace('"anthropic/claude-x"', '"claude-x"'));
  });
});

describe('count_tokens against an upstream that never answers', () => {
  let gw: TestGateway;
  let upstream: Server;

  beforeAll(async () => {
    upstream = createServer(() => {
      // Never answers.
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const { port } = upstream.address() as AddressInfo;
    gw = await startTestGateway({
      UPSTREAM_ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`,
      REQUEST_TIMEOUT_MS: '300',
      FIRST_TOKEN_TIMEOUT_MS: '60000',
    });
  });
  afterAll(async () => {
    await gw.close();
    upstream.closeAllConnections();
    upstream.close();
  });

  it('is bounded by REQUEST_TIMEOUT_MS, as a call is, and answers in the Anthropic error shape', async () => {
    const began = performance.now();
    const res = await fetch(`${gw.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-test', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(504);
    expect(((await res.json()) as { type: string }).type).toBe('error');
    expect(performance.now() - began).toBeLessThan(10_000);
  });
});
