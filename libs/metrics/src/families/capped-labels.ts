/** The label value that stands for every value beyond a cap. */
export const OTHER_LABEL = 'other';

/**
 * Per-label-value state, created on first sight and kept, for at most `max` distinct values: later values (and the
 * value `other` itself) share one overflow entry labelled {@link OTHER_LABEL}. Bounds the series a metric can grow
 * to when label values come from clients (model names).
 */
export class CappedLabels<V> {
  private readonly entries = new Map<string, V>();
  private overflow: V | undefined;

  constructor(
    private readonly max: number,
    private readonly create: (value: string) => V,
  ) {}

  /** The state of `value` (O(1); allocates only on a value's first sight). */
  get(value: string): V {
    const found = this.entries.get(value);
    if (found !== undefined) return found;
    if (this.entries.size < this.max && value !== OTHER_LABEL) {
      const created = this.create(value);
      this.entries.set(value, created);
      return created;
    }
    return (this.overflow ??= this.create(OTHER_LABEL));
  }

  /** Distinct values tracked, the overflow entry included. */
  get size(): number {
    return this.entries.size + (this.overflow === undefined ? 0 : 1);
  }
}
