import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { mockScriptTag, startMockLlm, type MockLlmHandle } from '@warden/mock-llm';
import { closeJudgeAgents, JudgeClient, parseJudgeJson, type JudgeClientConfig } from './judge-client';
import { JudgeError } from './judge.error';

const SECRET = 'sk-test-secret-key-123';

function expectJudgeError(fn: () => unknown, code: JudgeError['code']): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(JudgeError);
    expect((error as JudgeError).code).toBe(code);
    return;
  }
  throw new Error('expected a JudgeError');
}

describe('parseJudgeJson', () => {
  /** Prose that cannot open an object of its own. */
  const prose = fc.string({ maxLength: 40 }).filter((s) => !s.includes('{'));
  const object = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 });
  const canonical = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

  it('finds a JSON object embedded in arbitrary prose', () => {
    fc.assert(
      fc.property(prose, object, prose, (before, value, after) => {
        expect(parseJudgeJson(`${before}${JSON.stringify(value)}${after}`)).toEqual(canonical(value));
      }),
    );
  });

  it('finds a fenced, pretty-printed JSON object with prose around', () => {
    fc.assert(
      fc.property(
        prose,
        object,
        prose,
        fc.constantFrom('```json', '```', '```JSON'),
        (before, value, after, fence) => {
          const text = `${before}\n${fence}\n${JSON.stringify(value, null, 2)}\n\`\`\`\n${after}`;
          expect(parseJudgeJson(text)).toEqual(canonical(value));
        },
      ),
    );
  });

  it('handles the usual shapes', () => {
    expect(parseJudgeJson('{"probability": 0.9, "explanation": "x"}')).toEqual({
      probability: 0.9,
      explanation: 'x',
    });
    expect(parseJudgeJson('```json\n{"probability": 0.1}\n```')).toEqual({ probability: 0.1 });
    expect(parseJudgeJson('Sure! Here is my verdict: {"a": "}{"} Hope it helps.')).toEqual({ a: '}{' });
    expect(parseJudgeJson('{"a": "quote \\" and brace }"}')).toEqual({ a: 'quote " and brace }' });
    expect(parseJudgeJson('Use {braces} freely. {"ok": true}')).toEqual({ ok: true });
    expect(parseJudgeJson('{ unbalanced {"ok": {"nested": [1, {"x": 2}]}}')).toEqual({
      ok: { nested: [1, { x: 2 }] },
    });
    expect(parseJudgeJson('first {"n": 1} then {"n": 2}')).toEqual({ n: 1 });
  });

  it.each([
    '',
    'no json here',
    '[1, 2]',
    '{"unterminated": 1',
    '{not: json}',
    '"just a string"',
    '```json\n```',
  ])('throws an invalid-reply JudgeError for %j', (text) =>
    expectJudgeError(() => parseJudgeJson(text), 'invalid-reply'),
  );
});

describe('JudgeClient against the mock LLM', () => {
  let mock: MockLlmHandle;

  beforeAll(async () => {
    mock = await startMockLlm({ port: 0 });
  });

  afterAll(async () => {
    await closeJudgeAgents();
    await mock.close();
  });

  function client(overrides: Partial<JudgeClientConfig> = {}): JudgeClient {
    const format = overrides.format ?? 'openai';
    return new JudgeClient({
      baseUrl: format === 'openai' ? `${mock.url}/v1` : mock.url,
      format,
      model: 'mock-judge',
      apiKey: SECRET,
      timeoutMs: 5_000,
      ...overrides,
    });
  }

  const signal = (): AbortSignal => new AbortController().signal;

  async function failure(promise: Promise<unknown>): Promise<JudgeError> {
    const error: unknown = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JudgeError);
    return error as JudgeError;
  }

  it('calls OpenAI Chat Completions with a bearer key and returns the reply text', async () => {
    const text = await client().complete('Say {"probability": x}', 'Tool: bash rm -rf ~', signal());
    expect(JSON.parse(text)).toMatchObject({ probability: 0.95 });
    const record = mock.requests[mock.requests.length - 1];
    expect(record?.path).toBe('/v1/chat/completions');
    expect(record?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(record?.body).toMatchObject({
      model: 'mock-judge',
      stream: false,
      temperature: 0,
      max_tokens: 256,
      messages: [
        { role: 'system', content: 'Say {"probability": x}' },
        { role: 'user', content: 'Tool: bash rm -rf ~' },
      ],
    });
  });

  it("keeps the base URL's query string after the endpoint's path", async () => {
    await client({ format: 'openai', baseUrl: `${mock.url}/v1/?api-version=2024-10-21` }).complete(
      's',
      'u',
      signal(),
    );
    expect(mock.requests.at(-1)).toMatchObject({
      path: '/v1/chat/completions',
      query: '?api-version=2024-10-21',
    });
    await client({ format: 'anthropic', baseUrl: `${mock.url}?tenant=t` }).complete('s', 'u', signal());
    expect(mock.requests.at(-1)).toMatchObject({ path: '/v1/messages', query: '?tenant=t' });
  });

  it('calls Anthropic Messages with x-api-key and anthropic-version', async () => {
    for (const baseUrl of [mock.url, `${mock.url}/v1`, `${mock.url}/`]) {
      const text = await client({ format: 'anthropic', baseUrl, maxTokens: 99 }).complete(
        'sys',
        'ls',
        signal(),
      );
      expect(JSON.parse(text)).toMatchObject({ probability: 0.05 });
      const record = mock.requests[mock.requests.length - 1];
      expect(record?.path).toBe('/v1/messages');
      expect(record?.headers['x-api-key']).toBe(SECRET);
      expect(record?.headers['anthropic-version']).toBe('2023-06-01');
      expect(record?.headers.authorization).toBeUndefined();
      expect(record?.body).toMatchObject({
        system: 'sys',
        max_tokens: 99,
        messages: [{ role: 'user', content: 'ls' }],
      });
    }
  });

  it.each(['openai', 'anthropic'] as const)(
    'sends the key in the header apiKeyHeader names, and in no other (%s)',
    async (format) => {
      await client({ format, apiKeyHeader: 'api-key' }).complete('s', 'u', signal());
      const azure = mock.requests.at(-1);
      expect(azure?.headers['api-key']).toBe(SECRET);
      expect(azure?.headers.authorization).toBeUndefined();
      expect(azure?.headers['x-api-key']).toBeUndefined();
      await client({ format, apiKeyHeader: 'authorization' }).complete('s', 'u', signal());
      const bearer = mock.requests.at(-1);
      expect(bearer?.headers.authorization).toBe(`Bearer ${SECRET}`);
      expect(bearer?.headers['x-api-key']).toBeUndefined();
    },
  );

  it('sends no credentials without a key', async () => {
    await client({ apiKey: undefined }).complete('s', 'u', signal());
    const record = mock.requests[mock.requests.length - 1];
    expect(record?.headers.authorization).toBeUndefined();
    expect(record?.headers['x-api-key']).toBeUndefined();
  });

  it.each(['openai', 'anthropic'] as const)(
    'turns a non-2xx status into an http JudgeError without the key (%s)',
    async (format) => {
      const script = mockScriptTag({ status: 401, errorMessage: `Incorrect API key provided: ${SECRET}` });
      const error = await failure(client({ format }).complete('s', script, signal()));
      expect(error).toMatchObject({ code: 'http', status: 401 });
      expect(error.message).toContain('HTTP 401');
      expect(error.message).toContain('Incorrect API key provided: ***');
      expect(error.message).not.toContain(SECRET);
    },
  );

  it('times out after timeoutMs and the mock sees the abort', async () => {
    const aborted = once(mock.events, 'aborted');
    const error = await failure(
      client({ timeoutMs: 100 }).complete('s', mockScriptTag({ ttftMs: 5_000 }), signal()),
    );
    expect(error.code).toBe('timeout');
    expect(error.message).toBe('judge did not answer within 100 ms');
    await aborted;
  });

  it('aborts when the signal fires, and refuses an already aborted signal', async () => {
    const controller = new AbortController();
    const requested = once(mock.events, 'request');
    const aborted = once(mock.events, 'aborted');
    const pending = failure(client().complete('s', mockScriptTag({ ttftMs: 5_000 }), controller.signal));
    await requested;
    controller.abort();
    expect((await pending).code).toBe('aborted');
    await aborted;
    const before = mock.stats.requests;
    expect((await failure(client().complete('s', 'u', controller.signal))).code).toBe('aborted');
    expect(mock.stats.requests).toBe(before);
  });

  it('reports a reply without text or with broken JSON as invalid', async () => {
    const empty = await failure(client().complete('s', mockScriptTag({ text: '   ' }), signal()));
    expect(empty).toMatchObject({ code: 'invalid-reply', message: 'judge reply has no text' });
    const broken = await failure(
      client().complete('s', mockScriptTag({ malformedAfterChunks: 0 }), signal()),
    );
    expect(broken).toMatchObject({ code: 'invalid-reply', message: 'judge reply is not JSON' });
  });

  it('reports a connection failure as a network error', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const error = await failure(
      client({ baseUrl: `http://127.0.0.1:${port}/v1` }).complete('s', 'u', signal()),
    );
    expect(error.code).toBe('network');
    expect(error.message).not.toContain(SECRET);
  });
});
