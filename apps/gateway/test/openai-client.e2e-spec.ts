import OpenAI from 'openai';
import {
  GATEWAY_ANTHROPIC_KEY,
  GATEWAY_OPENAI_KEY,
  lastUpstreamRequest,
  script,
  startTestGateway,
  type TestGateway,
} from './support/harness';

describe('OpenAI client through the gateway (openai@6 SDK)', () => {
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    gw = await startTestGateway();
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused-loopback', maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
  });

  describe('same format (gpt-* on an OpenAI upstream)', () => {
    it('answers a non-streaming call and forwards the body unchanged with the gateway key', async () => {
      const body = {
        model: 'gpt-4o',
        messages: [{ role: 'user' as const, content: `Say hi ${script({ text: 'Hi there, friend.' })}` }],
        temperature: 0.3,
        seed: 7,
        metadata: { purpose: 'test' },
      };
      const res = await client.chat.completions.create(body);
      expect(res.choices[0]?.message.content).toBe('Hi there, friend.');
      expect(res.choices[0]?.finish_reason).toBe('stop');
      expect(res.usage?.completion_tokens).toBeGreaterThan(0);
      const upstream = lastUpstreamRequest(gw);
      expect(upstream.path).toBe('/v1/chat/completions');
      expect(upstream.body).toEqual(body);
      expect(upstream.headers.authorization).toBe(`Bearer ${GATEWAY_OPENAI_KEY}`);
    });

    it('streams text with usage and ends with [DONE]', async () => {
      const stream = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: script({ words: 40 }) }],
      });
      let text = '';
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        usage = chunk.usage ?? usage;
      }
      expect(text.split(' ')).toHaveLength(40);
      expect(finish).toBe('stop');
      expect(usage?.completion_tokens).toBeGreaterThanOrEqual(40);
    });

    it('streams parallel tool calls whose arguments reassemble exactly', async () => {
      const tools = [
        { name: 'bash', arguments: { command: 'ls -la /tmp', timeout: 30 } },
        { name: 'read_file', arguments: { path: '/etc/hosts' } },
      ];
      const stream = await client.chat.completions.create({
        model: 'gpt-4o',
        stream: true,
        messages: [{ role: 'user', content: script({ tools }) }],
        tools: tools.map((t) => ({
          type: 'function' as const,
          function: { name: t.name, parameters: { type: 'object' } },
        })),
      });
      const calls = new Map<number, { id?: string; name?: string; args: string }>();
      let finish: string | null = null;
      for await (const chunk of stream) {
        for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) {
          const call = calls.get(tc.index) ?? { args: '' };
          call.id ??= tc.id;
          call.name ??= tc.function?.name;
          call.args += tc.function?.arguments ?? '';
          calls.set(tc.index, call);
        }
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      expect(finish).toBe('tool_calls');
      expect([...calls.values()].map((c) => [c.name, JSON.parse(c.args) as unknown])).toEqual(
        tools.map((t) => [t.name, t.arguments]),
      );
      expect([...calls.values()].every((c) => typeof c.id === 'string')).toBe(true);
    });

    it.each([
      [400, 'invalid_request_error'],
      [401, 'authentication_error'],
      [404, 'not_found_error'],
      [500, 'api_error'],
      [503, 'overloaded_error'],
    ])('passes an upstream %i through with its status and body', async (status, errorType) => {
      const error = await client.chat.completions
        .create({ model: 'gpt-4o', messages: [{ role: 'user', content: script({ status, errorType }) }] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(status);
    });

    it('keeps retry-after on an upstream 429', async () => {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gpt-4o',
          messages: [
            { role: 'user', content: script({ status: 429, retryAfter: 17, errorMessage: 'slow down' }) },
          ],
        }),
      });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('17');
      const body = (await res.json()) as { error: { message: string } };
      expect(body.error.message).toBe('slow down');
    });

    it('lists the routable models in the OpenAI shape, and retrieves one', async () => {
      const models = [];
      for await (const model of client.models.list()) models.push(model);
      expect(models.map((m) => m.id)).toEqual(expect.arrayContaining(['gpt-4o', 'mock-small']));
      for (const model of models) {
        expect(model).toEqual({
          id: model.id,
          object: 'model',
          created: expect.any(Number) as number,
          owned_by: expect.any(String) as string,
        });
      }
      const one = await client.models.retrieve('mock-small');
      expect(one).toMatchObject({ id: 'mock-small', object: 'model', owned_by: 'mock' });
      const missing = await client.models.retrieve('no-such-model').catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    });
  });

  describe('cross format (claude-* on an Anthropic upstream)', () => {
    it('converts a non-streaming call both ways', async () => {
      const res = await client.chat.completions.create({
        model: 'claude-test-sonnet',
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: `Hello ${script({ text: 'Converted reply.' })}` },
        ],
        stop: ['END'],
        max_completion_tokens: 300,
      });
      expect(res.choices[0]?.message.content).toBe('Converted reply.');
      expect(res.choices[0]?.finish_reason).toBe('stop');
      // The Anthropic message's id as a chat completion id, as when streamed.
      expect(res.id).toMatch(/^chatcmpl-msg_/);
      expect(res.usage?.prompt_tokens).toBeGreaterThan(0);
      const upstream = lastUpstreamRequest(gw);
      expect(upstream.path).toBe('/v1/messages');
      expect(upstream.headers['x-api-key']).toBe(GATEWAY_ANTHROPIC_KEY);
      expect(upstream.headers['anthropic-version']).toBe('2023-06-01');
      expect(upstream.body).toMatchObject({
        model: 'claude-test-sonnet',
        system: 'You are terse.',
        max_tokens: 300,
        stop_sequences: ['END'],
      });
    });

    it('streams converted text, thinking dropped, usage reported', async () => {
      const stream = await client.chat.completions.create({
        model: 'claude-test-haiku',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: script({ words: 12, thinking: 'Let me think about it.' }) }],
      });
      let text = '';
      let usage: OpenAI.CompletionUsage | undefined;
      let finish: string | null = null;
      const ids = new Set<string>();
      for await (const chunk of stream) {
        ids.add(chunk.id);
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        usage = chunk.usage ?? usage;
      }
      expect(text.split(' ')).toHaveLength(12);
      expect([...ids]).toEqual([expect.stringMatching(/^chatcmpl-msg_/)]);
      expect(text).not.toContain('think');
      expect(finish).toBe('stop');
      expect(usage?.completion_tokens).toBeGreaterThanOrEqual(12);
    });

    it('streams converted parallel tool calls', async () => {
      const tools = [
        { name: 'bash', arguments: { command: 'echo "quoted \\" text"' } },
        { name: 'grep', arguments: { pattern: 'a.*b', path: '.' } },
      ];
      const stream = await client.chat.completions.create({
        model: 'claude-test-sonnet',
        stream: true,
        messages: [{ role: 'user', content: script({ text: 'Running tools.', tools }) }],
        tools: tools.map((t) => ({
          type: 'function' as const,
          function: { name: t.name, parameters: { type: 'object' } },
        })),
      });
      const args = new Map<number, string>();
      const names = new Map<number, string>();
      let text = '';
      let finish: string | null = null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) {
          if (tc.function?.name !== undefined) names.set(tc.index, tc.function.name);
          args.set(tc.index, (args.get(tc.index) ?? '') + (tc.function?.arguments ?? ''));
        }
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      expect(text).toBe('Running tools.');
      expect(finish).toBe('tool_calls');
      expect([...names.values()]).toEqual(['bash', 'grep']);
      expect([...args.values()].map((a) => JSON.parse(a) as unknown)).toEqual(tools.map((t) => t.arguments));
    });

    it('converts an upstream Anthropic error into the OpenAI shape, keeping the status', async () => {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'claude-test-sonnet',
          messages: [
            { role: 'user', content: script({ status: 529, errorType: 'overloaded_error', retryAfter: 3 }) },
          ],
        }),
      });
      expect(res.status).toBe(529);
      expect(res.headers.get('retry-after')).toBe('3');
      const body = (await res.json()) as { error: { type: string; code: string } };
      expect(body.error).toMatchObject({ type: 'server_error', code: 'overloaded' });
    });

    it('rejects what cannot be converted with a 400 naming the field', async () => {
      const error = await client.chat.completions
        .create({ model: 'claude-test-sonnet', n: 2, messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('n');
    });
  });

  describe('upstream base URLs with a query string (Azure OpenAI api-version)', () => {
    let azure: TestGateway;

    beforeAll(async () => {
      const mock = gw.mock;
      azure = await startTestGateway(
        {
          UPSTREAM_OPENAI_BASE_URL: `${mock.url}/v1?api-version=2024-10-21`,
          UPSTREAM_ANTHROPIC_BASE_URL: `${mock.url}/?tenant=a%20b`,
        },
        mock,
      );
    });
    afterAll(async () => {
      await azure.close();
    });

    it('sends the base URL parameters with every call, before the client query', async () => {
      const openai = new OpenAI({ baseURL: `${azure.url}/v1`, apiKey: 'unused-loopback', maxRetries: 0 });
      await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
      expect(lastUpstreamRequest(azure)).toMatchObject({
        path: '/v1/chat/completions',
        query: '?api-version=2024-10-21',
      });
      const res = await fetch(`${azure.url}/v1/messages?beta=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({
          model: 'claude-test',
          max_tokens: 10,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      });
      expect(res.status).toBe(200);
      expect(lastUpstreamRequest(azure)).toMatchObject({
        path: '/v1/messages',
        query: '?tenant=a%20b&beta=true',
      });
    });
  });
});
