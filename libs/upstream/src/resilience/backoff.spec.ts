import fc from 'fast-check';
import { backoffDelay } from './backoff';

describe('backoffDelay', () => {
  it('stays within the upper half of min(cap, base * 2^(retry - 1))', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 120_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retry, base, cap, r) => {
          const ceiling = Math.min(cap, base * 2 ** (retry - 1));
          const delay = backoffDelay(retry, base, cap, () => r);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeLessThanOrEqual(ceiling);
          expect(delay).toBeLessThanOrEqual(cap);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
        },
      ),
    );
  });

  it('doubles the range on each retry until the cap', () => {
    const top = (retry: number): number => backoffDelay(retry, 100, 1000, () => 0.999_999);
    expect([1, 2, 3, 4, 5].map(top)).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(1, 100, 1000, () => 0)).toBe(50);
  });
});
