import { takeToken, type BucketOutcome, type BucketRule } from './token-bucket';

/** Buckets kept at most; past it the least recently inserted is forgotten (it is then full again, never stricter). */
export const MAX_MEMORY_BUCKETS = 100_000;

/**
 * Token buckets of this replica, in memory (no `REDIS_URL`, or while Redis is unreachable). O(1) per request:
 * one map read and write. A bucket that has refilled is the same as no bucket, so full ones are swept away
 * periodically ({@link sweep}); at the size cap the oldest entry goes first.
 */
export class MemoryBucketStore {
  private readonly buckets = new Map<string, number>();

  constructor(private readonly maxBuckets = MAX_MEMORY_BUCKETS) {}

  /** Takes one token of `key` at `nowUs` (microseconds). */
  take(key: string, rule: BucketRule, nowUs: number): BucketOutcome {
    const step = takeToken(this.buckets.get(key), nowUs, rule);
    if (step.outcome.allowed) {
      if (this.buckets.size >= this.maxBuckets && !this.buckets.has(key)) this.evictOldest();
      this.buckets.set(key, step.tat);
    }
    return step.outcome;
  }

  /** Forgets every bucket that is full at `nowUs`; returns how many remain. */
  sweep(nowUs: number): number {
    for (const [key, tat] of this.buckets) if (tat <= nowUs) this.buckets.delete(key);
    return this.buckets.size;
  }

  get size(): number {
    return this.buckets.size;
  }

  private evictOldest(): void {
    const oldest = this.buckets.keys().next();
    if (oldest.done !== true) this.buckets.delete(oldest.value);
  }
}
