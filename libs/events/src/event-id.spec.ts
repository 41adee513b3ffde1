import fc from 'fast-check';
import { isoNow, uuidv7 } from './event-id';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('is an RFC 9562 version 7 UUID carrying its millisecond', () => {
    const now = Date.UTC(2026, 10, 25, 12, 0, 0, 123);
    const id = uuidv7(now);
    expect(id).toMatch(UUID_V7);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
  });

  it('sorts in minting order, within one millisecond and across many', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => uuidv7(1_800_000_000_000 + Math.floor(i / 5000)));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('never goes backwards when the clock does, and is unique (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }), { minLength: 2 }),
        (times) => {
          const ids = times.map((t) => uuidv7(t));
          for (const id of ids) expect(id).toMatch(UUID_V7);
          expect([...ids].sort()).toEqual(ids);
          expect(new Set(ids).size).toBe(ids.length);
        },
      ),
    );
  });
});

describe('isoNow', () => {
  it('formats like Date#toISOString, for the same millisecond and for any other', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
        expect(isoNow(ms)).toBe(new Date(ms).toISOString());
        expect(isoNow(ms)).toBe(new Date(ms).toISOString());
      }),
    );
  });
});
