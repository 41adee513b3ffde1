import type { Registry } from 'prom-client';
import { CollectedCounter, CollectedHistogram, type MetricDefinition } from './collected-metrics';
import { CounterSeries, HistogramSeries, type SeriesLabels } from './series';

/**
 * A counter whose series the caller creates once per label set and keeps (cached), then increments without
 * allocation. Exported through a {@link CollectedCounter}.
 */
export class CounterFamily<L extends string> {
  private readonly members: Array<{ labels: SeriesLabels<L>; series: CounterSeries }> = [];

  constructor(registry: Registry, definition: MetricDefinition<L>) {
    new CollectedCounter(registry, definition, () =>
      this.members.map((m) => ({ labels: m.labels, value: m.series.value })),
    );
  }

  /** A new series; call once per label set (a second call would export a duplicate). */
  add(labels: SeriesLabels<L>): CounterSeries {
    const series = new CounterSeries();
    this.members.push({ labels, series });
    return series;
  }
}

/** A histogram whose series the caller creates once per label set and keeps; see {@link CounterFamily}. */
export class HistogramFamily<L extends string> {
  private readonly members: Array<{ labels: SeriesLabels<L>; series: HistogramSeries }> = [];

  constructor(
    registry: Registry,
    definition: MetricDefinition<L>,
    private readonly buckets: readonly number[],
  ) {
    new CollectedHistogram(registry, definition, buckets, () =>
      this.members.map((m) => ({
        labels: m.labels,
        cumulative: m.series.cumulative(),
        count: m.series.count,
        sum: m.series.sum,
      })),
    );
  }

  /** A new series; call once per label set. */
  add(labels: SeriesLabels<L>): HistogramSeries {
    const series = new HistogramSeries(this.buckets);
    this.members.push({ labels, series });
    return series;
  }
}
