import fc from 'fast-check';
import {
  MessageAssembler,
  AnthropicStreamValidator,
  type AnthropicContentBlock,
  type AnthropicResponse,
  type JsonObject,
} from '@warden/llm';
import type { Policy } from '../core/policy';
import { PolicyConfigException } from '../registry/policy-config.exception';
import { PolicyRegistry } from '../registry/policy-registry';
import { PolicyTimings } from '../runtime/policy-timings';
import { PolicyChain } from '../runtime/policy-chain';
import {
  assistantMessage,
  callInfo,
  chainOf,
  chunkedEvents,
  runStream,
  runWhole,
  type SeenEvent,
  type StreamRun,
} from '../testing/policy-test-kit';
import { DEFAULT_BLOCK_MESSAGE, regexBlockPolicyType } from './regex-block.policy';
import { stringReplacePolicyType } from './string-replace.policy';

const NUM_RUNS = 300;
const TEMPLATE = '[blocked {pattern}: {match}]';

function policyOf(options: unknown): Policy {
  return regexBlockPolicyType.create(regexBlockPolicyType.options.parse(options), { name: 'x' });
}

function message(content: AnthropicContentBlock[], stopReason = 'tool_use'): AnthropicResponse {
  return assistantMessage(content, stopReason, { input_tokens: 1, output_tokens: 2 });
}

const text = (value: string): AnthropicContentBlock => ({ type: 'text', text: value });
const tool = (id: string, input: JsonObject, name = 'sql'): AnthropicContentBlock => ({
  type: 'tool_use',
  id,
  name,
  input,
});

/** Streams (chunked) and runs whole; checks they agree; returns the streamed run. */
async function both(
  policy: Policy,
  msg: AnthropicResponse,
  sizes: readonly number[] = [1],
): Promise<StreamRun> {
  const streamed = await runStream(policy, chunkedEvents(msg, sizes));
  const whole = await runWhole(policy, msg);
  expect(whole.message).toEqual(streamed.message);
  expect(whole.events).toEqual(streamed.events);
  return streamed;
}

describe('regex-block', () => {
  describe('request scope', () => {
    const policy = policyOf({ patterns: ['DROP\\s+TABLE', 'rm\\s+-rf'], message: TEMPLATE });

    it('answers directly with the filled message when any request text matches', async () => {
      const seen: SeenEvent[] = [];
      const outcome = await chainOf([policy])
        .begin(callInfo(), (type, data) => seen.push({ type, data }))
        .onRequest({
          format: 'anthropic',
          body: {
            system: 'You are helpful.',
            messages: [
              { role: 'user', content: 'Hi' },
              {
                role: 'user',
                content: [
                  {
                    type: 'tool_result',
                    tool_use_id: 't',
                    content: [{ type: 'text', text: 'ok; drop  table users' }],
                  },
                ],
              },
            ],
          },
        });
      expect(outcome).toEqual({
        action: 'respond',
        text: '[blocked DROP\\s+TABLE: drop  table]',
        policy: 'x',
      });
      expect(seen).toEqual([
        { type: 'policy.x.blocked', data: { scope: 'request', pattern: 'DROP\\s+TABLE' } },
      ]);
    });

    it('forwards a request that does not match (OpenAI format too)', async () => {
      const body = {
        messages: [
          { role: 'system', content: 'tables are fine' },
          { role: 'user', content: 'rm file' },
        ],
      };
      const outcome = await chainOf([policy])
        .begin(callInfo(), () => undefined)
        .onRequest({ format: 'openai', body });
      expect(outcome).toEqual({ action: 'forward', request: body, rewritten: false });
      const hit = await chainOf([policy])
        .begin(callInfo(), () => undefined)
        .onRequest({ format: 'openai', body: { messages: [{ role: 'user', content: 'please RM -rf /' }] } });
      expect(hit).toMatchObject({ action: 'respond', text: '[blocked rm\\s+-rf: RM -rf]' });
    });

    it('leaves response text alone with the default scopes', async () => {
      const msg = message([text('DROP TABLE users')], 'end_turn');
      const run = await both(policyOf({ patterns: ['DROP\\s+TABLE'] }), msg);
      expect(run.message.content).toEqual([text('DROP TABLE users')]);
      expect(run.events).toEqual([]);
    });
  });

  describe('tool_call scope', () => {
    const policy = policyOf({ patterns: ['DROP\\s+TABLE', '^delete_'], scopes: ['tool_call'] });

    it('replaces a matching tool call by the message and fixes the stop reason', async () => {
      const msg = message([text('Cleaning up.'), tool('toolu_1', { query: 'DROP TABLE users;' })]);
      const run = await both(policy, msg, [3]);
      expect(run.message.content).toEqual([
        text('Cleaning up.'),
        text('Blocked by policy: the content matched a forbidden pattern (DROP\\s+TABLE).'),
      ]);
      expect(run.message.stop_reason).toBe('end_turn');
      expect(run.events).toEqual([
        { type: 'policy.x.blocked', data: { scope: 'tool_call', pattern: 'DROP\\s+TABLE', tool: 'sql' } },
      ]);
    });

    it('matches the name, and argument strings as the tool sees them (JSON escapes decoded)', async () => {
      const msg = message([
        tool('toolu_1', { query: 'drop\ntable x' }),
        tool('toolu_2', { query: 'select 1' }),
        tool('toolu_3', { id: 4 }, 'delete_user'),
      ]);
      const run = await both(policy, msg);
      expect(run.message.content).toEqual([
        text('Blocked by policy: the content matched a forbidden pattern (DROP\\s+TABLE).'),
        text('Blocked by policy: the content matched a forbidden pattern (^delete_).'),
        tool('toolu_2', { query: 'select 1' }),
      ]);
      expect(run.message.stop_reason).toBe('tool_use');
    });

    it('does not look at response text', async () => {
      const run = await both(policy, message([text('DROP TABLE x')], 'end_turn'));
      expect(run.message.content).toEqual([text('DROP TABLE x')]);
    });
  });

  describe('response scope', () => {
    const policy = policyOf({
      patterns: ['DROP\\s+TABLE'],
      scopes: ['response'],
      message: TEMPLATE,
      maxMatchLength: 16,
    });

    it('forwards the text before the match, then the message; suppresses later text and drops later tool calls', async () => {
      const msg = message([
        text('First, '),
        tool('toolu_1', { query: 'select 1' }),
        text('run: DROP   TABLE users; then relax.'),
        text('More text.'),
        tool('toolu_2', { query: 'select 2' }),
      ]);
      const run = await both(policy, msg, [2, 5]);
      expect(run.message.content).toEqual([
        text('First, '),
        text('run: [blocked DROP\\s+TABLE: DROP   TABLE]'),
        tool('toolu_1', { query: 'select 1' }),
      ]);
      expect(run.message.stop_reason).toBe('tool_use');
      expect(run.events).toEqual([
        { type: 'policy.x.blocked', data: { scope: 'response', pattern: 'DROP\\s+TABLE' } },
      ]);
    });

    it('ends the turn when every tool call comes after the match', async () => {
      const msg = message([text('drop table t'), tool('toolu_1', { query: 'x' })]);
      const run = await both(policy, msg);
      expect(run.message.content).toEqual([text('[blocked DROP\\s+TABLE: drop table]')]);
      expect(run.message.stop_reason).toBe('end_turn');
    });

    it('streams unmatched text holding back at most twice maxMatchLength characters', async () => {
      const long = 'harmless words only; '.repeat(10);
      const events = chunkedEvents(message([text(long)], 'end_turn'), [1]);
      const transform = chainOf([policy])
        .begin(callInfo(), () => undefined)
        .streamTransform();
      let received = 0;
      let sent = 0;
      for (const event of events) {
        if (event.type === 'content_block_delta') received++;
        for (const out of await transform.push(event)) {
          if (out.type === 'content_block_delta' && out.delta.type === 'text_delta')
            sent += String(out.delta.text).length;
        }
        if (event.type === 'content_block_delta') expect(received - sent).toBeLessThanOrEqual(32);
      }
      expect(sent).toBe(long.length);
    });

    it('is chunking-invariant and equal to cutting the whole text at the first match', async () => {
      const PATTERNS = ['DROP\\s{1,3}TABLE', 'rm -rf', '\\bsecret\\b', 'a{3}'];
      const fragment = fc.oneof(
        fc.constantFrom(
          'DROP TABLE',
          'drop  table',
          'DROP',
          ' TABLE',
          'rm -rf',
          'rm -r',
          'secret',
          'secrets',
          'aa',
          'a',
        ),
        fc.string({ unit: fc.constantFrom('a', 'b', 'r', 'm', ' ', '-', 'f', '\n', 'é'), maxLength: 6 }),
      );
      const body = fc.array(fragment, { maxLength: 12 }).map((parts) => parts.join(''));
      await fc.assert(
        fc.asyncProperty(
          body,
          body,
          fc.shuffledSubarray(PATTERNS, { minLength: 1 }),
          fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 6 }),
          fc.integer({ min: 12, max: 20 }),
          async (first, second, patterns, sizes, maxMatchLength) => {
            const p = policyOf({ patterns, scopes: ['response'], message: TEMPLATE, maxMatchLength });
            const msg = message([
              text(first),
              tool('toolu_1', { q: 'rm -rf' }),
              text(second),
              tool('toolu_2', {}),
            ]);

            // The reference: blocks in stream order; the earliest match (first pattern on a tie) cuts the text.
            let blocked: string | undefined;
            const cut = (value: string): string => {
              if (blocked !== undefined) return '';
              let best: { index: number; pattern: string; match: string } | undefined;
              for (const pattern of patterns) {
                const m = new RegExp(pattern, 'i').exec(value);
                if (m !== null && (best === undefined || m.index < best.index))
                  best = { index: m.index, pattern, match: m[0] };
              }
              if (best === undefined) return value;
              blocked = best.pattern;
              return `${value.slice(0, best.index)}[blocked ${best.pattern}: ${best.match}]`;
            };
            const a = cut(first);
            const firstToolPasses = blocked === undefined;
            const b = cut(second);
            const tools = [
              ...(firstToolPasses ? [tool('toolu_1', { q: 'rm -rf' })] : []),
              ...(blocked === undefined ? [tool('toolu_2', {})] : []),
            ];
            const run = await both(p, msg, sizes);
            expect(run.message.content).toEqual([
              ...(a === '' ? [] : [text(a)]),
              ...(b === '' ? [] : [text(b)]),
              ...tools,
            ]);
            expect(run.message.stop_reason).toBe(tools.length > 0 ? 'tool_use' : 'end_turn');
            expect(run.events).toEqual(
              blocked === undefined
                ? []
                : [{ type: 'policy.x.blocked', data: { scope: 'response', pattern: blocked } }],
            );
          },
        ),
        { numRuns: NUM_RUNS },
      );
    });
  });

  it('composes in a chain after string-replace, streaming and whole alike', async () => {
    const rewrite = stringReplacePolicyType.create(
      stringReplacePolicyType.options.parse({ rules: [{ match: 'DELETE', replace: 'DROP' }] }),
      { name: 'rewrite' },
    );
    const guard = policyOf({ patterns: ['DROP TABLE'], scopes: ['response'], message: TEMPLATE });
    const chain = new PolicyChain([rewrite, guard], {
      maxBufferBytes: 1 << 20,
      timings: new PolicyTimings(),
    });
    const msg = message([text('ok DELETE TABLE x'), tool('toolu_1', {})]);
    const seen: string[] = [];
    const transform = chain.begin(callInfo(), (type) => seen.push(type)).streamTransform();
    const validator = new AnthropicStreamValidator();
    const assembler = new MessageAssembler();
    for (const event of chunkedEvents(msg, [1, 2])) {
      for (const out of await transform.push(event)) {
        validator.check(out);
        assembler.push(out);
      }
    }
    for (const out of await transform.end()) assembler.push(out);
    expect(assembler.message.content).toEqual([text('ok [blocked DROP TABLE: DROP TABLE]')]);
    expect(assembler.message.stop_reason).toBe('end_turn');
    expect(seen).toEqual(['policy.x.blocked', 'policy.rewrite.replaced']);
    const whole = await chain.begin(callInfo(), () => undefined).transformMessage(structuredClone(msg));
    expect(whole).toEqual(assembler.message);
  });

  describe('options', () => {
    function buildError(options: unknown): string {
      const registry = new PolicyRegistry();
      registry.register(regexBlockPolicyType);
      try {
        registry.build({ policies: [{ type: 'regex-block', name: 'sql-guard', options }] }, 'test');
      } catch (error) {
        expect(error).toBeInstanceOf(PolicyConfigException);
        return (error as Error).message;
      }
      throw new Error('expected a PolicyConfigException');
    }

    it('applies defaults', () => {
      expect(regexBlockPolicyType.options.parse({ patterns: ['x'] })).toEqual({
        patterns: ['x'],
        flags: 'i',
        scopes: ['request', 'tool_call'],
        message: DEFAULT_BLOCK_MESSAGE,
        maxMatchLength: 256,
      });
    });

    it('names the policy and the pattern of an invalid regex', () => {
      const error = buildError({ patterns: ['ok', '(unclosed'] });
      expect(error).toContain('policies.0 (regex-block): option patterns.1: Invalid regular expression');
      expect(error).not.toContain('patterns.0');
    });

    it('refuses bad flags, empty lists and unknown scopes', () => {
      expect(buildError({ patterns: ['x'], flags: 'g' })).toContain(
        'option flags: only the flags i, m, s and u',
      );
      expect(buildError({ patterns: ['x'], flags: 'ii' })).toContain('option flags:');
      expect(buildError({ patterns: [] })).toContain('option patterns:');
      expect(buildError({ patterns: ['x'], scopes: [] })).toContain('option scopes:');
      expect(buildError({ patterns: ['x'], scopes: ['thinking'] })).toContain('option scopes.0:');
      expect(buildError({ patterns: ['x'], maxMatchLength: 0 })).toContain('option maxMatchLength:');
    });
  });
});
