import { CappedLabels, OTHER_LABEL } from './capped-labels';
import { HistogramSeries } from './series';

describe('CappedLabels', () => {
  it('creates state once per value, up to the cap, then shares one overflow entry', () => {
    const created: string[] = [];
    const labels = new CappedLabels(2, (value) => {
      created.push(value);
      return { value };
    });
    const a = labels.get('a');
    expect(labels.get('a')).toBe(a);
    labels.get('b');
    const c = labels.get('c');
    expect(c.value).toBe(OTHER_LABEL);
    expect(labels.get('d')).toBe(c);
    expect(labels.get(OTHER_LABEL)).toBe(c);
    expect(created).toEqual(['a', 'b', OTHER_LABEL]);
    expect(labels.size).toBe(3);
  });

  it('sends the value other to the overflow entry even below the cap', () => {
    const labels = new CappedLabels(5, (value) => ({ value }));
    expect(labels.get(OTHER_LABEL)).toBe(labels.get(OTHER_LABEL));
    expect(labels.size).toBe(1);
  });
});

describe('HistogramSeries', () => {
  it('counts each value in the first bucket whose bound is not below it', () => {
    const series = new HistogramSeries([1, 5, 10]);
    for (const v of [0.5, 1, 1.01, 5, 11, Number.NaN]) series.observe(v);
    expect(Array.from(series.counts)).toEqual([2, 2, 0, 1]);
    expect(series.cumulative()).toEqual([2, 4, 4, 5]);
    expect(series.count).toBe(5);
    expect(series.sum).toBeCloseTo(18.51);
  });
});
