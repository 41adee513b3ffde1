/**
 * A FIFO ring buffer of fixed capacity with O(1) push and shift. When full, `push` evicts the oldest item
 * (drop-oldest).
 */
export class BoundedQueue<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`queue capacity must be >= 1: ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Appends `item`; when full, evicts the oldest item first. Returns whether an item was evicted. */
  push(item: T): boolean {
    if (this.count === this.capacity) {
      this.items[this.head] = item;
      this.head = (this.head + 1) % this.capacity;
      return true;
    }
    this.items[(this.head + this.count) % this.capacity] = item;
    this.count += 1;
    return false;
  }

  /** Removes and returns the `n` oldest items (fewer if the queue is shorter). */
  shift(n: number): T[] {
    const taken = Math.min(n, this.count);
    const out = new Array<T>(taken);
    for (let i = 0; i < taken; i++) {
      out[i] = this.items[this.head] as T;
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
    }
    this.count -= taken;
    return out;
  }

  /**
   * Puts `items` back in front, in order (a batch that could not be written). What does not fit is dropped from
   * the front of `items` (the oldest); returns how many were dropped.
   */
  unshift(items: readonly T[]): number {
    const room = this.capacity - this.count;
    const dropped = Math.max(0, items.length - room);
    for (let i = items.length - 1; i >= dropped; i--) {
      this.head = (this.head - 1 + this.capacity) % this.capacity;
      this.items[this.head] = items[i];
      this.count += 1;
    }
    return dropped;
  }

  /** The item at position `index` from the oldest (0), or undefined. */
  at(index: number): T | undefined {
    return index >= 0 && index < this.count ? this.items[(this.head + index) % this.capacity] : undefined;
  }

  /** Replaces the item at position `index` (which must exist). */
  set(index: number, item: T): void {
    if (index < 0 || index >= this.count) throw new RangeError(`no item at ${index}`);
    this.items[(this.head + index) % this.capacity] = item;
  }
}
