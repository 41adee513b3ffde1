import { z } from 'zod';
import type { Policy } from '../core/policy';
import type { PolicyContext } from '../core/policy-context';
import { definePolicyType } from '../registry/policy-type';

/** A word: a maximal run of non-whitespace characters. */
const WORD = /\S+/g;
const WHITESPACE = /\s/;

interface WordState {
  /** Words seen so far in the message (across text blocks). */
  words: number;
  /** The trailing partial word of the text block being streamed, held until it is known to be complete. */
  held: string;
}

/** Index just past the last whitespace character of `text` (0 when there is none). */
function completeWordsEnd(text: string): number {
  for (let i = text.length - 1; i >= 0; i--) {
    if (WHITESPACE.test(text.charAt(i))) return i + 1;
  }
  return 0;
}

/**
 * `uppercase-nth-word` (a demo of a stateful streaming rewrite): uppercases every n-th word of the response text,
 * counting across deltas and text blocks of the whole message, whitespace kept exactly. A word cut by a delta
 * boundary is held until the next delta or the end of its block. Thinking and tool calls are untouched.
 */
export const uppercaseNthWordPolicyType = definePolicyType({
  name: 'uppercase-nth-word',
  description: 'Demo: uppercases every n-th word of the response text, while it streams.',
  options: z
    .object({
      n: z
        .number()
        .int()
        .min(1)
        .default(3)
        .describe('Uppercase every n-th word (1: every word), counted over the whole message.'),
    })
    .strict(),
  create: ({ n }, { name }): Policy => {
    const state = (ctx: PolicyContext) => ctx.state<WordState>(() => ({ words: 0, held: '' }));
    const rewrite = (s: WordState, text: string) =>
      text.replace(WORD, (word) => (++s.words % n === 0 ? word.toUpperCase() : word));
    return {
      name,
      onTextDelta: (ctx, text) => {
        const s = state(ctx);
        const buffer = s.held + text;
        const end = completeWordsEnd(buffer);
        s.held = buffer.slice(end);
        return rewrite(s, buffer.slice(0, end));
      },
      onTextComplete: (ctx) => {
        const s = state(ctx);
        const rest = s.held;
        s.held = '';
        return rewrite(s, rest);
      },
    };
  },
});
