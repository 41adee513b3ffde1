import { randomFillSync } from 'node:crypto';

/** Random bytes drawn from the OS at once and handed out 10 per id. */
const POOL_BYTES = 10 * 512;
/** Largest value of the 12-bit counter that orders ids minted in the same millisecond. */
const MAX_COUNTER = 0xfff;

/** ASCII hex digits, by value. */
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** Where each of the 16 bytes of a UUID goes in its 36-character text (dashes after bytes 4, 6, 8 and 10). */
const TEXT_AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
/** The text of the id being minted: written in place, then read as one flat string. */
const text = Buffer.from('00000000-0000-0000-0000-000000000000', 'latin1');

function putByte(index: number, byte: number): void {
  const at = TEXT_AT[index] as number;
  text[at] = HEX_DIGITS[(byte >>> 4) & 0xf] as number;
  text[at + 1] = HEX_DIGITS[byte & 0xf] as number;
}

function poolByte(index: number): number {
  return pool[index] as number;
}
const pool = Buffer.allocUnsafe(POOL_BYTES);
let poolOffset = POOL_BYTES;
let lastMs = -1;
let counter = 0;

function randomBytes10(): number {
  if (poolOffset + 10 > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += 10;
  return at;
}

/**
 * A time-ordered UUID (RFC 9562 version 7): 48 bits of Unix milliseconds, a 12-bit counter that keeps ids of the
 * same millisecond in minting order (started at a random value each millisecond; an overflow borrows the next
 * millisecond), and 62 random bits. Ids of calls and events are v7 so that the history's primary keys and indexes
 * grow at their end: each insert touches the last page instead of a random one, and events stamped in the same
 * millisecond sort in the order they happened.
 */
export function uuidv7(now: number = Date.now()): string {
  const at = randomBytes10();
  if (now > lastMs) {
    lastMs = now;
    counter = ((poolByte(at) << 8) | poolByte(at + 1)) & 0x7ff;
  } else if (counter < MAX_COUNTER) {
    counter++;
  } else {
    lastMs++;
    counter = 0;
  }
  const ms = lastMs;
  const hi = Math.floor(ms / 0x10000);
  const lo = ms % 0x10000;
  putByte(0, hi >>> 24);
  putByte(1, hi >>> 16);
  putByte(2, hi >>> 8);
  putByte(3, hi);
  putByte(4, lo >>> 8);
  putByte(5, lo);
  putByte(6, 0x70 | (counter >>> 8));
  putByte(7, counter);
  putByte(8, 0x80 | (poolByte(at + 2) & 0x3f));
  for (let i = 3; i < 10; i++) putByte(i + 6, poolByte(at + i));
  // One flat string (hex pairs joined with `+` would make a rope that every later use must flatten).
  return text.toString('latin1', 0, text.length);
}

let isoMs = -1;
let isoText = '';

/**
 * `new Date(ms).toISOString()`, remembered for the last millisecond asked: a call stamps several events within
 * the same millisecond, and formatting a date costs far more than comparing two numbers.
 */
export function isoNow(ms: number = Date.now()): string {
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}
