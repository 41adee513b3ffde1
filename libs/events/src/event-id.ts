import { randomFillSync } from 'node:crypto';

/** Random bytes drawn from the OS at once and handed out 10 per id. */
const POOL_BYTES = 10 * 512;
/** Largest value of the 12-bit counter that orders ids minted in the same millisecond. */
const MAX_COUNTER = 0xfff;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Two hex digits of a byte. */
function hex(byte: number): string {
  return HEX[byte & 0xff] as string;
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
  return (
    hex(hi >>> 24) +
    hex(hi >>> 16) +
    hex(hi >>> 8) +
    hex(hi) +
    '-' +
    hex(lo >>> 8) +
    hex(lo) +
    '-' +
    hex(0x70 | (counter >>> 8)) +
    hex(counter) +
    '-' +
    hex(0x80 | (poolByte(at + 2) & 0x3f)) +
    hex(poolByte(at + 3)) +
    '-' +
    hex(poolByte(at + 4)) +
    hex(poolByte(at + 5)) +
    hex(poolByte(at + 6)) +
    hex(poolByte(at + 7)) +
    hex(poolByte(at + 8)) +
    hex(poolByte(at + 9))
  );
}
