import type { JsonObject } from '@warden/llm';
import fc from 'fast-check';
import type { WardenEvent } from '../warden-event';
import { MAX_KEYS_LISTED, TRUNCATED_KEY, TRUNCATED_STRING_CHARS, truncateForBus } from './truncate-for-bus';

/** The shortened candidate of the rule as first written, always built (`keep` depends on the bound). */
function shortenedCandidate(e: WardenEvent, maxBytes: number): WardenEvent {
  const marker = { originalBytes: Buffer.byteLength(JSON.stringify(e)) };
  const keep = Math.max(16, Math.min(TRUNCATED_STRING_CHARS, Math.floor(maxBytes / 16)));
  const shorten = (value: unknown): unknown => {
    if (typeof value === 'string')
      return value.length > keep ? `${value.slice(0, keep)}… [truncated: ${value.length} chars]` : value;
    if (Array.isArray(value)) return value.map(shorten);
    if (typeof value === 'object' && value !== null)
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shorten(v)]));
    return value;
  };
  return { ...e, data: { ...(shorten(e.data) as JsonObject), [TRUNCATED_KEY]: marker } };
}

/** The rule as first written (every candidate built and serialized): what truncateForBus must keep giving. */
function reference(e: WardenEvent, maxBytes: number): WardenEvent {
  const originalBytes = Buffer.byteLength(JSON.stringify(e));
  if (originalBytes <= maxBytes) return e;
  const shortened = shortenedCandidate(e, maxBytes);
  if (Buffer.byteLength(JSON.stringify(shortened)) <= maxBytes) return shortened;
  const marker = { originalBytes };
  return { ...e, data: { [TRUNCATED_KEY]: marker, keys: Object.keys(e.data).slice(0, MAX_KEYS_LISTED) } };
}

function event(data: WardenEvent['data']): WardenEvent {
  return {
    id: 'e1',
    callId: 'c1',
    type: 'response.completed',
    at: '2026-01-01T00:00:00.000Z',
    instance: 'i',
    data,
  };
}

describe('truncateForBus', () => {
  it('returns a small event unchanged (same object)', () => {
    const small = event({ text: 'hello' });
    expect(truncateForBus(small, 1024)).toBe(small);
  });

  it('shortens long strings, keeps short ones, and marks the event', () => {
    const out = truncateForBus(
      event({ final: { content: [{ text: 'y'.repeat(10_000) }] }, model: 'm' }),
      2048,
    );
    expect(Buffer.byteLength(JSON.stringify(out))).toBeLessThanOrEqual(2048);
    expect(out.data.model).toBe('m');
    expect(JSON.stringify(out.data.final)).toMatch(
      /^\{"content":\[\{"text":"y+… \[truncated: 10000 chars\]"\}\]\}$/,
    );
    expect(out.data[TRUNCATED_KEY]).toEqual({ originalBytes: expect.any(Number) as number });
  });

  it('gives what building and serializing every candidate gives, for any data and bound', () => {
    const text = fc.oneof(
      fc.string(),
      fc.string({ minLength: 200, maxLength: 3000 }),
      fc.string({ unit: 'grapheme' }),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        text,
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('node'), { maxLength: 20 }),
        fc.dictionary(fc.string({ maxLength: 8 }), tie('node'), { maxKeys: 12 }),
      ),
    })).node;
    const data = fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 30 });
    fc.assert(
      fc.property(data, fc.integer({ min: 64, max: 20_000 }), (d, maxBytes) => {
        const e = event(d);
        expect(truncateForBus(e, maxBytes)).toEqual(reference(e, maxBytes));
      }),
      { numRuns: 500, endOnFailure: true },
    );
  });

  it('keeps the shortened event whenever it fits, however close to the bound', () => {
    // Long strings (cut to 1,024 characters at bounds of 16 KiB and more) among short values, and a bound within a
    // few hundred bytes of the shortened event's size, either side.
    const value = fc.oneof(
      { arbitrary: fc.string({ minLength: 1100, maxLength: 20_000 }), weight: 4 },
      { arbitrary: fc.array(fc.string({ maxLength: 40 }), { maxLength: 30 }), weight: 1 },
      { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
    );
    const data = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), value, {
      minKeys: 12,
      maxKeys: 40,
    });
    fc.assert(
      fc.property(data, fc.integer({ min: -300, max: 300 }), (d, delta) => {
        const e = event(d);
        // The same candidate at every bound from 16 KiB (strings cut to 1,024 characters).
        const size = Buffer.byteLength(JSON.stringify(shortenedCandidate(e, 16_384)));
        const maxBytes = Math.max(16_384, size + delta);
        expect(truncateForBus(e, maxBytes)).toEqual(reference(e, maxBytes));
      }),
      { numRuns: 150, endOnFailure: true },
    );
  });

  it('falls back to the key names when many small values are still too big', () => {
    const data: Record<string, string> = {};
    for (let i = 0; i < 2000; i++) data[`k${i}`] = 'short';
    const out = truncateForBus(event(data), 2048);
    expect(Buffer.byteLength(JSON.stringify(out))).toBeLessThanOrEqual(2048);
    expect(out.data.keys).toHaveLength(MAX_KEYS_LISTED);
    expect(out.data[TRUNCATED_KEY]).toBeDefined();
  });
});
