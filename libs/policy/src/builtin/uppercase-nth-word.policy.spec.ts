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
import { assistantMessage, chunkedEvents, runStream, runWhole } from '../testing/policy-test-kit';
import { uppercaseNthWordPolicyType } from './uppercase-nth-word.policy';

const NUM_RUNS = 300;

function policyOf(options: unknown): Policy {
  return uppercaseNthWordPolicyType.create(uppercaseNthWordPolicyType.options.parse(options), { name: 'x' });
}

const text = (value: string): AnthropicContentBlock => ({ type: 'text', text: value });
const textDelta = (value: string): AnthropicStreamEvent => ({
  type: 'content_block_delta',
  index: 0,
  delta: { type: 'text_delta', text: value },
});

function message(content: AnthropicContentBlock[]): AnthropicResponse {
  return assistantMessage(content, 'tool_use', { input_tokens: 1, output_tokens: 2 });
}

/** Every n-th word of the texts (counted across them) uppercased. */
function reference(texts: readonly string[], n: number): string[] {
  let words = 0;
  return texts.map((text) => text.replace(/\S+/g, (word) => (++words % n === 0 ? word.toUpperCase() : word)));
}

describe('uppercase-nth-word', () => {
  it('uppercases every third word by default, across deltas, whitespace kept exactly', async () => {
    const policy = policyOf({});
    const msg = message([{ type: 'text', text: 'one two  three\tfour five\nsix seven' }]);
    const run = await runStream(policy, chunkedEvents(msg, [3, 1, 5]));
    expect(run.message.content).toEqual([{ type: 'text', text: 'one two  THREE\tfour five\nSIX seven' }]);
  });

  it('streams a word cut by a delta without holding it: one word, one decision', async () => {
    const policy = policyOf({ n: 2 });
    const events = messageToEvents(message([text('')]));
    const deltas = ['one tw', 'o thr', 'ee', ' four'];
    events.splice(2, 0, ...deltas.map(textDelta));
    const run = await runStream(policy, events);
    expect(run.deltas).toEqual(['one TW', 'O thr', 'ee', ' FOUR']);
  });

  it('holds only a high surrogate that waits for its pair (cased as one code point)', async () => {
    const policy = policyOf({ n: 1 });
    const events = messageToEvents(message([text('')]));
    // U+10428 DESERET SMALL LETTER LONG I uppercases to U+10400, but only as a whole pair.
    events.splice(2, 0, textDelta('a\ud801'), textDelta('\udc28b'));
    const run = await runStream(policy, events);
    expect(run.deltas).toEqual(['A', `${String.fromCodePoint(0x10400)}B`]);
  });

  it('cases a text piece by piece exactly as at once (toUpperCase is context-free)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.nat(), (value, at) => {
        let cut = at % (value.length + 1);
        if (/[\ud800-\udbff]/.test(value.charAt(cut - 1))) cut--;
        expect(value.slice(0, cut).toUpperCase() + value.slice(cut).toUpperCase()).toBe(value.toUpperCase());
      }),
      { numRuns: 2000 },
    );
  });

  it('counts across text blocks and leaves thinking and tool calls untouched', async () => {
    const policy = policyOf({ n: 2 });
    const msg = message([
      { type: 'thinking', thinking: 'a b c d', signature: 'sig' },
      { type: 'text', text: 'a b c' },
      { type: 'tool_use', id: 'toolu_1', name: 'bash', input: { command: 'ls -la x' } },
      { type: 'text', text: 'd e' },
    ]);
    const run = await runStream(policy, chunkedEvents(msg, [1]));
    expect(run.message.content).toEqual([
      { type: 'thinking', thinking: 'a b c d', signature: 'sig' },
      { type: 'text', text: 'a B c' },
      { type: 'tool_use', id: 'toolu_1', name: 'bash', input: { command: 'ls -la x' } },
      { type: 'text', text: 'D e' },
    ]);
    expect((await runWhole(policy, msg)).message).toEqual(run.message);
  });

  it('keeps state per call: two calls of the same policy count separately', async () => {
    const policy = policyOf({ n: 2 });
    const msg = message([{ type: 'text', text: 'a b c' }]);
    const [{ message: first }, { message: second }] = await Promise.all([
      runWhole(policy, msg),
      runWhole(policy, msg),
    ]);
    expect(first.content).toEqual([{ type: 'text', text: 'a B c' }]);
    expect(second.content).toEqual(first.content);
  });

  it('is chunking-invariant and equal to the rewrite of the whole text', async () => {
    const body = fc.string({
      unit: fc.constantFrom(
        'a',
        'b',
        'ß',
        'é',
        '😀',
        '\u{10428}',
        ' ',
        '  ',
        '\n',
        '\t',
        '\u00a0',
        'word',
        'x',
      ),
      maxLength: 30,
    });
    await fc.assert(
      fc.asyncProperty(
        body,
        body,
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 6 }),
        async (first, second, n, sizes) => {
          const policy = policyOf({ n });
          const msg = message([
            { type: 'text', text: first },
            { type: 'tool_use', id: 'toolu_1', name: 'bash', input: { command: 'a b c' } },
            { type: 'text', text: second },
          ]);
          const [a, b] = reference([first, second], n);
          const streamed = await runStream(policy, chunkedEvents(msg, sizes));
          expect(streamed.message.content).toEqual([
            ...(a === '' ? [] : [{ type: 'text', text: a }]),
            { type: 'tool_use', id: 'toolu_1', name: 'bash', input: { command: 'a b c' } },
            ...(b === '' ? [] : [{ type: 'text', text: b }]),
          ]);
          expect((await runWhole(policy, msg)).message).toEqual(streamed.message);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('refuses an n below 1, naming the policy and the option', () => {
    const registry = new PolicyRegistry();
    registry.register(uppercaseNthWordPolicyType);
    const build = () =>
      registry.build({ policies: [{ type: 'uppercase-nth-word', options: { n: 0 } }] }, 'test');
    expect(build).toThrow(PolicyConfigException);
    expect(build).toThrow('policies.0 (uppercase-nth-word): option n:');
    expect(() =>
      registry.build({ policies: [{ type: 'uppercase-nth-word', options: { n: 1.5 } }] }, 'test'),
    ).toThrow('option n:');
  });
});
