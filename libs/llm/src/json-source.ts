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

/**
 * `value` with its top-level member `key` set to the string `replacement`, and the bytes it was parsed from with
 * the same change made in place: every top-level `key` member's value (JSON keeps the last of duplicates) becomes
 * `JSON.stringify(replacement)`, and every other byte is kept, so that numbers, spacing and unknown fields reach
 * the upstream exactly as the client wrote them. The new bytes are remembered as the new value's source.
 * Undefined when `value` was not parsed from bytes, or they do not hold a top-level `key` member.
 */
export function withStringMember(
  value: object,
  key: string,
  replacement: string,
): { value: Record<string, unknown>; bytes: Buffer } | undefined {
  const source = sources.get(value);
  if (source?.kind !== 'bytes') return undefined;
  const bytes = Buffer.from(source.bytes.buffer, source.bytes.byteOffset, source.bytes.byteLength);
  const spans = topLevelMemberValues(bytes, key);
  if (spans === undefined || spans.length === 0) return undefined;
  const text = Buffer.from(JSON.stringify(replacement));
  const parts: Buffer[] = [];
  let at = 0;
  for (const [start, end] of spans) {
    parts.push(bytes.subarray(at, start), text);
    at = end;
  }
  parts.push(bytes.subarray(at));
  const out = Buffer.concat(parts);
  const changed = { ...(value as Record<string, unknown>), [key]: replacement };
  sources.set(changed, { kind: 'bytes', bytes: out });
  return { value: changed, bytes: out };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/**
 * The [start, end) byte spans of the values of the top-level members named `key` of the JSON object in `bytes`
 * (valid JSON: the caller parsed it), or undefined when `bytes` is not an object. Structural characters are ASCII,
 * which no byte of a multi-byte UTF-8 character is, so the bytes can be scanned as they are.
 */
function topLevelMemberValues(bytes: Buffer, key: string): Array<[number, number]> | undefined {
  const length = bytes.length;
  let i = skipSpace(bytes, 0);
  if (bytes[i] !== OPEN_OBJECT) return undefined;
  i = skipSpace(bytes, i + 1);
  const spans: Array<[number, number]> = [];
  while (i < length && bytes[i] !== CLOSE_OBJECT) {
    if (bytes[i] !== QUOTE) return undefined;
    const keyEnd = stringEnd(bytes, i);
    const name: unknown = JSON.parse(bytes.toString('utf8', i, keyEnd));
    i = skipSpace(bytes, keyEnd);
    if (bytes[i] !== COLON) return undefined;
    const start = skipSpace(bytes, i + 1);
    const end = valueEnd(bytes, start);
    if (name === key) spans.push([start, end]);
    i = skipSpace(bytes, end);
    if (bytes[i] === COMMA) i = skipSpace(bytes, i + 1);
    else if (bytes[i] !== CLOSE_OBJECT) return undefined;
  }
  return i < length ? spans : undefined;
}

/** JSON's whitespace: space, line feed, carriage return, tab. */
function isJsonSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(bytes: Buffer, from: number): number {
  let i = from;
  while (i < bytes.length && isJsonSpace(bytes[i])) i++;
  return i;
}

/** The index after the closing quote of the string starting at `from` (a quote). */
function stringEnd(bytes: Buffer, from: number): number {
  let i = from + 1;
  while (i < bytes.length && bytes[i] !== QUOTE) i += bytes[i] === BACKSLASH ? 2 : 1;
  return i + 1;
}

/** The index after the value starting at `from`. */
function valueEnd(bytes: Buffer, from: number): number {
  const first = bytes[from];
  if (first === QUOTE) return stringEnd(bytes, from);
  if (first === OPEN_OBJECT || first === OPEN_ARRAY) {
    let depth = 0;
    let i = from;
    while (i < bytes.length) {
      const c = bytes[i];
      if (c === QUOTE) {
        i = stringEnd(bytes, i);
        continue;
      }
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
      else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return i;
  }
  let i = from;
  while (i < bytes.length) {
    const c = bytes[i];
    if (c === COMMA || c === CLOSE_OBJECT || c === CLOSE_ARRAY || isJsonSpace(c)) break;
    i++;
  }
  return i;
}
