/** Label names and values of one series. */
export type SeriesLabels<L extends string> = Readonly<Record<L, string>>;

/** A monotonic counter of one series: a plain number, incremented without allocation. */
export class CounterSeries {
  value = 0;

  inc(by = 1): void {
    if (by > 0) this.value += by;
  }
}

/**
 * The buckets, sum and count of one histogram series, updated in place without allocation. `bounds` are the
 * buckets' upper bounds (ascending), shared by every series of a family.
 */
export class HistogramSeries {
  count = 0;
  sum = 0;
  /** Observations per bucket (not cumulative): one per bound, then +Inf. */
  readonly counts: Float64Array;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (Number.isNaN(value)) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.count++;
    this.sum += value;
  }

  /** Cumulative counts per bound, then +Inf (for the exposition; allocates, scrape time only). */
  cumulative(): number[] {
    const out = new Array<number>(this.counts.length);
    let running = 0;
    for (let i = 0; i < this.counts.length; i++) out[i] = running += this.counts[i] as number;
    return out;
  }
}
