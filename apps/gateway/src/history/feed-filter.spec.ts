import type { WardenEvent } from '@warden/events';
import { EventPublisher } from '@warden/events';
import { feedFilterOf, feedQuerySchema, matchesFeedFilter } from './feed-filter';
import { trimJson } from './feed-trim';
import { LiveEventBuffer, toFeedEntry, type FeedEntry } from './live-event-buffer';
import { LiveFeedOptions } from './live-feed.options';

function event(id: string, type: string, extra: Partial<WardenEvent> = {}): WardenEvent {
  return {
    id,
    callId: 'c1',
    sessionId: 's1',
    type,
    at: '2026-01-01T00:00:00.000Z',
    instance: 'test',
    data: {},
    ...extra,
  };
}

describe('feed filter', () => {
  const parse = (query: Record<string, string>): ReturnType<typeof feedFilterOf> =>
    feedFilterOf(feedQuerySchema.parse(query));

  it('passes everything without a filter', () => {
    expect(matchesFeedFilter(parse({}), event('1', 'call.started'))).toBe(true);
  });

  it('matches type prefixes from a comma list', () => {
    const filter = parse({ type: ' call.completed, policy. ,' });
    expect(filter.types).toEqual(['call.completed', 'policy.']);
    expect(matchesFeedFilter(filter, event('1', 'call.completed'))).toBe(true);
    expect(matchesFeedFilter(filter, event('1', 'policy.tool-call-judge.blocked'))).toBe(true);
    expect(matchesFeedFilter(filter, event('1', 'call.started'))).toBe(false);
  });

  it('matches the session and the call exactly', () => {
    expect(matchesFeedFilter(parse({ session: 's1' }), event('1', 'x'))).toBe(true);
    expect(matchesFeedFilter(parse({ session: 's2' }), event('1', 'x'))).toBe(false);
    expect(matchesFeedFilter(parse({ call: 'c1' }), event('1', 'x'))).toBe(true);
    expect(matchesFeedFilter(parse({ call: 'c1' }), event('1', 'x', { callId: null }))).toBe(false);
    expect(matchesFeedFilter(parse({ session: 's1' }), event('1', 'x', { sessionId: undefined }))).toBe(
      false,
    );
  });

  it('refuses unknown parameters and too many prefixes', () => {
    expect(feedQuerySchema.safeParse({ nope: '1' }).success).toBe(false);
    expect(
      feedQuerySchema.safeParse({ type: Array.from({ length: 21 }, (_, i) => `t${i}`).join(',') }).success,
    ).toBe(false);
  });
});

describe('trimJson', () => {
  it('cuts long strings and keeps the last items of long arrays', () => {
    const { value, trimmed } = trimJson(
      { text: 'x'.repeat(30), list: [1, 2, 3, 4, 5] },
      { maxString: 10, maxArray: 2, maxDepth: 5 },
    );
    expect(trimmed).toBe(true);
    expect(value).toEqual({
      text: `${'x'.repeat(10)}… [20 more characters]`,
      list: ['… [3 earlier items]', 4, 5],
    });
  });

  it('leaves small values alone', () => {
    expect(trimJson({ a: [1, 'b'] })).toEqual({ value: { a: [1, 'b'] }, trimmed: false });
  });

  it('bounds the depth', () => {
    expect(trimJson({ a: { b: { c: 1 } } }, { maxString: 10, maxArray: 10, maxDepth: 2 }).value).toEqual({
      a: { b: '… [nested]' },
    });
  });
});

describe('LiveEventBuffer', () => {
  class FakePublisher extends EventPublisher {
    listeners = new Set<(e: WardenEvent) => void>();
    publish(e: WardenEvent): void {
      for (const l of this.listeners) l(e);
    }
    subscribe(listener: (e: WardenEvent) => void): () => void {
      this.listeners.add(listener);
      return () => this.listeners.delete(listener);
    }
  }

  function setup(size: number): { bus: FakePublisher; buffer: LiveEventBuffer } {
    const bus = new FakePublisher();
    const options = Object.assign(new LiveFeedOptions(), { bufferSize: size });
    const buffer = new LiveEventBuffer(bus, options);
    buffer.onModuleInit();
    return { bus, buffer };
  }

  /** A client that ignores what it gets (the buffer keeps events only while someone watches). */
  const watcher = { deliver: () => undefined, end: () => undefined };

  it('subscribes once and keeps the last events (bounded)', () => {
    const { bus, buffer } = setup(3);
    expect(bus.listeners.size).toBe(1);
    buffer.attach(watcher);
    for (const id of ['a', 'b', 'c', 'd', 'e']) bus.publish(event(id, 'call.started'));
    expect(buffer.entries().map((e) => e.id)).toEqual(['c', 'd', 'e']);
    expect(buffer.since('c')?.map((e) => e.id)).toEqual(['d', 'e']);
    expect(buffer.since('e')).toEqual([]);
    expect(buffer.since('a')).toBeUndefined();
    buffer.onModuleDestroy();
    expect(bus.listeners.size).toBe(0);
  });

  it('keeps nothing while nobody watches, and keeps events for a while after the last client left', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const { bus, buffer } = setup(10);
      bus.publish(event('a', 'x'));
      expect(buffer.entries()).toEqual([]);
      const { detach } = buffer.attach(watcher);
      bus.publish(event('b', 'x'));
      detach();
      jest.setSystemTime(1_000_000 + new LiveFeedOptions().resumeWindowMs - 1);
      bus.publish(event('c', 'x'));
      expect(buffer.since('b')?.map((e) => e.id)).toEqual(['c']);
      jest.setSystemTime(1_000_000 + new LiveFeedOptions().resumeWindowMs);
      bus.publish(event('d', 'x'));
      expect(buffer.entries()).toEqual([]);
      expect(buffer.since('b')).toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });

  it('replays what a client missed, then delivers live, and releases it on detach', () => {
    const { bus, buffer } = setup(10);
    buffer.attach(watcher);
    bus.publish(event('a', 'x'));
    bus.publish(event('b', 'x'));
    const got: FeedEntry[] = [];
    const { missed, detach } = buffer.attach({ deliver: (e) => got.push(e), end: () => undefined }, 'a');
    expect(missed?.map((e) => e.id)).toEqual(['b']);
    bus.publish(event('c', 'x'));
    expect(got.map((e) => e.id)).toEqual(['c']);
    expect(buffer.listenerCount).toBe(2);
    detach();
    expect(buffer.listenerCount).toBe(1);
    bus.publish(event('d', 'x'));
    expect(got).toHaveLength(1);
  });

  it('ends the connected clients on shutdown', () => {
    const { buffer } = setup(10);
    const end = jest.fn();
    buffer.attach({ deliver: () => undefined, end });
    buffer.onModuleDestroy();
    expect(end).toHaveBeenCalledTimes(1);
    expect(buffer.listenerCount).toBe(0);
  });

  it('serialises an event as one SSE frame with its id, trimmed data flagged', () => {
    const entry = toFeedEntry(event('id-1', 'request.received', { data: { text: 'y'.repeat(5000) } }));
    expect(entry.frame.startsWith('id: id-1\ndata: {')).toBe(true);
    expect(entry.frame.endsWith('\n\n')).toBe(true);
    expect(entry.frame.split('\n')).toHaveLength(4);
    const body = JSON.parse(entry.frame.split('\n')[1]?.slice('data: '.length) ?? '') as {
      trimmed?: boolean;
    };
    expect(body.trimmed).toBe(true);
    expect(toFeedEntry(event('x\ny', 't')).frame.startsWith('id: xy\n')).toBe(true);
  });
});
