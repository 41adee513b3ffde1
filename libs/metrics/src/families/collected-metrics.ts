import { Counter, Histogram, type Registry } from 'prom-client';
import type { SeriesLabels } from './series';

/** One counter series as read at scrape time. */
export interface CounterSample<L extends string> {
  readonly labels: SeriesLabels<L>;
  readonly value: number;
}

/** One histogram series as read at scrape time: cumulative counts per bound of the family, then +Inf. */
export interface HistogramSample<L extends string> {
  readonly labels: SeriesLabels<L>;
  readonly cumulative: readonly number[];
  readonly count: number;
  readonly sum: number;
}

/** Name, help and labels of a metric. */
export interface MetricDefinition<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
}

type CounterValues<L extends string> = Awaited<ReturnType<Counter<L>['get']>>;
type HistogramValues<L extends string> = Awaited<ReturnType<Histogram<L>['get']>>;

/**
 * A prom-client counter whose values are read from `read` at scrape time instead of being kept by prom-client
 * (whose `inc` hashes the labels on every call). The hot path updates plain {@link CounterSeries} objects; this only
 * exports them.
 */
export class CollectedCounter<L extends string> extends Counter<L> {
  constructor(
    registry: Registry,
    definition: MetricDefinition<L>,
    private readonly read: () => Iterable<CounterSample<L>>,
  ) {
    super({
      name: definition.name,
      help: definition.help,
      labelNames: definition.labelNames,
      registers: [registry],
    });
  }

  override async get(): Promise<CounterValues<L>> {
    const base = await super.get();
    const values: CounterValues<L>['values'] = [];
    for (const sample of this.read()) values.push({ labels: { ...sample.labels }, value: sample.value });
    return { ...base, values };
  }
}

/**
 * A prom-client histogram whose buckets are read from `read` at scrape time (see {@link CollectedCounter}); the
 * samples' cumulative counts follow `buckets`.
 */
export class CollectedHistogram<L extends string> extends Histogram<L> {
  private readonly bounds: readonly number[];

  constructor(
    registry: Registry,
    definition: MetricDefinition<L>,
    buckets: readonly number[],
    private readonly read: () => Iterable<HistogramSample<L>>,
  ) {
    super({
      name: definition.name,
      help: definition.help,
      labelNames: definition.labelNames,
      buckets: [...buckets],
      registers: [registry],
    });
    this.bounds = buckets;
  }

  override async get(): Promise<HistogramValues<L>> {
    return this.getForPromString();
  }

  override async getForPromString(): Promise<HistogramValues<L>> {
    // prom-client's own reads its (empty) store: it gives the name, help, type and aggregator.
    const base = await super.getForPromString();
    const values: HistogramValues<L>['values'] = [];
    const bucketName = `${base.name}_bucket`;
    for (const sample of this.read()) {
      for (let i = 0; i <= this.bounds.length; i++) {
        const le = i < this.bounds.length ? (this.bounds[i] as number) : '+Inf';
        values.push({
          labels: { ...sample.labels, le },
          value: sample.cumulative[i] ?? sample.count,
          metricName: bucketName,
        });
      }
      values.push({ labels: { ...sample.labels }, value: sample.sum, metricName: `${base.name}_sum` });
      values.push({ labels: { ...sample.labels }, value: sample.count, metricName: `${base.name}_count` });
    }
    return { ...base, values };
  }
}

declare module 'prom-client' {
  interface Histogram<T extends string = string> {
    /**
     * What the registry prints a histogram from (prom-client's own method, missing from its typings); `get()`
     * calls it too.
     */
    getForPromString(): ReturnType<Histogram<T>['get']>;
  }
}
