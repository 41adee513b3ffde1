import Anthropic from '@anthropic-ai/sdk';
import { EventPublisher, type WardenEvent } from '@warden/events';
import { startMockLlm, type MockLlmHandle } from '@warden/mock-llm';
import OpenAI from 'openai';
import { script, startTestGateway, type TestGateway } from './support/harness';
import { writePolicyConfig } from './support/test-plugins';

const DANGEROUS = { name: 'bash', arguments: { command: 'rm -rf ~' } };
const HARMLESS = { name: 'bash', arguments: { command: 'ls -la' } };

describe('tool-call-judge through the gateway (judge = the mock in judge mode)', () => {
  let gw: TestGateway;
  let mock: MockLlmHandle;
  let anthropic: Anthropic;
  let openai: OpenAI;
  const events: WardenEvent[] = [];

  beforeAll(async () => {
    mock = await startMockLlm();
    // The judge is the same mock, in its OpenAI API, model mock-judge (rates `rm -rf` as dangerous).
    const config = writePolicyConfig([
      {
        type: 'tool-call-judge',
        options: {
          model: 'mock-judge',
          baseUrl: `${mock.url}/v1`,
          format: 'openai',
          apiKey: '${ANTHROPIC_API_KEY}',
        },
      },
    ]);
    gw = await startTestGateway({ ANTHROPIC_API_KEY: 'sk-ant-judge-test', POLICY_CONFIG: config }, mock);
    gw.app.get(EventPublisher).subscribe((e) => events.push(e));
    anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'loopback', maxRetries: 0 });
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'loopback', maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await mock.close();
  });

  const prompt = script({ text: 'I will clean up.', tools: [DANGEROUS, HARMLESS] });
  const tools = [{ name: 'bash', input_schema: { type: 'object' as const } }];

  function expectJudged(content: Anthropic.ContentBlock[], stopReason: string | null): void {
    const texts = content.filter((b) => b.type === 'text').map((b) => (b.type === 'text' ? b.text : ''));
    const uses = content.filter((b) => b.type === 'tool_use');
    expect(texts[0]).toBe('I will clean up.');
    expect(texts[1]).toMatch(/blocked/i);
    expect(texts[1]).toContain('rm -rf ~');
    expect(uses.map((u) => u.input)).toEqual([HARMLESS.arguments]);
    // Text blocks (kept and replacement) come before the tool_use that passed.
    expect(content.findIndex((b) => b.type === 'tool_use')).toBe(2);
    expect(stopReason).toBe('tool_use');
  }

  it('replaces the dangerous call and passes the harmless one, streaming (Anthropic SDK)', async () => {
    const message = await anthropic.messages
      .stream({ model: 'claude-test', max_tokens: 500, tools, messages: [{ role: 'user', content: prompt }] })
      .finalMessage();
    expectJudged(message.content, message.stop_reason);
  });

  it('makes the same decision non-streaming', async () => {
    const message = await anthropic.messages.create({
      model: 'claude-test',
      max_tokens: 500,
      tools,
      messages: [{ role: 'user', content: prompt }],
    });
    expectJudged(message.content, message.stop_reason);
  });

  it('ends the turn when every tool call is blocked', async () => {
    const message = await anthropic.messages.create({
      model: 'claude-test',
      max_tokens: 500,
      tools,
      messages: [{ role: 'user', content: script({ tools: [DANGEROUS] }) }],
    });
    expect(message.stop_reason).toBe('end_turn');
    expect(message.content.map((b) => b.type)).toEqual(['text']);
  });

  it('makes the same decision for an OpenAI client on an OpenAI upstream, streaming', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-test',
      stream: true,
      messages: [{ role: 'user', content: prompt }],
      tools: [{ type: 'function', function: { name: 'bash', parameters: { type: 'object' } } }],
    });
    let text = '';
    const args = new Map<number, string>();
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) {
        args.set(tc.index, (args.get(tc.index) ?? '') + (tc.function?.arguments ?? ''));
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    // One content string: the explanation starts a paragraph of its own after the model's text.
    expect(text).toMatch(/^I will clean up\.\n\n⛔ Warden blocked the tool call "bash"/);
    expect([...args.values()].map((a) => JSON.parse(a) as unknown)).toEqual([HARMLESS.arguments]);
    expect(finish).toBe('tool_calls');
  });

  it('publishes allowed and blocked decisions with the explanation', async () => {
    const before = events.length;
    await anthropic.messages.create({
      model: 'claude-test',
      max_tokens: 50,
      tools,
      messages: [{ role: 'user', content: prompt }],
    });
    const waitFor = async (): Promise<WardenEvent[]> => {
      for (let i = 0; i < 1000; i++) {
        const mine = events.slice(before).filter((e) => e.type.startsWith('policy.tool-call-judge.'));
        if (mine.length >= 2) return mine;
        await new Promise<void>((r) => setImmediate(r));
      }
      return [];
    };
    const decisions = await waitFor();
    const blocked = decisions.find((e) => e.type === 'policy.tool-call-judge.blocked');
    const allowed = decisions.find((e) => e.type === 'policy.tool-call-judge.allowed');
    expect(blocked?.data).toMatchObject({ tool: 'bash', probability: expect.any(Number) as unknown });
    expect(String(blocked?.data.arguments)).toContain('rm -rf ~');
    expect(allowed?.data).toMatchObject({ tool: 'bash' });
    expect(JSON.stringify(decisions)).not.toContain('sk-ant-judge-test');
  });
});
