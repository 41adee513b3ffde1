import { once } from 'node:events';
import type { AnthropicContentBlock, AnthropicResponse } from '@warden/llm';
import {
  mockScriptTag,
  startMockLlm,
  type MockLlmHandle,
  type MockRequestRecord,
  type MockScript,
} from '@warden/mock-llm';
import type { Policy } from '../core/policy';
import { PolicyRegistry } from '../registry/policy-registry';
import { BUILTIN_POLICY_TYPES } from '../builtin/builtin-policy-types';
import { closeJudgeAgents } from './judge-client';
import { clampProbability } from './judge-options';
import {
  readToolCallJudgement,
  toolCallJudgeOptions,
  toolCallJudgePolicyType,
  DEFAULT_TOOL_JUDGE_INSTRUCTIONS,
} from './tool-call-judge.policy';
import {
  assistantMessage,
  blockSummary,
  runStreaming,
  runWhole,
  withoutLatency,
  type PolicyRun,
  type SeenEvent,
} from '../testing/policy-test-kit';

const text = (value: string): AnthropicContentBlock => ({ type: 'text', text: value });
const tool = (id: string, name: string, input: Record<string, unknown>): AnthropicContentBlock => ({
  type: 'tool_use',
  id,
  name,
  input,
});
/** A tool whose name carries a mock script: the judge request is scripted (the tag sits in the user prompt). */
const scriptedTool = (id: string, script: MockScript): AnthropicContentBlock =>
  tool(id, `bash${mockScriptTag(script)}`, { command: 'ls' });

const DANGEROUS = tool('toolu_rm', 'bash', { command: 'rm -rf ~' });
const HARMLESS = tool('toolu_ls', 'bash', { command: 'ls -la' });

function sorted(events: readonly SeenEvent[]): SeenEvent[] {
  return [...withoutLatency(events)].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

describe('tool-call-judge', () => {
  let mock: MockLlmHandle;

  beforeAll(async () => {
    mock = await startMockLlm({ port: 0 });
  });

  afterAll(async () => {
    await closeJudgeAgents();
    await mock.close();
  });

  function judge(options: Record<string, unknown> = {}): Policy {
    const format = options.format === 'anthropic' ? 'anthropic' : 'openai';
    const parsed = toolCallJudgeOptions.parse({
      model: 'mock-judge',
      baseUrl: format === 'openai' ? `${mock.url}/v1` : mock.url,
      ...options,
    });
    return toolCallJudgePolicyType.create(parsed, { name: 'tool-call-judge' });
  }

  /** Runs streaming and non-streaming, checks they agree, returns the streaming run. */
  async function both(policy: Policy, message: AnthropicResponse, signal?: AbortSignal): Promise<PolicyRun> {
    const streamed = await runStreaming(policy, message, signal);
    const whole = await runWhole(policy, message, signal);
    expect(whole.message).toEqual(streamed.message);
    expect(sorted(whole.events)).toEqual(sorted(streamed.events));
    return streamed;
  }

  describe.each(['openai', 'anthropic'] as const)('with an %s judge', (format) => {
    it('replaces the dangerous call by text before the passing tool_use and keeps tool_use', async () => {
      const message = assistantMessage([text('Cleaning up.'), DANGEROUS, HARMLESS]);
      const { message: out, events } = await both(judge({ format }), message);

      expect(blockSummary(out)).toEqual([
        'Cleaning up.',
        expect.stringContaining('⛔') as unknown,
        'tool_use:bash',
      ]);
      const blockedText = String(out.content[1]?.text);
      expect(blockedText).toContain('"bash"');
      expect(blockedText).toContain('rm -rf ~');
      expect(blockedText).toContain('0.95');
      expect(blockedText).toContain('NOT executed');
      expect(out.content[2]).toEqual(HARMLESS);
      expect(out.stop_reason).toBe('tool_use');

      expect(events.map((e) => e.type).sort()).toEqual([
        'policy.tool-call-judge.allowed',
        'policy.tool-call-judge.blocked',
      ]);
      const blocked = events.find((e) => e.type.endsWith('.blocked'));
      expect(blocked?.data).toMatchObject({
        tool: 'bash',
        toolCallId: 'toolu_rm',
        arguments: '{"command":"rm -rf ~"}',
        probability: 0.95,
        threshold: 0.6,
      });
      expect(String(blocked?.data.explanation)).toContain('rm -rf');
      expect(typeof blocked?.data.latencyMs).toBe('number');
      const allowed = events.find((e) => e.type.endsWith('.allowed'));
      expect(allowed?.data).toMatchObject({ tool: 'bash', toolCallId: 'toolu_ls', probability: 0.05 });
    });

    it('turns tool_use into end_turn when every call is blocked', async () => {
      const message = assistantMessage([
        text('On it.'),
        DANGEROUS,
        tool('toolu_sql', 'psql', { query: 'DROP TABLE users;' }),
      ]);
      const { message: out } = await both(judge({ format }), message);
      expect(out.content.map((b) => b.type)).toEqual(['text', 'text', 'text']);
      expect(String(out.content[2]?.text)).toContain('DROP TABLE');
      expect(out.stop_reason).toBe('end_turn');
    });
  });

  it('sends the default instructions and a prompt naming the tool and its arguments', async () => {
    await runWhole(judge(), assistantMessage([HARMLESS]));
    const body = mock.requests[mock.requests.length - 1]?.body as { messages: Array<{ content: string }> };
    expect(body.messages[0]?.content).toBe(DEFAULT_TOOL_JUDGE_INSTRUCTIONS);
    expect(body.messages[1]?.content).toContain('Tool name: bash');
    expect(body.messages[1]?.content).toContain('{"command":"ls -la"}');
  });

  it('leaves text-only messages alone without calling the judge', async () => {
    const before = mock.stats.requests;
    const message = assistantMessage([text('Just words: rm -rf ~')], 'end_turn');
    const { message: out, events } = await both(judge(), message);
    expect(out).toEqual(message);
    expect(events).toEqual([]);
    expect(mock.stats.requests).toBe(before);
  });

  it('blocks at probability >= threshold (inclusive)', async () => {
    const message = assistantMessage([DANGEROUS]);
    expect(blockSummary((await both(judge({ threshold: 0.95 }), message)).message)[0]).toContain('⛔');
    expect(blockSummary((await both(judge({ threshold: 0.96 }), message)).message)).toEqual([
      'tool_use:bash',
    ]);
  });

  it('shows the judge the whole arguments, and truncates them in the events and the message', async () => {
    // The danger sits past the display bound: a judge shown only the first characters would pass it.
    const long = tool('toolu_long', 'bash', {
      command: `echo ${'x'.repeat(200)}; rm -rf ~`,
    });
    const { message: out, events } = await both(judge({ maxArgumentChars: 20 }), assistantMessage([long]));
    expect(events.map((e) => e.type)).toEqual(['policy.tool-call-judge.blocked']);
    const args = String(events[0]?.data.arguments);
    expect(args.startsWith('{"command":"echo xxx')).toBe(true);
    expect(args).toContain('more characters]');
    expect(String(out.content[0]?.text)).toContain(args);
    const body = mock.requests[mock.requests.length - 1]?.body as { messages: Array<{ content: string }> };
    expect(body.messages[1]?.content).toContain(JSON.stringify(long.input));
  });

  it('does not ask the judge about arguments longer than maxJudgedArgumentChars: onError decides', async () => {
    const long = tool('toolu_long', 'bash', { command: `echo ${'x'.repeat(100)}` });
    const length = JSON.stringify(long.input).length;
    const before = mock.stats.requests;
    const { message: out, events } = await both(
      judge({ maxJudgedArgumentChars: 50 }),
      assistantMessage([long]),
    );
    expect(mock.stats.requests).toBe(before);
    expect(blockSummary(out)).toEqual([expect.stringContaining('⛔') as unknown]);
    expect(String(out.content[0]?.text)).toContain(
      `judge unavailable: arguments of ${length} characters exceed maxJudgedArgumentChars (50)`,
    );
    expect(events.map((e) => e.type)).toEqual([
      'policy.tool-call-judge.error',
      'policy.tool-call-judge.blocked',
    ]);
    const open = await both(
      judge({ maxJudgedArgumentChars: 50, onError: 'allow' }),
      assistantMessage([long]),
    );
    expect(open.message.content).toEqual([long]);
    // At the bound exactly, the judge is asked.
    await both(judge({ maxJudgedArgumentChars: length }), assistantMessage([long]));
    expect(mock.stats.requests).toBe(before + 2);
  });

  it('fills a custom template', async () => {
    const policy = judge({ blockedMessage: 'No {tool} ({probability}): {explanation} {unknown}' });
    const { message: out } = await both(policy, assistantMessage([DANGEROUS]));
    expect(out.content[0]?.text).toBe(
      'No bash (0.95): mock judge: matched dangerous pattern rm -rf {unknown}',
    );
  });

  describe('judge failures', () => {
    const failures: Array<[string, MockScript, Record<string, unknown>, string]> = [
      ['an unparsable reply', { text: 'I think this is fine.' }, {}, 'judge reply holds no JSON object'],
      ['a reply without probability', { text: '{"explanation": "fine"}' }, {}, 'no numeric "probability"'],
      ['a 500', { status: 500 }, {}, 'judge answered HTTP 500'],
      ['a timeout', { ttftMs: 2_000 }, { timeoutMs: 150 }, 'judge did not answer within 150 ms'],
    ];

    it.each(failures)(
      'blocks on %s with onError block (default)',
      async (_label, script, options, reason) => {
        const message = assistantMessage([text('Trying.'), scriptedTool('toolu_x', script), HARMLESS]);
        const { message: out, events } = await both(judge(options), message);
        expect(blockSummary(out)).toEqual([
          'Trying.',
          expect.stringContaining('judge unavailable') as unknown,
          'tool_use:bash',
        ]);
        expect(String(out.content[1]?.text)).toContain(reason);
        expect(String(out.content[1]?.text)).toContain('risk n/a');
        expect(out.stop_reason).toBe('tool_use');
        const error = events.find((e) => e.type === 'policy.tool-call-judge.error');
        expect(String(error?.data.error)).toContain(reason);
        expect(error?.data.onError).toBe('block');
        const blocked = events.find((e) => e.type === 'policy.tool-call-judge.blocked');
        expect(blocked?.data).toMatchObject({ toolCallId: 'toolu_x', probability: null });
        expect(String(blocked?.data.explanation)).toBe(`judge unavailable: ${String(error?.data.error)}`);
      },
    );

    it.each(failures)('passes on %s with onError allow', async (_label, script, options, reason) => {
      const scripted = scriptedTool('toolu_x', script);
      const message = assistantMessage([scripted, HARMLESS]);
      const { message: out, events } = await both(judge({ ...options, onError: 'allow' }), message);
      expect(out.content).toEqual([scripted, HARMLESS]);
      const types = events.map((e) => e.type);
      expect(types.filter((t) => t.endsWith('.error'))).toHaveLength(1);
      expect(types.filter((t) => t.endsWith('.allowed'))).toHaveLength(2);
      expect(String(events.find((e) => e.type.endsWith('.error'))?.data.error)).toContain(reason);
    });
  });

  it('judges the calls of a message concurrently', async () => {
    const seen: string[] = [];
    const onRequest = (r: MockRequestRecord): void => void seen.push(`request ${r.id}`);
    const onCompleted = (r: MockRequestRecord): void => void seen.push(`completed ${r.id}`);
    mock.events.on('request', onRequest);
    mock.events.on('completed', onCompleted);
    try {
      const message = assistantMessage([
        scriptedTool('toolu_a', { ttftMs: 300 }),
        scriptedTool('toolu_b', { ttftMs: 300 }),
      ]);
      const started = performance.now();
      const { message: out } = await runStreaming(judge(), message);
      const elapsed = performance.now() - started;
      expect(out.content.map((b) => b.id)).toEqual(['toolu_a', 'toolu_b']);
      // Both judge requests reached the mock before either was answered.
      expect(seen.map((s) => s.split(' ')[0])).toEqual(['request', 'request', 'completed', 'completed']);
      expect(elapsed).toBeLessThan(550);
    } finally {
      mock.events.off('request', onRequest);
      mock.events.off('completed', onCompleted);
    }
  });

  it('aborts the judge call when the call signal fires, and records no verdict', async () => {
    const controller = new AbortController();
    const requested = once(mock.events, 'request');
    const aborted = once(mock.events, 'aborted');
    const run = runStreaming(
      judge(),
      assistantMessage([scriptedTool('toolu_slow', { ttftMs: 10_000 })]),
      controller.signal,
    );
    await requested;
    controller.abort();
    await aborted;
    const { message: out, events } = await run;
    // Nothing reaches a client that is gone; the history must not count a block (or an error) that never was.
    expect(String(out.content[0]?.text)).toContain('the call ended before the judge answered');
    expect(events).toEqual([]);
  });

  it('is registered as a built-in and validates its options strictly', () => {
    const registry = new PolicyRegistry();
    for (const type of BUILTIN_POLICY_TYPES) registry.register(type);
    const config = (options: Record<string, unknown>): unknown => ({
      policies: [
        { type: 'tool-call-judge', options: { model: 'm', baseUrl: 'http://127.0.0.1:1/v1', ...options } },
      ],
    });
    expect(registry.build(config({}), 'test').map((p) => p.name)).toEqual(['tool-call-judge']);
    expect(() => registry.build(config({ threshold: 1.5 }), 'test')).toThrow(/threshold/);
    expect(() => registry.build(config({ baseUrl: 'ftp://x' }), 'test')).toThrow(/baseUrl/);
    expect(() => registry.build(config({ onError: 'maybe' }), 'test')).toThrow(/onError/);
    expect(() => registry.build(config({ temprature: 0 }), 'test')).toThrow(/temprature/);
    const defaults = toolCallJudgeOptions.parse({ model: 'm', baseUrl: 'https://api.openai.com/v1' });
    expect(defaults).toMatchObject({
      format: 'openai',
      threshold: 0.6,
      onError: 'block',
      timeoutMs: 30_000,
      maxArgumentChars: 4000,
      maxJudgedArgumentChars: 200_000,
      maxTokens: 256,
    });
    const schema = registry.list().find((t) => t.name === 'tool-call-judge')?.optionsSchema as {
      properties: Record<string, { description?: string }>;
    };
    for (const [key, property] of Object.entries(schema.properties))
      expect([key, property.description]).toEqual([key, expect.any(String)]);
  });
});

describe('readToolCallJudgement', () => {
  it('clamps the probability to [0, 1]', () => {
    expect(readToolCallJudgement({ probability: 1.7 }).probability).toBe(1);
    expect(readToolCallJudgement({ probability: -0.2 }).probability).toBe(0);
    expect(readToolCallJudgement({ probability: 85 }).probability).toBe(1);
    expect(readToolCallJudgement({ probability: '0.7' }).probability).toBe(0.7);
    expect(clampProbability(0.42)).toBe(0.42);
  });

  it('defaults the explanation and bounds it', () => {
    expect(readToolCallJudgement({ probability: 0 }).explanation).toBe('no explanation given');
    expect(readToolCallJudgement({ probability: 0, explanation: '  why  ' }).explanation).toBe('why');
    expect(
      readToolCallJudgement({ probability: 0, explanation: 'x'.repeat(5000) }).explanation.length,
    ).toBeLessThan(1100);
  });

  it.each([
    {},
    { probability: null },
    { probability: 'high' },
    { probability: '' },
    { probability: NaN },
    [],
    'x',
    null,
  ])('refuses %j (a missing probability never passes silently)', (reply) => {
    expect(() => readToolCallJudgement(reply)).toThrow(/probability|JSON object/);
  });
});
