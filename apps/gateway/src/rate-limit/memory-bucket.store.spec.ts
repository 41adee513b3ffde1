import { MemoryBucketStore } from './memory-bucket.store';

const RULE = { interval: 1_000_000, capacity: 2 };

describe('MemoryBucketStore', () => {
  it('keeps one bucket per key', () => {
    const store = new MemoryBucketStore();
    expect(store.take('a', RULE, 0).allowed).toBe(true);
    expect(store.take('a', RULE, 0).allowed).toBe(true);
    expect(store.take('a', RULE, 0).allowed).toBe(false);
    expect(store.take('b', RULE, 0).allowed).toBe(true);
    expect(store.take('a', RULE, 1_000_000).allowed).toBe(true);
  });

  it('forgets buckets that are full again', () => {
    const store = new MemoryBucketStore();
    store.take('a', RULE, 0);
    store.take('b', RULE, 1_500_000);
    expect(store.sweep(1_000_000)).toBe(1);
    expect(store.sweep(2_500_000)).toBe(0);
  });

  it('stays within its size cap, forgetting the oldest bucket first', () => {
    const store = new MemoryBucketStore(3);
    for (const key of ['a', 'b', 'c', 'd']) store.take(key, RULE, 0);
    expect(store.size).toBe(3);
    // 'a' was forgotten: its bucket is full again; 'b' still holds its earlier request.
    store.take('a', RULE, 0);
    expect(store.take('a', RULE, 0).allowed).toBe(true);
    store.take('c', RULE, 0);
    expect(store.take('c', RULE, 0).allowed).toBe(false);
  });
});
