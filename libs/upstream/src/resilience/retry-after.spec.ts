import fc from 'fast-check';
import { parseRetryAfter, retryAfterMs } from './retry-after';

const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('parseRetryAfter', () => {
  it.each([
    ['0', 0],
    ['3', 3000],
    [' 17 ', 17_000],
    ['1.5', 1500],
    ['Thu, 01 Jan 2026 00:00:09 GMT', 9000],
    ['Wed, 31 Dec 2025 23:59:00 GMT', 0],
  ])('reads %p as %p ms', (value, ms) => {
    expect(parseRetryAfter(value, NOW)).toBe(ms);
  });

  it.each([[undefined], [''], ['soon'], ['-1'], ['1e3'], ['2026-01-01'], ['Thu, 01 Jan 2026 25:00:00 GMT']])(
    'ignores %p',
    (value) => {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    },
  );

  it('reads any delay in whole seconds exactly', () => {
    fc.assert(
      fc.property(fc.nat({ max: 10_000_000 }), (seconds) => {
        expect(parseRetryAfter(String(seconds), NOW)).toBe(seconds * 1000);
      }),
    );
  });
});

describe('retryAfterMs', () => {
  it("prefers OpenAI's retry-after-ms", () => {
    expect(retryAfterMs({ 'retry-after-ms': '250', 'retry-after': '3' }, NOW)).toBe(250);
  });

  it('falls back to retry-after when retry-after-ms is unreadable or absent', () => {
    expect(retryAfterMs({ 'retry-after-ms': 'x', 'retry-after': '3' }, NOW)).toBe(3000);
    expect(retryAfterMs({ 'retry-after': '2' }, NOW)).toBe(2000);
  });

  it('is undefined without either header', () => {
    expect(retryAfterMs({ 'content-type': 'application/json' }, NOW)).toBeUndefined();
  });
});
