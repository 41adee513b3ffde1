import fc from 'fast-check';
import {
  messageToEvents,
  type AnthropicContentBlock,
  type AnthropicResponse,
  type AnthropicStreamEvent,
} from '@warden/llm';
import type { Policy } from '../core/policy';
import { PolicyConfigException } from '../registry/policy-config.exception';
import { PolicyRegistry } from '../registry/policy-registry';
import {
  assistantMessage,
  callInfo,
  chainOf,
  chunkedEvents,
  runStream,
  runWhole,
  type SeenEvent,
} from '../testing/policy-test-kit';
import { expandReplacement, StreamScanner, stringReplacePolicyType } from './string-replace.policy';

const NUM_RUNS = 300;

function policyOf(options: unknown): Policy {
  return stringReplacePolicyType.create(stringReplacePolicyType.options.parse(options), { name: 'x' });
}

function message(content: AnthropicContentBlock[]): AnthropicResponse {
  return assistantMessage(content, 'end_turn', { input_tokens: 1, output_tokens: 2 });
}

interface RuleSpec {
  match: string;
  replace: string;
  regex?: boolean;
  flags?: string;
}

/** The rules applied to a whole text, one after the other, with the count of replacements. */
function reference(text: string, rules: readonly RuleSpec[]): { text: string; count: number } {
  let current = text;
  let count = 0;
  for (const rule of rules) {
    if (rule.regex === true) {
      const regex = new RegExp(rule.match, `${rule.flags ?? ''}g`);
      count += [...current.matchAll(regex)].length;
      current = current.replace(regex, rule.replace);
    } else {
      count += current.split(rule.match).length - 1;
      current = current.split(rule.match).join(rule.replace);
    }
  }
  return { text: current, count };
}

describe('string-replace', () => {
  it('replaces a literal split across two deltas, holding only match length - 1 characters', async () => {
    const policy = policyOf({ rules: [{ match: 'pip install', replace: 'uv add' }] });
    const msg = message([{ type: 'text', text: '' }]);
    const events = messageToEvents(msg);
    const deltas: AnthropicStreamEvent[] = [
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'say: pip ins' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'tall x' } },
    ];
    events.splice(2, 0, ...deltas);
    const run = await runStream(policy, events);
    expect(run.message.content).toEqual([{ type: 'text', text: 'say: uv add x' }]);
    // 12 characters in, 10 held (the longest prefix of "pip install" that could still grow into a match).
    expect(run.deltas).toEqual(['sa', 'y: uv add', ' x']);
    expect(run.events).toEqual([{ type: 'policy.x.replaced', data: { scope: 'response', count: 1 } }]);
  });

  it('applies the rules one after the other, literal and regex, with $ references', async () => {
    const policy = policyOf({
      rules: [
        { match: 'colou?r', replace: '<$&>', regex: true, flags: 'i' },
        { match: '(?<a>\\d)-(\\d)', replace: '$2-$<a>-$$-$3', regex: true },
        { match: '<', replace: '[' },
      ],
    });
    const msg = message([{ type: 'text', text: 'Colour 1-2 color' }]);
    const run = await runStream(policy, chunkedEvents(msg, [1]));
    expect(run.message.content).toEqual([{ type: 'text', text: '[Colour> 2-1-$-$3 [color>' }]);
    expect(run.events).toEqual([{ type: 'policy.x.replaced', data: { scope: 'response', count: 5 } }]);
  });

  it('leaves thinking, tool calls and their order alone and keeps the stop reason', async () => {
    const policy = policyOf({ rules: [{ match: 'a', replace: 'b' }] });
    const msg = {
      ...message([
        { type: 'thinking', thinking: 'a thought', signature: 'sig' },
        { type: 'text', text: 'a cat' },
        { type: 'tool_use', id: 'toolu_1', name: 'bash', input: { command: 'cat a' } },
      ]),
      stop_reason: 'tool_use',
    };
    const run = await runStream(policy, chunkedEvents(msg, [2]));
    expect(run.message.content).toEqual([
      { type: 'thinking', thinking: 'a thought', signature: 'sig' },
      { type: 'text', text: 'b cbt' },
      { type: 'tool_use', id: 'toolu_1', name: 'bash', input: { command: 'cat a' } },
    ]);
    expect(run.message.stop_reason).toBe('tool_use');
  });

  it('does not open a text block that the rules empty', async () => {
    const policy = policyOf({ rules: [{ match: 'gone', replace: '' }] });
    const msg = message([
      { type: 'text', text: 'gone' },
      { type: 'text', text: 'kept' },
    ]);
    const run = await runStream(policy, chunkedEvents(msg, [1]));
    expect(run.message.content).toEqual([{ type: 'text', text: 'kept' }]);
    expect((await runWhole(policy, msg)).message).toEqual(run.message);
  });

  it('emits nothing when nothing was replaced', async () => {
    const run = await runStream(
      policyOf({ rules: [{ match: 'zzz', replace: 'y' }] }),
      chunkedEvents(message([{ type: 'text', text: 'abc' }]), [1]),
    );
    expect(run.events).toEqual([]);
  });

  it('never splits a surrogate pair across deltas', async () => {
    const policy = policyOf({ rules: [{ match: 'x', replace: '😀', regex: true }], maxMatchLength: 1 });
    const run = await runStream(
      policy,
      chunkedEvents(message([{ type: 'text', text: 'axbxcxdxexfxg' }]), [1]),
    );
    for (const delta of run.deltas) expect(/[\ud800-\udbff]$/.test(delta)).toBe(false);
    expect(run.message.content).toEqual([{ type: 'text', text: 'a😀b😀c😀d😀e😀f😀g' }]);
  });

  it('rewrites request text in both formats when the scope includes request', async () => {
    const policy = policyOf({ rules: [{ match: 'secret', replace: '[redacted]' }], scope: ['request'] });
    const seen: SeenEvent[] = [];
    const run = chainOf([policy]).begin(callInfo(), (type, data) => seen.push({ type, data }));
    const anthropic = await run.onRequest({
      format: 'anthropic',
      body: {
        system: 'no secret here',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'my secret is secret' }] }],
      },
    });
    expect(anthropic).toEqual({
      action: 'forward',
      rewritten: true,
      request: {
        system: 'no [redacted] here',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'my [redacted] is [redacted]' }] }],
      },
    });
    expect(seen).toEqual([{ type: 'policy.x.replaced', data: { scope: 'request', count: 3 } }]);
    const openai = await chainOf([policy])
      .begin(callInfo(), () => undefined)
      .onRequest({ format: 'openai', body: { messages: [{ role: 'system', content: 'a secret' }] } });
    expect(openai).toMatchObject({ request: { messages: [{ role: 'system', content: 'a [redacted]' }] } });
    const untouched = { format: 'openai' as const, body: { messages: [{ role: 'user', content: 'hello' }] } };
    expect(
      await chainOf([policy])
        .begin(callInfo(), () => undefined)
        .onRequest(untouched),
    ).toEqual({
      action: 'forward',
      request: untouched.body,
      rewritten: false,
    });
    // Response scope off: no response hooks at all, the stream stays on the pass-through path.
    expect(chainOf([policy]).hasResponseHooks).toBe(false);
  });

  it('holds at most twice maxMatchLength characters for a regex rule', async () => {
    const policy = policyOf({ rules: [{ match: 'q+z', replace: '!', regex: true }], maxMatchLength: 4 });
    const text = 'abcdefghij'.repeat(5);
    const msg = message([{ type: 'text', text }]);
    const events = chunkedEvents(msg, [1]);
    const seen: string[] = [];
    const transform = chainOf([policy])
      .begin(callInfo(), () => undefined)
      .streamTransform();
    let received = 0;
    for (const event of events) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') received++;
      for (const out of await transform.push(event)) {
        if (out.type === 'content_block_delta' && out.delta.type === 'text_delta')
          seen.push(String(out.delta.text));
      }
      if (event.type === 'content_block_delta')
        expect(received - seen.join('').length).toBeLessThanOrEqual(8);
    }
    expect(seen.join('')).toBe(text);
  });

  describe('is chunking-invariant and equal to the rules applied to the whole text', () => {
    const POOL: RuleSpec[] = [
      { match: 'pip install', replace: 'uv add' },
      { match: 'aa', replace: 'a' },
      { match: 'x', replace: 'xx' },
      { match: 'ab', replace: 'ba' },
      { match: 'colou?r', replace: 'color', regex: true, flags: 'i' },
      { match: '\\bcat\\b', replace: 'dog', regex: true },
      { match: '(\\d)(\\d)', replace: '$2$1', regex: true },
      { match: 'b?', replace: '-', regex: true },
      { match: 'a{2,3}', replace: '<$&>', regex: true, flags: 'i' },
      { match: '(?<=p)i', replace: 'I', regex: true },
      { match: '^t|s$', replace: '#', regex: true, flags: 'm' },
      { match: '.\\n', replace: '|', regex: true, flags: 's' },
    ];
    const PLANTED = [
      'pip install',
      'pip ins',
      'colour',
      'COLOR',
      ' cat ',
      'cat',
      '12',
      'aaa',
      'AA',
      'b',
      'x',
      'ab',
      '\n',
      '😀',
    ];
    const fragment = fc.oneof(
      fc.constantFrom(...PLANTED),
      fc.string({
        unit: fc.constantFrom('a', 'b', 'c', 'p', 'i', 's', 't', 'x', '1', '2', ' ', '\n', 'é'),
        maxLength: 6,
      }),
    );
    const text = fc.array(fragment, { minLength: 1, maxLength: 25 }).map((parts) => parts.join(''));
    const rules = fc.shuffledSubarray(POOL, { minLength: 1, maxLength: 5 });
    const sizes = fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 8 });

    it('over text blocks around thinking and a tool call, streaming and whole', async () => {
      await fc.assert(
        fc.asyncProperty(
          text,
          text,
          rules,
          sizes,
          fc.integer({ min: 6, max: 14 }),
          async (first, second, chosen, cuts, maxMatchLength) => {
            const policy = policyOf({ rules: chosen, maxMatchLength });
            const msg = {
              ...message([
                { type: 'text', text: first },
                { type: 'thinking', thinking: 'pip install aa', signature: 's' },
                { type: 'text', text: second },
                { type: 'tool_use', id: 'toolu_1', name: 'x', input: { a: 'pip install' } },
              ]),
              stop_reason: 'tool_use',
            };
            const a = reference(first, chosen);
            const b = reference(second, chosen);
            const expected: AnthropicContentBlock[] = [
              ...(a.text === '' ? [] : [{ type: 'text', text: a.text }]),
              { type: 'thinking', thinking: 'pip install aa', signature: 's' },
              ...(b.text === '' ? [] : [{ type: 'text', text: b.text }]),
              { type: 'tool_use', id: 'toolu_1', name: 'x', input: { a: 'pip install' } },
            ];
            const streamed = await runStream(policy, chunkedEvents(msg, cuts));
            expect(streamed.message.content).toEqual(expected);
            const whole = await runWhole(policy, msg);
            expect(whole.message).toEqual(streamed.message);
            const count = a.count + b.count;
            const emitted =
              count === 0 ? [] : [{ type: 'policy.x.replaced', data: { scope: 'response', count } }];
            expect(streamed.events).toEqual(emitted);
            expect(whole.events).toEqual(emitted);
          },
        ),
        { numRuns: NUM_RUNS },
      );
    });

    it('for the scanner alone, with any pattern (even unbounded ones) and any split', () => {
      const patterns = fc.constantFrom('a+', 'x*', '\\w+\\s', '(?<=a)b|c$', '^.', 'b');
      fc.assert(
        fc.property(
          text,
          patterns,
          fc.array(fc.nat(), { maxLength: 10 }),
          fc.integer({ min: 1, max: 6 }),
          (input, pattern, points, max) => {
            const render = (cuts: number[]) => {
              const scanner = new StreamScanner([new RegExp(pattern, 'gm')], max);
              const segments = [];
              let last = 0;
              for (const cut of [...cuts].sort((x, y) => x - y)) {
                segments.push(...scanner.push(input.slice(last, cut)));
                last = cut;
              }
              segments.push(...scanner.push(input.slice(last)), ...scanner.end());
              return segments.map((s) => (typeof s === 'string' ? s : `[${s.match[0]}]`)).join('');
            };
            const whole = render([]);
            expect(render(points.map((p) => p % (input.length + 1)))).toBe(whole);
          },
        ),
        { numRuns: NUM_RUNS },
      );
    });
  });

  it('expands $ references exactly as String.prototype.replace', () => {
    const templates = fc.stringMatching(/^(?:[a-z]|\$[$&0-9<>]|\$\d\d|\$<[a-z]{0,2}>?|[<>0-9])*$/, {
      maxLength: 12,
    });
    const regexes = [/(a)(b)?/, /(?<x>a)(?<y>b)/, /a/, /(a)(b)(c)?(d)?(e)?(f)?(g)?(h)?(i)?(j)?(k)?/];
    fc.assert(
      fc.property(templates, fc.constantFrom(...regexes), (template, regex) => {
        const match = regex.exec('zabz');
        if (match === null) return;
        expect(expandReplacement(template, match)).toBe(match[0].replace(regex, template));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  describe('options', () => {
    function buildError(options: unknown): string {
      const registry = new PolicyRegistry();
      registry.register(stringReplacePolicyType);
      try {
        registry.build({ policies: [{ type: 'string-replace', options }] }, 'test');
      } catch (error) {
        expect(error).toBeInstanceOf(PolicyConfigException);
        return (error as Error).message;
      }
      throw new Error('expected a PolicyConfigException');
    }

    it('applies defaults', () => {
      expect(stringReplacePolicyType.options.parse({ rules: [{ match: 'a', replace: 'b' }] })).toEqual({
        rules: [{ match: 'a', replace: 'b', regex: false }],
        scope: ['response'],
        maxMatchLength: 256,
      });
    });

    it('names the policy and the rule of an invalid regex', () => {
      const message = buildError({
        rules: [
          { match: 'ok', replace: '' },
          { match: '(', replace: '', regex: true },
        ],
      });
      expect(message).toContain('policies.0 (string-replace): option rules.1.match: rule 1:');
      expect(message).toContain('Invalid regular expression');
    });

    it('refuses flags outside i, m, s, u, duplicated flags, flags on literal rules', () => {
      expect(buildError({ rules: [{ match: 'a', replace: '', regex: true, flags: 'g' }] })).toContain(
        'option rules.0.flags: only the flags i, m, s and u are allowed',
      );
      expect(buildError({ rules: [{ match: 'a', replace: '', regex: true, flags: 'ii' }] })).toContain(
        'option rules.0.flags: rule 0:',
      );
      expect(buildError({ rules: [{ match: 'a', replace: '', flags: 'i' }] })).toContain(
        'option rules.0.flags: flags apply to regex rules only',
      );
    });

    it("refuses $` and $' in regex replacements, empty rules, unknown options", () => {
      expect(buildError({ rules: [{ match: 'a', replace: "x$'", regex: true }] })).toContain(
        "option rules.0.replace: rule 0: $' is not supported",
      );
      expect(() => policyOf({ rules: [{ match: 'a', replace: "$$'", regex: true }] })).not.toThrow();
      expect(buildError({ rules: [] })).toContain('option rules:');
      expect(buildError({ rules: [{ match: '', replace: 'x' }] })).toContain('option rules.0.match:');
      expect(buildError({ rules: [{ match: 'a', replace: 'b' }], scope: ['tool'] })).toContain(
        'option scope.0:',
      );
      expect(buildError({ rules: [{ match: 'a', replace: 'b' }], extra: 1 })).toContain(
        'policies.0 (string-replace)',
      );
    });
  });
});
