import { z } from 'zod';
import type { Policy } from '../core/policy';
import type { PolicyContext } from '../core/policy-context';
import { definePolicyType } from '../registry/policy-type';
import { safeCut } from './string-replace.policy';

/** Runs of whitespace and of non-whitespace (a word is a maximal run of non-whitespace characters). */
const RUNS = /\s+|\S+/g;
const WHITESPACE = /^\s/;

interface WordState {
  /** Words started so far in the message (across text blocks). */
  words: number;
  /** The last delta ended inside a word: the next one may continue it. */
  inWord: boolean;
  /** Whether the current word is uppercased. */
  upper: boolean;
  /** A trailing high surrogate held back so that a pair is never cased (or sent) in halves. */
  carry: string;
}

/**
 * `uppercase-nth-word` (a demo of a stateful streaming rewrite): uppercases every n-th word (a maximal run of
 * non-whitespace) of the response text, counting across deltas and text blocks of the whole message, whitespace
 * kept exactly. A word cut by a delta boundary is still one word: the state remembers that the last delta ended
 * inside a word and whether that word is uppercased, so nothing is held back (`toUpperCase` maps each code point
 * on its own, so casing a word piece by piece gives the word's casing; only a trailing high surrogate waits for
 * its pair). Thinking and tool calls are untouched.
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
    const state = (ctx: PolicyContext) =>
      ctx.state<WordState>(() => ({ words: 0, inWord: false, upper: false, carry: '' }));
    const rewrite = (s: WordState, text: string): string =>
      text.replace(RUNS, (run) => {
        if (WHITESPACE.test(run)) {
          s.inWord = false;
          return run;
        }
        if (!s.inWord) {
          s.inWord = true;
          s.upper = ++s.words % n === 0;
        }
        return s.upper ? run.toUpperCase() : run;
      });
    return {
      name,
      onTextDelta: (ctx, text) => {
        const s = state(ctx);
        const input = s.carry + text;
        const cut = safeCut(input);
        s.carry = input.slice(cut);
        return rewrite(s, input.slice(0, cut));
      },
      onTextComplete: (ctx) => {
        const s = state(ctx);
        const out = rewrite(s, s.carry);
        s.carry = '';
        // The end of a block ends its last word.
        s.inWord = false;
        return out;
      },
    };
  },
});
