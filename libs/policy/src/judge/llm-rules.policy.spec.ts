import type { AnthropicContentBlock, AnthropicResponse } from '@warden/llm';
import { mockScriptTag, startMockLlm, type MockLlmHandle } from '@warden/mock-llm';
import type { Policy } from '../core/policy';
import { closeJudgeAgents } from './judge-client';
import {
  DEFAULT_RULES_INSTRUCTIONS,
  llmRulesOptions,
  llmRulesPolicyType,
  readRulesJudgement,
  rulesSystemPrompt,
} from './llm-rules.policy';
import {
  assistantMessage,
  runStreaming,
  runWhole,
  withoutLatency,
  type PolicyRun,
} from '../testing/policy-test-kit';

const text = (value: string): AnthropicContentBlock => ({ type: 'text', text: value });
const RULES = ['Never recommend destructive shell commands.', 'Be polite.'];
const SAFE = 'List the files with ls -la.';
const UNSAFE = 'Free some space with rm -rf ~ and start over.';

describe('llm-rules', () => {
  let mock: MockLlmHandle;

  beforeAll(async () => {
    mock = await startMockLlm({ port: 0 });
  });

  afterAll(async () => {
    await closeJudgeAgents();
    await mock.close();
  });

  function rules(options: Record<string, unknown> = {}): Policy {
    const format = options.format === 'anthropic' ? 'anthropic' : 'openai';
    const parsed = llmRulesOptions.parse({
      model: 'mock-judge',
      baseUrl: format === 'openai' ? `${mock.url}/v1` : mock.url,
      rules: RULES,
      ...options,
    });
    return llmRulesPolicyType.create(parsed, { name: 'llm-rules' });
  }

  async function both(policy: Policy, message: AnthropicResponse): Promise<PolicyRun> {
    const streamed = await runStreaming(policy, message);
    const whole = await runWhole(policy, message);
    expect(whole.message).toEqual(streamed.message);
    expect(withoutLatency(whole.events)).toEqual(withoutLatency(streamed.events));
    return streamed;
  }

  describe.each(['openai', 'anthropic'] as const)('with an %s judge', (format) => {
    it('passes a compliant text unchanged', async () => {
      const message = assistantMessage([text(SAFE)], 'end_turn');
      const { message: out, events } = await both(rules({ format }), message);
      expect(out).toEqual(message);
      expect(events.map((e) => e.type)).toEqual(['policy.llm-rules.passed']);
      expect(events[0]?.data).toMatchObject({ block: 0, chars: SAFE.length });
    });

    it('replaces a text that breaks a rule by the blocked message', async () => {
      const { message: out, events } = await both(
        rules({ format }),
        assistantMessage([text(UNSAFE)], 'end_turn'),
      );
      expect(out.content).toEqual([
        text(
          '⛔ Warden withheld this response: it broke an operator rule (mock judge: matched dangerous pattern rm -rf).',
        ),
      ]);
      expect(events.map((e) => e.type)).toEqual(['policy.llm-rules.blocked']);
      expect(events[0]?.data.explanation).toBe('mock judge: matched dangerous pattern rm -rf');
      expect(JSON.stringify(events)).not.toContain('Free some space');
    });
  });

  it('replaces a text by the judge rewrite', async () => {
    const verdict = {
      action: 'rewrite',
      rewrite: 'Free some space by emptying the trash.',
      explanation: 'rule 1',
    };
    const original = `${UNSAFE} ${mockScriptTag({ text: `Sure: ${JSON.stringify(verdict)}` })}`;
    const { message: out, events } = await both(rules(), assistantMessage([text(original)], 'end_turn'));
    expect(out.content).toEqual([text(verdict.rewrite)]);
    expect(events.map((e) => e.type)).toEqual(['policy.llm-rules.rewritten']);
    expect(events[0]?.data).toMatchObject({ explanation: 'rule 1', rewrittenChars: verdict.rewrite.length });
  });

  it('judges each text block on its own and leaves tool calls and whitespace alone', async () => {
    const toolUse: AnthropicContentBlock = {
      type: 'tool_use',
      id: 'toolu_1',
      name: 'bash',
      input: { command: 'ls' },
    };
    const message = assistantMessage([text(SAFE), toolUse, text(UNSAFE), text('  ')]);
    const before = mock.stats.requests;
    const { message: out, events } = await both(
      rules({ blockedMessage: '[withheld: {explanation}]' }),
      message,
    );
    expect(out.content).toEqual([
      text(SAFE),
      toolUse,
      text('[withheld: mock judge: matched dangerous pattern rm -rf]'),
      text('  '),
    ]);
    expect(out.stop_reason).toBe('tool_use');
    expect(events.map((e) => e.type)).toEqual(['policy.llm-rules.passed', 'policy.llm-rules.blocked']);
    expect(mock.stats.requests - before).toBe(4); // two judged blocks, streaming and whole
  });

  it('sends the numbered rules in the system prompt and the text in the user message', async () => {
    await runWhole(rules(), assistantMessage([text(SAFE)], 'end_turn'));
    const body = mock.requests[mock.requests.length - 1]?.body as { messages: Array<{ content: string }> };
    expect(body.messages[0]?.content).toContain(
      '1. Never recommend destructive shell commands.\n2. Be polite.',
    );
    expect(body.messages[0]?.content).not.toContain('{rules}');
    expect(body.messages[1]?.content).toContain(`<response>\n${SAFE}\n</response>`);
  });

  describe('judge failures', () => {
    const cases: Array<[string, string, string]> = [
      ['an unparsable reply', mockScriptTag({ text: 'Looks fine to me.' }), 'holds no JSON object'],
      ['an unknown action', mockScriptTag({ text: '{"action": "shrug"}' }), 'no valid "action"'],
      ['a 500', mockScriptTag({ status: 500 }), 'HTTP 500'],
    ];

    it.each(cases)('blocks on %s with onError block (default)', async (_label, tag, reason) => {
      const { message: out, events } = await both(
        rules(),
        assistantMessage([text(`${SAFE} ${tag}`)], 'end_turn'),
      );
      expect(String(out.content[0]?.text)).toContain('judge unavailable');
      expect(String(out.content[0]?.text)).toContain(reason);
      expect(events.map((e) => e.type)).toEqual(['policy.llm-rules.error', 'policy.llm-rules.blocked']);
    });

    it.each(cases)('passes on %s with onError allow', async (_label, tag, reason) => {
      const message = assistantMessage([text(`${SAFE} ${tag}`)], 'end_turn');
      const { message: out, events } = await both(rules({ onError: 'allow' }), message);
      expect(out).toEqual(message);
      expect(events.map((e) => e.type)).toEqual(['policy.llm-rules.error', 'policy.llm-rules.passed']);
      expect(String(events[0]?.data.error)).toContain(reason);
    });

    it('blocks on a timeout', async () => {
      const tag = mockScriptTag({ ttftMs: 2_000 });
      const { message: out } = await both(
        rules({ timeoutMs: 100 }),
        assistantMessage([text(`${SAFE} ${tag}`)], 'end_turn'),
      );
      expect(String(out.content[0]?.text)).toContain('judge did not answer within 100 ms');
    });
  });

  it('validates its options', () => {
    const base = { model: 'm', baseUrl: 'https://api.anthropic.com', format: 'anthropic' };
    expect(llmRulesOptions.safeParse({ ...base, rules: [] }).success).toBe(false);
    expect(llmRulesOptions.safeParse({ ...base, rules: ['  '] }).success).toBe(false);
    expect(llmRulesOptions.safeParse({ ...base, rules: ['x'], extra: 1 }).success).toBe(false);
    expect(llmRulesOptions.parse({ ...base, rules: ['x'] })).toMatchObject({
      onError: 'block',
      timeoutMs: 30_000,
      maxTokens: 4096,
      instructions: DEFAULT_RULES_INSTRUCTIONS,
    });
  });
});

describe('rulesSystemPrompt', () => {
  it('replaces {rules}, or appends the rules when the placeholder is absent', () => {
    expect(rulesSystemPrompt('Check:\n{rules}\nJSON please.', ['a', 'b'])).toBe(
      'Check:\n1. a\n2. b\nJSON please.',
    );
    expect(rulesSystemPrompt('Check.', ['a'])).toBe('Check.\n\nRules:\n1. a');
  });
});

describe('readRulesJudgement', () => {
  it('reads the three actions', () => {
    expect(readRulesJudgement({ action: 'PASS' })).toEqual({
      action: 'pass',
      explanation: 'no explanation given',
    });
    expect(readRulesJudgement({ action: 'block', explanation: 'r2' })).toEqual({
      action: 'block',
      explanation: 'r2',
    });
    expect(readRulesJudgement({ action: 'rewrite', rewrite: '', explanation: 'r' })).toEqual({
      action: 'rewrite',
      rewrite: '',
      explanation: 'r',
    });
  });

  it.each([{}, { action: 'rewrite' }, { action: 'allow' }, { action: 1 }, null, []])(
    'refuses %j',
    (reply) => {
      expect(() => readRulesJudgement(reply)).toThrow();
    },
  );
});
