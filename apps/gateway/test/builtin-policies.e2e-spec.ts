import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { postMessages, script, startTestGateway, storedCall, type TestGateway } from './support/harness';
import { writePolicyConfig } from './support/test-plugins';

describe('built-in policies through the gateway', () => {
  let gw: TestGateway;
  let anthropic: Anthropic;
  let openai: OpenAI;

  beforeAll(async () => {
    gw = await startTestGateway({
      POLICY_CONFIG: writePolicyConfig([
        { type: 'regex-block', options: { patterns: ['DROP\\s+TABLE'], scopes: ['request', 'tool_call'] } },
        { type: 'string-replace', options: { rules: [{ match: 'pip install', replace: 'uv add' }] } },
      ]),
    });
    anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'loopback', maxRetries: 0 });
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'loopback', maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('rewrites streamed text across chunk boundaries (one word per delta), Anthropic client', async () => {
    const before = gw.mock.stats.requests;
    const message = await anthropic.messages
      .stream({
        model: 'claude-test',
        max_tokens: 100,
        messages: [
          { role: 'user', content: script({ text: 'Run pip install requests then pip install rich.' }) },
        ],
      })
      .finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: 'Run uv add requests then uv add rich.' }]);
    expect(gw.mock.stats.requests).toBe(before + 1);
  });

  it('rewrites the same text for an OpenAI client on a converted stream and non-streaming', async () => {
    const content = script({ text: 'First pip install x.' });
    const whole = await openai.chat.completions.create({
      model: 'claude-test',
      messages: [{ role: 'user', content }],
    });
    expect(whole.choices[0]?.message.content).toBe('First uv add x.');
    const stream = await openai.chat.completions.create({
      model: 'gpt-test',
      stream: true,
      messages: [{ role: 'user', content }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('First uv add x.');
  });

  it('keeps the upstream OpenAI response fields when a policy rewrites a same-format whole response', async () => {
    const res = await openai.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: script({ text: 'Try pip install x.' }) }],
    });
    expect(res.choices[0]?.message.content).toBe('Try uv add x.');
    expect(res.id).toMatch(/^chatcmpl-mock-/);
    expect(res.object).toBe('chat.completion');
    expect(res.service_tier).toBe('default');
    expect(res.usage?.completion_tokens_details).toEqual(expect.objectContaining({ reasoning_tokens: 0 }));
  });

  it("keeps the upstream's usage details and service tier on a same-format stream a policy rewrites", async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-test',
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        {
          role: 'user',
          content: script({ text: 'Then pip install y.', tools: [{ name: 'ls', arguments: { path: '.' } }] }),
        },
      ],
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Then uv add y.');
    // Tool call, finish and usage chunks are encoded again (the policy sees canonical events): they keep the
    // upstream's service tier and its usage as it came.
    expect(chunks.some((c) => c.choices[0]?.delta.tool_calls !== undefined)).toBe(true);
    expect(chunks.map((c) => c.service_tier)).toEqual(chunks.map(() => 'default'));
    const usage = chunks.at(-1)?.usage;
    expect(usage?.completion_tokens_details).toEqual({
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    });
    expect(usage?.prompt_tokens_details).toEqual({ cached_tokens: 0, audio_tokens: 0 });
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0));
  });

  it('records the answer it gave itself in the history, as the final response', async () => {
    const res = await postMessages(gw, {
      model: 'claude-test',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'please DROP TABLE users;' }],
    });
    const answer = (await res.json()) as { content: Array<{ type: string; text: string }> };
    const view = await storedCall(
      gw,
      res.headers.get('x-warden-call-id') ?? '',
      (stored) => stored.call.status !== 'in_progress' && stored.call.finalResponse !== null,
    );
    expect(view.call.status).toBe('completed');
    expect(view.call.originalResponse).toBeNull();
    expect(view.call.finalResponse).toMatchObject({ content: answer.content });
    expect(view.events.map((e) => e.type)).toContain('response.completed');
  });

  it('answers a forbidden request itself, never calling the upstream, streaming or not', async () => {
    const before = gw.mock.stats.requests;
    const message = await anthropic.messages.create({
      model: 'claude-test',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'please DROP  TABLE users;' }],
    });
    expect(message.content[0]?.type === 'text' && message.content[0].text).toMatch(/Blocked by policy/);
    const stream = await openai.chat.completions.create({
      model: 'gpt-test',
      stream: true,
      messages: [{ role: 'user', content: 'drop table users' }],
    });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toMatch(/Blocked by policy/);
    expect(finish).toBe('stop');
    expect(gw.mock.stats.requests).toBe(before);
  });

  it('replaces a forbidden tool call and fixes the stop reason', async () => {
    // Scripted by header so the request text itself stays clean (the request scope would block it first).
    const tools = [{ name: 'sql', arguments: { query: 'DROP TABLE users' } }];
    const before = gw.mock.stats.requests;
    const message = await anthropic.messages.create(
      {
        model: 'claude-test',
        max_tokens: 100,
        tools: [{ name: 'sql', input_schema: { type: 'object' } }],
        messages: [{ role: 'user', content: 'clean up the database' }],
      },
      { headers: { 'x-mock-script': JSON.stringify({ tools }) } },
    );
    expect(gw.mock.stats.requests).toBe(before + 1);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.content.map((b) => b.type)).toEqual(['text']);
    expect(message.content[0]?.type === 'text' && message.content[0].text).toMatch(/Blocked by policy/);
  });
});
