import { BoundedQueue } from './bounded-queue';

describe('BoundedQueue', () => {
  it('is FIFO and evicts the oldest when full', () => {
    const q = new BoundedQueue<number>(3);
    expect([1, 2, 3].map((n) => q.push(n))).toEqual([false, false, false]);
    expect(q.push(4)).toBe(true);
    expect(q.size).toBe(3);
    expect(q.shift(10)).toEqual([2, 3, 4]);
    expect(q.size).toBe(0);
  });

  it('puts a batch back in front, dropping its oldest items when the rest no longer fits', () => {
    const q = new BoundedQueue<number>(4);
    for (const n of [1, 2, 3, 4]) q.push(n);
    const batch = q.shift(3); // [1, 2, 3] in flight
    q.push(5);
    q.push(6); // queue: 4, 5, 6
    expect(q.unshift(batch)).toBe(2); // only room for one: keeps 3
    expect(q.shift(10)).toEqual([3, 4, 5, 6]);
  });

  it('wraps around and supports positional access', () => {
    const q = new BoundedQueue<string>(3);
    for (const s of ['a', 'b', 'c', 'd', 'e']) q.push(s);
    expect([q.at(0), q.at(1), q.at(2), q.at(3)]).toEqual(['c', 'd', 'e', undefined]);
    q.set(1, 'D');
    expect(q.shift(2)).toEqual(['c', 'D']);
    expect(q.unshift(['x', 'y'])).toBe(0);
    expect(q.shift(5)).toEqual(['x', 'y', 'e']);
    expect(() => q.set(0, 'z')).toThrow(RangeError);
  });

  it('refuses a capacity below one', () => {
    expect(() => new BoundedQueue(0)).toThrow(RangeError);
  });
});
