import fc from 'fast-check';
import { decodeCursor, encodeCursor } from './cursor.codec';

describe('cursor codec', () => {
  const timestamp = fc
    .date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date('2100-01-01T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString());

  it('round-trips any timestamp and id (ids may contain the separator)', () => {
    fc.assert(
      fc.property(timestamp, fc.string({ minLength: 1 }), (key, id) => {
        expect(decodeCursor(encodeCursor({ key, id }))).toEqual({ key, id });
      }),
    );
    expect(decodeCursor(encodeCursor({ key: '2026-01-01T00:00:00.000Z', id: 'a|b' }))).toEqual({
      key: '2026-01-01T00:00:00.000Z',
      id: 'a|b',
    });
  });

  it('is opaque and URL-safe', () => {
    const cursor = encodeCursor({ key: '2026-01-01T00:00:00.000Z', id: 'call/1+2?' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'abc$'],
    ['no separator', Buffer.from('2026-01-01T00:00:00.000Z').toString('base64url')],
    ['no id', Buffer.from('2026-01-01T00:00:00.000Z|').toString('base64url')],
    ['not a timestamp', Buffer.from('yesterday|id').toString('base64url')],
    ['a timestamp of another shape', Buffer.from('2026-01-01 00:00:00|id').toString('base64url')],
  ])('refuses a cursor it did not issue (%s)', (_name, cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
  });
});
