/**
 * The serialized form a JSON value came with, remembered by identity: the UTF-8 bytes it was parsed from, or the
 * exact text `JSON.stringify` made of it. A consumer that needs the value serialized again (the history, on another
 * thread) can start from it instead of walking the value on the event loop. The value must not be mutated once its
 * source is remembered (requests and responses are not: policies work on copies).
 */
export type JsonSource =
  /** `JSON.parse` of these bytes (decoded as UTF-8, as `Buffer#toString` does) gave the value. */
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  /** `JSON.stringify(value)` gave this text, exactly. */
  | { readonly kind: 'text'; readonly text: string };

/** Sources by value: weak, so a source lives exactly as long as its value. */
const sources = new WeakMap<object, JsonSource>();

/**
 * `JSON.parse` of UTF-8 bytes (decoded as `Buffer#toString` does), throwing what it throws; an object or array it
 * gives has the bytes remembered as its source (the caller keeps them intact).
 */
export function parseJsonBytes(bytes: Buffer): unknown {
  const value: unknown = JSON.parse(bytes.toString('utf8'));
  if (typeof value === 'object' && value !== null) sources.set(value, { kind: 'bytes', bytes });
  return value;
}

/** Remembers that `text` is `JSON.stringify(value)`, exactly. */
export function rememberJsonText(value: object, text: string): void {
  sources.set(value, { kind: 'text', text });
}

/** The remembered source of `value`, if any. */
export function jsonSourceOf(value: unknown): JsonSource | undefined {
  return typeof value === 'object' && value !== null ? sources.get(value) : undefined;
}
