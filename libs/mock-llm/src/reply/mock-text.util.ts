import { createHash } from 'node:crypto';

/** Fixed vocabulary cycled by {@link mockWords}, so generated replies are deterministic. */
export const MOCK_WORDS: readonly string[] = Object.freeze([
  'alpha',
  'bravo',
  'charlie',
  'delta',
  'echo',
  'foxtrot',
  'golf',
  'hotel',
  'india',
  'juliet',
  'kilo',
  'lima',
  'mike',
  'november',
  'oscar',
  'papa',
]);

/** Characters per token of the mock's token estimates (the usual rule of thumb). */
export const CHARS_PER_TOKEN = 4;
/** Prefix of the deterministic thinking signatures. */
export const MOCK_SIGNATURE_PREFIX = 'mocksig_';
/** Hex characters of the hash kept in a signature. */
const SIGNATURE_HASH_CHARS = 16;
/** A word with the whitespace before it (shared; reset before each use, never used re-entrantly). */
const WORD_PATTERN = /\s*\S+/g;

/** `count` words of {@link MOCK_WORDS}, cycling, separated by single spaces (empty string for 0). */
export function mockWords(count: number): string {
  const words = new Array<string>(count);
  for (let i = 0; i < count; i++) words[i] = MOCK_WORDS[i % MOCK_WORDS.length] as string;
  return words.join(' ');
}

/**
 * Splits a text into streamed deltas of `wordsPerChunk` words: the first delta starts with the first word, the
 * next ones with the whitespace that precedes their first word. Concatenating the deltas gives the text back.
 */
export function chunkWords(text: string, wordsPerChunk: number): string[] {
  const chunks: string[] = [];
  const wordPattern = WORD_PATTERN;
  wordPattern.lastIndex = 0;
  let start = 0;
  let words = 0;
  let end = 0;
  for (let match = wordPattern.exec(text); match !== null; match = wordPattern.exec(text)) {
    end = match.index + match[0].length;
    if (++words === wordsPerChunk) {
      chunks.push(text.slice(start, end));
      start = end;
      words = 0;
    }
  }
  if (words > 0) chunks.push(text.slice(start, end));
  const rest = text.slice(end);
  if (rest !== '') {
    // Trailing whitespace (or a whitespace-only text) rides on the last delta.
    if (chunks.length === 0) chunks.push(rest);
    else chunks[chunks.length - 1] += rest;
  }
  return chunks;
}

/** Splits a string into fragments of `size` characters (the last may be shorter); none for the empty string. */
export function splitFragments(text: string, size: number): string[] {
  const fragments: string[] = [];
  for (let i = 0; i < text.length; i += size) fragments.push(text.slice(i, i + size));
  return fragments;
}

/** Deterministic signature of a thinking text: `mocksig_` + the first hex characters of its SHA-256. */
export function mockSignature(thinking: string): string {
  const hash = createHash('sha256').update(thinking).digest('hex');
  return MOCK_SIGNATURE_PREFIX + hash.slice(0, SIGNATURE_HASH_CHARS);
}

/** Token estimate of a character count: `ceil(chars / 4)`. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN);
}
