import Anthropic from '@anthropic-ai/sdk';
import {
  startMockLlm,
  type MockLlmHandle,
  type MockRequestRecord,
  type MockScript,
  mockScriptTag,
} from '@warden/mock-llm';
import OpenAI from 'openai';

/** Request options carrying a script header. */
function scripted(script: MockScript): { headers: Record<string, string> } {
  return { headers: { 'x-mock-script': JSON.stringify(script) } };
}

/** Resolves with the record of the next `name` event of the mock whose script header contains `marker`. */
function nextEvent(
  mock: MockLlmHandle,
  name: 'aborted' | 'completed',
  marker: string,
): Promise<MockRequestRecord> {
  return new Promise((resolve) => {
    const listener = (record: MockRequestRecord): void => {
      const header = record.headers['x-mock-script'];
      if (typeof header !== 'string' || !header.includes(marker)) return;
      mock.events.off(name, listener);
      resolve(record);
    };
    mock.events.on(name, listener);
  });
}

const user = (content: string): { role: 'user'; content: string } => ({ role: 'user', content });

describe('mock LLM driven by the official SDKs', () => {
  let mock: MockLlmHandle;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    mock = await startMockLlm({ port: 0 });
    openai = new OpenAI({ apiKey: 'sk-test', baseURL: `${mock.url}/v1`, maxRetries: 0, logLevel: 'off' });
    anthropic = new Anthropic({ apiKey: 'sk-ant-test', baseURL: mock.url, maxRetries: 0, logLevel: 'off' });
  });

  afterAll(async () => {
    await mock.close();
  });

  describe('OpenAI Chat Completions', () => {
    it('answers non-streaming with the default text and usage', async () => {
      const completion = await openai.chat.completions.create({
        model: 'mock-small',
        messages: [user('hi')],
      });
      expect(completion.id).toMatch(/^chatcmpl-mock-\d+$/);
      expect(completion.object).toBe('chat.completion');
      expect(completion.model).toBe('mock-small');
      expect(completion.choices[0]?.message).toMatchObject({
        role: 'assistant',
        content: 'Hello from the Warden mock LLM.',
      });
      expect(completion.choices[0]?.finish_reason).toBe('stop');
      expect(completion.usage?.total_tokens).toBe(
        (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
      );
      const record = mock.requests.find((r) => r.path === '/v1/chat/completions');
      expect(record).toMatchObject({ method: 'POST', body: { model: 'mock-small' } });
      expect(record?.headers.authorization).toBe('Bearer sk-test');
    });

    it('streams scripted words with include_usage', async () => {
      const stream = await openai.chat.completions.create(
        {
          model: 'mock-large',
          messages: [user('count')],
          stream: true,
          stream_options: { include_usage: true },
        },
        scripted({ words: 7, wordsPerChunk: 3, usage: { input_tokens: 5, output_tokens: 9 } }),
      );
      const deltas: string[] = [];
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | null | undefined;
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        if (choice?.delta.content) deltas.push(choice.delta.content);
        if (choice?.finish_reason) finish = choice.finish_reason;
        if (chunk.usage) usage = chunk.usage;
      }
      expect(deltas).toEqual(['alpha bravo charlie', ' delta echo foxtrot', ' golf']);
      expect(finish).toBe('stop');
      expect(usage).toEqual({
        prompt_tokens: 5,
        completion_tokens: 9,
        total_tokens: 14,
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: 0,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
      });
    });

    it('streams parallel tool calls scripted in the message, arguments reassembling to the JSON', async () => {
      const script: MockScript = {
        text: 'Let me check.',
        argsChunkSize: 5,
        tools: [
          { name: 'get_weather', arguments: { city: 'Paris', units: 'metric' } },
          { name: 'get_time', arguments: { tz: 'Europe/Paris' }, id: 'call_custom' },
        ],
      };
      const stream = openai.chat.completions.stream({
        model: 'mock-small',
        messages: [user(`What's up? ${mockScriptTag(script)}`)],
        tools: [
          { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } },
          { type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } },
        ],
      });
      const final = await stream.finalChatCompletion();
      const message = final.choices[0]?.message;
      expect(message?.content).toBe('Let me check.');
      expect(final.choices[0]?.finish_reason).toBe('tool_calls');
      const calls = (message?.tool_calls ?? []).map((call) =>
        call.type === 'function'
          ? { id: call.id, name: call.function.name, args: JSON.parse(call.function.arguments) as unknown }
          : call,
      );
      expect(calls).toEqual([
        { id: 'call_mock_0', name: 'get_weather', args: { city: 'Paris', units: 'metric' } },
        { id: 'call_custom', name: 'get_time', args: { tz: 'Europe/Paris' } },
      ]);
    });

    it('maps error statuses to the SDK error classes, with retry-after', async () => {
      const failing = openai.chat.completions.create(
        { model: 'mock-small', messages: [user('hi')] },
        scripted({ status: 429, retryAfter: 2, errorMessage: 'slow down' }),
      );
      await expect(failing).rejects.toBeInstanceOf(OpenAI.RateLimitError);
      const error = (await failing.catch((err: unknown) => err)) as InstanceType<
        typeof OpenAI.RateLimitError
      >;
      expect(error.status).toBe(429);
      expect(error.headers.get('retry-after')).toBe('2');
      expect(error.message).toContain('slow down');
      expect(error.code).toBe('rate_limit_exceeded');

      await expect(
        openai.chat.completions.create(
          { model: 'mock-small', messages: [user('hi')] },
          scripted({ status: 500 }),
        ),
      ).rejects.toBeInstanceOf(OpenAI.InternalServerError);
      await expect(
        openai.chat.completions.create({ model: 'm', messages: [user('<mock>{"nope":1}</mock>')] }),
      ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    });

    it('ends a stream with an in-band error after n chunks', async () => {
      const stream = await openai.chat.completions.create(
        { model: 'mock-small', messages: [user('hi')], stream: true },
        scripted({ words: 10, errorAfterChunks: 3, errorMessage: 'upstream broke' }),
      );
      const deltas: string[] = [];
      const consume = async (): Promise<void> => {
        for await (const chunk of stream) {
          const content = chunk.choices[0]?.delta.content;
          if (content) deltas.push(content);
        }
      };
      await expect(consume()).rejects.toThrow(/upstream broke/);
      expect(deltas).toEqual(['alpha', ' bravo', ' charlie']);
    });

    it('resets the connection mid-stream after n chunks', async () => {
      const completed = nextEvent(mock, 'completed', 'resetAfterChunks');
      const stream = await openai.chat.completions.create(
        { model: 'mock-small', messages: [user('hi')], stream: true },
        scripted({ words: 10, resetAfterChunks: 2 }),
      );
      const deltas: string[] = [];
      const consume = async (): Promise<void> => {
        for await (const chunk of stream) {
          const content = chunk.choices[0]?.delta.content;
          if (content) deltas.push(content);
        }
      };
      await expect(consume()).rejects.toThrow();
      expect(deltas).toEqual(['alpha', ' bravo']);
      expect((await completed).path).toBe('/v1/chat/completions');
    });

    it('fails a non-streaming request whose connection is reset', async () => {
      await expect(
        openai.chat.completions.create(
          { model: 'mock-small', messages: [user('hi')] },
          scripted({ resetAfterChunks: 0 }),
        ),
      ).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
    });

    it('breaks the stream on a malformed frame', async () => {
      const stream = await openai.chat.completions.create(
        { model: 'mock-small', messages: [user('hi')], stream: true },
        scripted({ words: 5, malformedAfterChunks: 1 }),
      );
      const consume = async (): Promise<void> => {
        for await (const _chunk of stream) {
          // drain
        }
      };
      await expect(consume()).rejects.toBeInstanceOf(SyntaxError);
    });

    it('reports a client abort mid-stream', async () => {
      const aborted = nextEvent(mock, 'aborted', 'chunkDelayMs');
      const before = mock.stats.aborted;
      const stream = await openai.chat.completions.create(
        { model: 'mock-small', messages: [user('hi')], stream: true },
        scripted({ words: 200, chunkDelayMs: 20 }),
      );
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) break; // leaving the loop aborts the request
      }
      const record = await aborted;
      expect(record.path).toBe('/v1/chat/completions');
      expect(mock.stats.aborted).toBe(before + 1);
    });

    it('lists models in the OpenAI shape', async () => {
      const ids: string[] = [];
      for await (const model of openai.models.list()) ids.push(model.id);
      expect(ids).toEqual(['mock-small', 'mock-large']);
    });
  });

  describe('Anthropic Messages', () => {
    it('answers non-streaming with thinking, text and tool_use blocks', async () => {
      const message = await anthropic.messages.create(
        {
          model: 'mock-large',
          max_tokens: 1024,
          messages: [user('hi')],
          thinking: { type: 'enabled', budget_tokens: 512 },
        },
        scripted({
          thinking: 'Think first.',
          text: 'Calling.',
          tools: [{ name: 'lookup', arguments: { q: 'x' } }],
        }),
      );
      expect(message.id).toMatch(/^msg_mock_\d+$/);
      expect(message.content).toEqual([
        {
          type: 'thinking',
          thinking: 'Think first.',
          signature: expect.stringMatching(/^mocksig_[0-9a-f]+$/) as string,
        },
        { type: 'text', text: 'Calling.' },
        { type: 'tool_use', id: 'toolu_mock_0', name: 'lookup', input: { q: 'x' } },
      ]);
      expect(message.stop_reason).toBe('tool_use');
    });

    it('streams thinking with a signature, text and parallel tools through the stream helper', async () => {
      const script: MockScript = {
        thinking: 'I should call two tools in parallel.',
        text: 'On it.',
        argsChunkSize: 3,
        tools: [
          { name: 'read_file', arguments: { path: '/etc/hosts', lines: [1, 2] } },
          { name: 'list_dir', arguments: { path: '/tmp' } },
        ],
      };
      const events: string[] = [];
      const stream = anthropic.messages.stream({
        model: 'mock-small',
        max_tokens: 2048,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [{ role: 'user', content: [{ type: 'text', text: `Go. ${mockScriptTag(script)}` }] }],
      });
      stream.on('streamEvent', (event) => events.push(event.type));
      const final = await stream.finalMessage();
      const nonStreamed = await anthropic.messages.create(
        { model: 'mock-small', max_tokens: 10, messages: [user('x')] },
        scripted(script),
      );
      expect(final.content).toEqual(nonStreamed.content);
      expect(final.content.map((b) => b.type)).toEqual(['thinking', 'text', 'tool_use', 'tool_use']);
      expect(final.content[2]).toMatchObject({
        name: 'read_file',
        input: { path: '/etc/hosts', lines: [1, 2] },
      });
      expect(final.content[3]).toMatchObject({ id: 'toolu_mock_1', input: { path: '/tmp' } });
      expect(final.stop_reason).toBe('tool_use');
      expect(final.usage.output_tokens).toBe(nonStreamed.usage.output_tokens);
      expect(events[0]).toBe('message_start');
      expect(events[events.length - 1]).toBe('message_stop');
    });

    it('streams text deltas word by word, with a request-id header', async () => {
      const { data: stream, response } = await anthropic.messages
        .create({ model: 'mock-small', max_tokens: 100, messages: [user('hi')], stream: true })
        .withResponse();
      expect(response.headers.get('request-id')).toMatch(/^req_mock_\d+$/);
      const deltas: string[] = [];
      for await (const event of stream) {
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta')
          deltas.push(event.delta.text);
      }
      expect(deltas).toEqual(['Hello', ' from', ' the', ' Warden', ' mock', ' LLM.']);
    });

    it('serves the beta path, count_tokens and models', async () => {
      const beta = await anthropic.beta.messages.create(
        {
          model: 'mock-small',
          max_tokens: 10,
          messages: [user('hi')],
          betas: ['interleaved-thinking-2025-05-14'],
        },
        scripted({ text: 'beta ok' }),
      );
      expect(beta.content).toEqual([{ type: 'text', text: 'beta ok' }]);
      const betaRecord = mock.requests[mock.requests.length - 1];
      expect(betaRecord?.path).toBe('/v1/messages');
      expect(betaRecord?.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14');

      const body = { model: 'mock-small', messages: [user('count these tokens')] };
      const count = await anthropic.messages.countTokens(body);
      expect(count.input_tokens).toBe(Math.ceil(JSON.stringify(body).length / 4));

      const models = await anthropic.models.list();
      expect(models.data.map((m) => m.id)).toEqual(['mock-small', 'mock-large']);
      expect(models.data[0]).toMatchObject({ type: 'model', display_name: 'Mock Small' });
    });

    it('maps error statuses to the SDK error classes', async () => {
      const overloaded = await anthropic.messages
        .create({ model: 'm', max_tokens: 1, messages: [user('hi')] }, scripted({ status: 529 }))
        .catch((err: unknown) => err);
      expect(overloaded).toBeInstanceOf(Anthropic.InternalServerError);
      expect(overloaded).toMatchObject({ status: 529, type: 'overloaded_error' });

      const limited = await anthropic.messages
        .create(
          { model: 'm', max_tokens: 1, messages: [user('hi')] },
          scripted({ status: 429, retryAfter: 7 }),
        )
        .catch((err: unknown) => err);
      expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
      expect((limited as InstanceType<typeof Anthropic.RateLimitError>).headers.get('retry-after')).toBe('7');

      await expect(
        anthropic.messages.create(
          { model: 'm', max_tokens: 1, messages: [user('hi')] },
          scripted({ status: 404 }),
        ),
      ).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    });

    it('ends a stream with an in-band error event after n deltas', async () => {
      const stream = await anthropic.messages.create(
        { model: 'm', max_tokens: 100, messages: [user('hi')], stream: true },
        scripted({ words: 10, errorAfterChunks: 2 }),
      );
      const deltas: string[] = [];
      const consume = async (): Promise<void> => {
        for await (const event of stream) {
          if (event.type === 'content_block_delta' && event.delta.type === 'text_delta')
            deltas.push(event.delta.text);
        }
      };
      const error = await consume().catch((err: unknown) => err);
      expect(error).toBeInstanceOf(Anthropic.APIError);
      expect(error).toMatchObject({ type: 'overloaded_error' });
      expect(deltas).toEqual(['alpha', ' bravo']);
    });

    it('makes the stream helper throw when the connection resets', async () => {
      const stream = anthropic.messages.stream(
        { model: 'm', max_tokens: 100, messages: [user('hi')] },
        scripted({ words: 10, resetAfterChunks: 4, chunkDelayMs: 1 }),
      );
      await expect(stream.finalMessage()).rejects.toThrow();
    });

    it('reports a client abort while waiting for the first token', async () => {
      const aborted = nextEvent(mock, 'aborted', 'ttftMs');
      const stream = anthropic.messages.stream(
        { model: 'm', max_tokens: 100, messages: [user('hi')] },
        scripted({ ttftMs: 30_000 }),
      );
      stream.on('connect', () => stream.abort());
      await expect(stream.done()).rejects.toBeInstanceOf(Anthropic.APIUserAbortError);
      expect((await aborted).path).toBe('/v1/messages');
    });

    it('waits ttftMs before answering', async () => {
      const started = Date.now();
      await anthropic.messages.create(
        { model: 'm', max_tokens: 1, messages: [user('hi')] },
        scripted({ ttftMs: 150 }),
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    });
  });

  describe('raw HTTP', () => {
    it('answers invalid JSON and unknown paths in each API shape', async () => {
      const anthropicBad = await fetch(`${mock.url}/v1/messages`, { method: 'POST', body: '{oops' });
      expect(anthropicBad.status).toBe(400);
      expect(await anthropicBad.json()).toMatchObject({
        type: 'error',
        error: { type: 'invalid_request_error' },
      });

      const openaiBad = await fetch(`${mock.url}/v1/chat/completions`, { method: 'POST', body: '{oops' });
      expect(openaiBad.status).toBe(400);
      expect(await openaiBad.json()).toMatchObject({ error: { type: 'invalid_request_error', param: null } });

      const unknown = await fetch(`${mock.url}/v1/unknown`);
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toMatchObject({
        error: { message: 'Invalid URL (GET /v1/unknown)', code: null },
      });

      const health = await fetch(`${mock.url}/health`);
      expect(await health.json()).toEqual({ status: 'ok' });
    });

    it('produces the same bytes for the same script, ids and timestamps aside', async () => {
      const run = async (): Promise<string> => {
        const response = await fetch(`${mock.url}/v1/chat/completions`, {
          method: 'POST',
          headers: {
            'x-mock-script': JSON.stringify({ words: 12, tools: [{ name: 't', arguments: { a: 1 } }] }),
          },
          body: JSON.stringify({ model: 'm', messages: [], stream: true }),
        });
        return (await response.text()).replace(/chatcmpl-mock-\d+/g, 'ID').replace(/"created":\d+/g, 'C');
      };
      const [first, second] = await Promise.all([run(), run()]);
      expect(first).toBe(second);
      expect(first.endsWith('data: [DONE]\n\n')).toBe(true);
    });
  });
});

describe('mock LLM with an API key', () => {
  let mock: MockLlmHandle;

  beforeAll(async () => {
    mock = await startMockLlm({ apiKey: 'secret', maxRecords: 2 });
  });

  afterAll(async () => {
    await mock.close();
  });

  it('accepts the key as Bearer or x-api-key and refuses others with 401', async () => {
    const good = new OpenAI({ apiKey: 'secret', baseURL: `${mock.url}/v1`, maxRetries: 0 });
    const bad = new OpenAI({ apiKey: 'wrong', baseURL: `${mock.url}/v1`, maxRetries: 0 });
    await expect(good.chat.completions.create({ model: 'm', messages: [user('hi')] })).resolves.toBeDefined();
    const error = await bad.chat.completions
      .create({ model: 'm', messages: [user('hi')] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key' });

    const goodAnthropic = new Anthropic({ apiKey: 'secret', baseURL: mock.url, maxRetries: 0 });
    const badAnthropic = new Anthropic({ apiKey: 'wrong', baseURL: mock.url, maxRetries: 0 });
    await expect(
      goodAnthropic.messages.create({ model: 'm', max_tokens: 1, messages: [user('hi')] }),
    ).resolves.toBeDefined();
    const anthropicError = await badAnthropic.messages
      .create({ model: 'm', max_tokens: 1, messages: [user('hi')] })
      .catch((e: unknown) => e);
    expect(anthropicError).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(anthropicError).toMatchObject({ status: 401, type: 'authentication_error' });

    expect(mock.stats.requests).toBe(4);
    expect(mock.requests.map((r) => r.id)).toEqual([3, 4]);
  });
});
