import { Logger } from '@nestjs/common';
import type { JsonObject } from '@warden/llm';
import {
  ConversationStore,
  PackedEvent,
  type CallRecord,
  type CallSummary,
  type Page,
  type SessionSummary,
  type StoreItem,
} from '../conversation-store.port';
import type { WardenEvent } from '../warden-event';
import { EVENT_TYPES } from '../event-types';
import { InProcessEventBus } from '../bus/in-process-event-bus.adapter';
import { DisabledConversationStore } from '../store/disabled-conversation-store.adapter';
import type { BusStatus } from '../bus/event-bus.port';
import { TrackedEventPublisher, type TrackedEventPublisherOptions } from './tracked-event-publisher';
import { TRUNCATED_KEY } from './truncate-for-bus';

const CANARY_KEY = 'sk-ant-api03-CANARY0123456789abcdefXYZ';
const CANARY_BEARER = 'Bearer eyCANARYtoken.0123456789abcdef';

let seq = 0;
function event(data: JsonObject = {}, type: string = EVENT_TYPES.callStarted): WardenEvent {
  seq += 1;
  return { id: `e${seq}`, callId: 'call-1', type, at: new Date(0).toISOString(), instance: 'test', data };
}

/** An in-process bus that reports itself as a serialising (Redis-like) bus, so events get bounded for it. */
class SerialisingBus extends InProcessEventBus {
  override status(): BusStatus {
    return { ...super.status(), kind: 'redis' };
  }
}

/** A publisher to `store` on an in-process bus; `options` over small defaults. */
function publisherTo(
  store: ConversationStore,
  options: Partial<TrackedEventPublisherOptions> = {},
  bus: InProcessEventBus = new InProcessEventBus(),
): TrackedEventPublisher {
  return new TrackedEventPublisher(bus, store, { queueMax: 100, batchSize: 3, flushMs: 250, ...options });
}

function setup(options: Partial<TrackedEventPublisherOptions> = {}, serialising = false) {
  const store = new MemoryConversationStore();
  const bus = serialising ? new SerialisingBus() : new InProcessEventBus();
  const onBus: WardenEvent[] = [];
  bus.subscribe((e) => onBus.push(e));
  const publisher = publisherTo(store, options, bus);
  return { store, bus, onBus, publisher };
}

/** Runs what is due now (immediates, microtasks), without moving the clock. */
async function settle(): Promise<void> {
  await jest.advanceTimersByTimeAsync(0);
}

beforeAll(() => {
  Logger.overrideLogger(false);
});

describe('TrackedEventPublisher', () => {
  beforeEach(() => {
    seq = 0;
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('does nothing inside publish: the bus and the store see events only on a later turn', async () => {
    const { store, onBus, publisher } = setup({ batchSize: 1 });
    publisher.publish(event());
    expect(store.attempts).toBe(0);
    expect(onBus).toHaveLength(0);
    await settle();
    expect(store.written.map((e) => e.id)).toEqual(['e1']);
    expect(onBus.map((e) => e.id)).toEqual(['e1']);
  });

  it('writes a full batch at once and a partial batch after flushMs', async () => {
    const { store, onBus, publisher } = setup({ batchSize: 3, flushMs: 250 });
    for (let i = 0; i < 5; i++) publisher.publish(event());
    await settle();
    expect(store.batches.map((b) => b.map((e) => e.id))).toEqual([['e1', 'e2', 'e3']]);
    expect(onBus).toHaveLength(5);
    await jest.advanceTimersByTimeAsync(249);
    expect(store.batches).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(store.batches.map((b) => b.map((e) => e.id))).toEqual([
      ['e1', 'e2', 'e3'],
      ['e4', 'e5'],
    ]);
    expect(publisher.stats()).toEqual({
      queued: 0,
      queuedBytes: 0,
      dropped: 0,
      storeFailures: 0,
      busFailures: 0,
    });
  });

  it('with history disabled, sends events to the bus only and keeps none queued', async () => {
    const store = new DisabledConversationStore();
    const writes = jest.spyOn(store, 'writeEvents');
    const bus = new InProcessEventBus();
    const onBus: WardenEvent[] = [];
    bus.subscribe((e) => onBus.push(e));
    const publisher = new TrackedEventPublisher(bus, store, { queueMax: 3, batchSize: 2, flushMs: 250 });
    // Each turn empties the queue: three turns of three events fill a queue of three without dropping any.
    for (let turn = 0; turn < 3; turn++) {
      for (let i = 0; i < 3; i++) publisher.publish(event({ key: CANARY_KEY }));
      await settle();
    }
    await jest.advanceTimersByTimeAsync(1000);
    expect(onBus).toHaveLength(9);
    expect(JSON.stringify(onBus)).not.toContain(CANARY_KEY);
    expect(writes).not.toHaveBeenCalled();
    expect(publisher.stats()).toMatchObject({ queued: 0, dropped: 0, storeFailures: 0 });
  });

  it('writes a lone event after flushMs', async () => {
    const { store, publisher } = setup({ batchSize: 200, flushMs: 250 });
    publisher.publish(event());
    await jest.advanceTimersByTimeAsync(249);
    expect(store.attempts).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(store.written).toHaveLength(1);
  });

  it('bounds the queue: drops the oldest events and counts them', async () => {
    const { store, publisher } = setup({ queueMax: 5, batchSize: 100, flushMs: 1000 });
    for (let i = 0; i < 8; i++) publisher.publish(event());
    expect(publisher.stats()).toMatchObject({ queued: 5, dropped: 3 });
    await publisher.flush();
    expect(store.written.map((e) => e.id)).toEqual(['e4', 'e5', 'e6', 'e7', 'e8']);
    expect(publisher.stats()).toMatchObject({ queued: 0, dropped: 3 });
  });

  it('keeps events through a store outage, retries with backoff, then writes them in order', async () => {
    const { store, onBus, publisher } = setup({
      batchSize: 2,
      flushMs: 250,
      retryBaseMs: 500,
      retryMaxMs: 10_000,
    });
    store.failure = 'reject';
    for (let i = 0; i < 3; i++) publisher.publish(event());
    await settle();
    expect(store.attempts).toBe(1);
    expect(onBus).toHaveLength(3); // the live view does not wait for the database
    expect(publisher.stats()).toMatchObject({ queued: 3, storeFailures: 1, dropped: 0 });
    expect(publisher.stats().lastStoreError).toContain('ECONNREFUSED');

    await jest.advanceTimersByTimeAsync(499);
    expect(store.attempts).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(store.attempts).toBe(2); // first retry after 500 ms
    publisher.publish(event()); // more events while it is down
    await jest.advanceTimersByTimeAsync(999);
    expect(store.attempts).toBe(2); // backoff doubled
    expect(onBus).toHaveLength(4);

    store.failure = 'none';
    await jest.advanceTimersByTimeAsync(1);
    expect(store.written.map((e) => e.id)).toEqual(['e1', 'e2', 'e3', 'e4']);
    expect(publisher.stats()).toMatchObject({ queued: 0, dropped: 0, storeFailures: 2 });
  });

  it('queues what the store packs of each redacted event, and writes that (through an outage too)', async () => {
    const store = new PackingStore();
    const publisher = publisherTo(store, { retryBaseMs: 500 });
    store.failure = 'reject';
    store.refuse = 'e2';
    publisher.publish(event({ key: CANARY_KEY }));
    publisher.publish(event({ n: 2 }));
    publisher.publish(event({ n: 3 }));
    await settle();
    // Packed once, on the turn after publish, and only what was redacted.
    expect(store.packs).toBe(2);
    expect(store.attempts).toBe(1);
    store.failure = 'none';
    await jest.advanceTimersByTimeAsync(500);
    expect(store.packs).toBe(2); // a retried batch is written as it was packed
    const [first, second, third] = store.batches.flat();
    expect(first).toBeInstanceOf(TextPacked);
    expect((first as TextPacked).json).not.toContain(CANARY_KEY);
    expect((first as TextPacked).json).toContain('[redacted]');
    // The store could not pack it: it gets the (redacted) event itself.
    expect(second).toMatchObject({ id: 'e2', data: { n: 2 } });
    expect(third).toBeInstanceOf(TextPacked);
    expect(publisher.stats()).toMatchObject({ queued: 0, dropped: 0, storeFailures: 1 });
  });

  it('counts what overflows the queue while the store is down, keeping the newest', async () => {
    const { store, publisher } = setup({ queueMax: 4, batchSize: 2, flushMs: 250, retryBaseMs: 100 });
    store.failure = 'reject';
    for (let i = 0; i < 4; i++) publisher.publish(event());
    await settle();
    for (let i = 0; i < 3; i++) publisher.publish(event());
    await settle();
    expect(publisher.stats()).toMatchObject({ queued: 4, dropped: 3 });
    store.failure = 'none';
    await jest.advanceTimersByTimeAsync(100);
    await jest.advanceTimersByTimeAsync(250);
    expect(store.written.map((e) => e.id)).toEqual(['e4', 'e5', 'e6', 'e7']);
  });

  describe('with packed text bounds (batchMaxBytes, queueMaxBytes)', () => {
    function sized(options: Partial<TrackedEventPublisherOptions>) {
      const store = new SizingStore();
      return { store, publisher: publisherTo(store, { batchSize: 100, retryBaseMs: 100, ...options }) };
    }

    it('writes a batch as soon as it holds batchMaxBytes, cut at that bound', async () => {
      const { store, publisher } = sized({ batchMaxBytes: 1000 });
      for (const bytes of [400, 400, 400, 300, 900, 50]) publisher.publish(event({ bytes }));
      await settle();
      // 2,450 characters queued: full batches now, each as large as fits; the rest waits for flushMs.
      expect(store.ids).toEqual([
        ['e1', 'e2'],
        ['e3', 'e4'],
      ]);
      await jest.advanceTimersByTimeAsync(250);
      expect(store.ids).toEqual([
        ['e1', 'e2'],
        ['e3', 'e4'],
        ['e5', 'e6'],
      ]);
    });

    it('writes an event larger than batchMaxBytes alone', async () => {
      const { store, publisher } = sized({ batchMaxBytes: 1000 });
      for (const bytes of [10, 5000, 10]) publisher.publish(event({ bytes }));
      await settle();
      expect(store.ids).toEqual([['e1'], ['e2']]);
    });

    it('drops the oldest events, counted, while the queued text is over queueMaxBytes', async () => {
      // Batches of at most half the queue's bound (500): the store is sent each as soon as it is full.
      const { store, publisher } = sized({ queueMaxBytes: 1000, retryBaseMs: 1000 });
      store.failure = 'reject';
      for (let i = 0; i < 3; i++) publisher.publish(event({ bytes: 300 }));
      await settle();
      expect(publisher.stats()).toMatchObject({ queued: 3, queuedBytes: 900, dropped: 0, storeFailures: 1 });
      publisher.publish(event({ bytes: 300 }));
      publisher.publish(event({ bytes: 300 }));
      await settle();
      expect(publisher.stats()).toMatchObject({ queued: 3, queuedBytes: 900, dropped: 2 });
      // The store is told, so that it lets go of what it held for them.
      expect(store.discarded).toEqual(['e1', 'e2']);
      store.failure = 'none';
      await jest.advanceTimersByTimeAsync(1250);
      expect(store.ids.flat()).toEqual(['e3', 'e4', 'e5']);
      expect(publisher.stats()).toMatchObject({ queued: 0, queuedBytes: 0, dropped: 2 });
    });

    it('drops nothing while the store keeps up, even with a queue bound below the batch bound', async () => {
      const { store, publisher } = sized({ queueMaxBytes: 1000, batchMaxBytes: 8000, flushMs: 1000 });
      for (let i = 0; i < 5; i++) {
        publisher.publish(event({ bytes: 600 }));
        await settle();
      }
      expect(store.ids).toEqual([['e1'], ['e2'], ['e3'], ['e4'], ['e5']]);
      expect(publisher.stats()).toMatchObject({ queued: 0, dropped: 0 });
    });

    it('counts the batch being written against the queue bound', async () => {
      const { store, publisher } = sized({ queueMaxBytes: 1000 });
      const done = store.holdNextWrite();
      publisher.publish(event({ bytes: 600 }));
      await settle();
      publisher.publish(event({ bytes: 300 }));
      await settle();
      expect(publisher.stats()).toMatchObject({ queued: 2, queuedBytes: 900, dropped: 0 });
      // 1,200 with the batch in flight: the oldest waiting event goes.
      publisher.publish(event({ bytes: 300 }));
      await settle();
      expect(publisher.stats()).toMatchObject({ queued: 2, queuedBytes: 900, dropped: 1 });
      done(true);
      await jest.advanceTimersByTimeAsync(250);
      expect(store.ids.flat()).toEqual(['e1', 'e3']);
    });

    it('counts the text of a failed batch put back, less what the count bound dropped of it', async () => {
      const { store, publisher } = sized({ queueMax: 3, batchSize: 2, retryBaseMs: 1000 });
      const done = store.holdNextWrite();
      publisher.publish(event({ bytes: 100 }));
      publisher.publish(event({ bytes: 200 }));
      await settle();
      publisher.publish(event({ bytes: 400 }));
      publisher.publish(event({ bytes: 800 }));
      await settle();
      // e1 and e2 fail: only one fits back in the queue of three (e1, the oldest, is dropped).
      done(false);
      await settle();
      expect(publisher.stats()).toMatchObject({ queued: 3, queuedBytes: 1400, dropped: 1 });
      expect(store.discarded).toEqual(['e1']);
    });

    it('does not count the text of events the count bound evicted', async () => {
      const { store, publisher } = sized({ queueMax: 3, batchMaxBytes: 1000 });
      for (let i = 0; i < 3; i++) publisher.publish(event({ bytes: 300 }));
      await settle();
      // Two more evict e1 and e2: 900 characters queued, under the batch bound: nothing is written yet.
      publisher.publish(event({ bytes: 300 }));
      publisher.publish(event({ bytes: 300 }));
      await settle();
      expect(store.attempts).toBe(0);
      expect(publisher.stats()).toMatchObject({ queued: 3, queuedBytes: 900 });
      await jest.advanceTimersByTimeAsync(250);
      expect(store.ids).toEqual([['e3', 'e4', 'e5']]);
      expect(publisher.stats()).toMatchObject({ queued: 0, dropped: 2 });
      expect(store.discarded).toEqual(['e1', 'e2']);
    });
  });

  it('never throws from publish, even when the store throws synchronously', async () => {
    const { store, publisher } = setup({ batchSize: 1 });
    store.failure = 'throw';
    expect(() => publisher.publish(event())).not.toThrow();
    await settle();
    expect(publisher.stats()).toMatchObject({ queued: 1, storeFailures: 1 });
    expect(publisher.stats().lastStoreError).toContain('synchronously');
    store.failure = 'none';
    await publisher.flush();
    expect(store.written).toHaveLength(1);
  });

  it('keeps a canary key and bearer token out of the store and the bus', async () => {
    const { store, onBus, publisher } = setup({ batchSize: 10 });
    publisher.publish(
      event({
        request: {
          model: 'claude-test',
          max_tokens: 100,
          messages: [
            { role: 'user', content: [{ type: 'text', text: `my key is ${CANARY_KEY}, use it` }] },
            { role: 'user', content: `header was ${CANARY_BEARER}` },
          ],
        },
        headers: {
          Authorization: CANARY_BEARER,
          'x-api-key': CANARY_KEY,
          'content-type': 'application/json',
        },
        nested: { deeper: [{ apiKey: { value: 'CANARY-in-object' } }, { api_key: 'CANARY-plain' }] },
        options: { password: 'CANARY-pw', client_secret: 'CANARY-secret', token: 'CANARY-token' },
        usage: { input_tokens: 12, output_tokens: 34 },
      }),
    );
    await publisher.flush();
    for (const seen of [store.written, onBus]) {
      const json = JSON.stringify(seen);
      expect(json).not.toContain('CANARY');
      expect(json).toContain('[redacted]');
      expect(seen[0]?.data).toMatchObject({
        headers: {
          Authorization: '[redacted]',
          'x-api-key': '[redacted]',
          'content-type': 'application/json',
        },
        usage: { input_tokens: 12, output_tokens: 34 },
      });
    }
  });

  it('passes events whole to an in-process bus (nothing is serialised)', async () => {
    const { onBus, publisher } = setup({ batchSize: 10, maxBusEventBytes: 4096 });
    const big = 'x'.repeat(50_000);
    publisher.publish(event({ request: { messages: [{ role: 'user', content: big }] } }));
    await publisher.flush();
    expect(JSON.stringify(onBus[0])).toContain(big);
  });

  it('sends large events truncated to a serialising bus and whole to the store', async () => {
    const { store, onBus, publisher } = setup({ batchSize: 10, maxBusEventBytes: 4096 }, true);
    const big = 'x'.repeat(50_000);
    publisher.publish(event({ request: { messages: [{ role: 'user', content: big }] }, small: 'kept' }));
    await publisher.flush();
    const [stored] = store.written;
    const [live] = onBus;
    expect(JSON.stringify(stored)).toContain(big);
    expect(Buffer.byteLength(JSON.stringify(live))).toBeLessThanOrEqual(4096);
    expect(live?.data[TRUNCATED_KEY]).toEqual({ originalBytes: expect.any(Number) as number });
    expect(live?.data.small).toBe('kept');
    expect(JSON.stringify(live)).toContain('[truncated: 50000 chars]');
  });

  it('flushes everything on shutdown', async () => {
    const { store, publisher } = setup({ queueMax: 1000, batchSize: 200, flushMs: 60_000 });
    for (let i = 0; i < 450; i++) publisher.publish(event());
    await publisher.onApplicationShutdown();
    expect(store.written.map((e) => e.id)).toEqual(Array.from({ length: 450 }, (_, i) => `e${i + 1}`));
    expect(store.batches.map((b) => b.length)).toEqual([200, 200, 50]);
    expect(publisher.stats()).toMatchObject({ queued: 0, dropped: 0 });
  });

  it('retries on shutdown until the deadline, then counts what is left as dropped', async () => {
    const { store, publisher } = setup({ batchSize: 10, retryBaseMs: 100, shutdownTimeoutMs: 1000 });
    store.failure = 'reject';
    for (let i = 0; i < 5; i++) publisher.publish(event());
    const shutdown = publisher.onApplicationShutdown();
    await jest.advanceTimersByTimeAsync(1000);
    await shutdown;
    expect(store.attempts).toBeGreaterThan(2);
    expect(publisher.stats()).toMatchObject({ dropped: 5 });
    publisher.publish(event()); // after shutdown: counted, not queued
    expect(publisher.stats()).toMatchObject({ dropped: 6 });
  });

  it('gives up a hanging store write at the shutdown deadline', async () => {
    const { store, publisher } = setup({ batchSize: 10, shutdownTimeoutMs: 500 });
    store.hang = true;
    publisher.publish(event());
    const shutdown = publisher.onApplicationShutdown();
    await jest.advanceTimersByTimeAsync(500);
    await shutdown;
    expect(publisher.stats()).toMatchObject({ dropped: 1 });
  });

  it('delegates subscribe to the bus; a failing listener does not affect the others', async () => {
    const { publisher } = setup({ batchSize: 1 });
    const seen: string[] = [];
    publisher.subscribe(() => {
      throw new Error('listener bug');
    });
    const stop = publisher.subscribe((e) => seen.push(e.id));
    publisher.publish(event());
    await settle();
    stop();
    publisher.publish(event());
    await settle();
    expect(seen).toEqual(['e1']);
  });

  it('counts events the bus could not send, and still writes them to the store', async () => {
    const store = new MemoryConversationStore();
    const bus = new InProcessEventBus();
    jest.spyOn(bus, 'publish').mockRejectedValue(new Error('bus down'));
    const publisher = new TrackedEventPublisher(bus, store, { queueMax: 10, batchSize: 2, flushMs: 250 });
    publisher.publish(event());
    publisher.publish(event());
    await publisher.flush();
    expect(store.written).toHaveLength(2);
    expect(publisher.stats()).toMatchObject({ busFailures: 2, queued: 0 });
  });
});

/** How the fake store fails: not, with a rejected promise, or by throwing synchronously. */
export type FakeStoreFailure = 'none' | 'reject' | 'throw';

/** A ConversationStore for unit tests: records the batches it is given; can be told to fail or to hang. */
export class MemoryConversationStore extends ConversationStore {
  readonly batches: StoreItem[][] = [];
  failure: FakeStoreFailure = 'none';
  hang = false;
  attempts = 0;

  /** The events written (as published: this store packs nothing). */
  get written(): WardenEvent[] {
    return this.batches.flat().filter((e): e is WardenEvent => !(e instanceof PackedEvent));
  }

  writeEvents(events: readonly StoreItem[]): Promise<void> {
    this.attempts += 1;
    if (this.failure === 'throw') throw new Error('store exploded synchronously');
    if (this.failure === 'reject') return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    if (this.hang) return new Promise<void>(() => undefined);
    this.batches.push([...events]);
    return Promise.resolve();
  }

  listCalls(): Promise<Page<CallSummary>> {
    return Promise.resolve({ items: [], nextCursor: null });
  }

  getCall(): Promise<{ call: CallRecord; events: WardenEvent[] } | undefined> {
    return Promise.resolve(undefined);
  }

  listSessions(): Promise<Page<SessionSummary>> {
    return Promise.resolve({ items: [], nextCursor: null });
  }

  getSession(): Promise<{ session: SessionSummary; calls: CallRecord[] } | undefined> {
    return Promise.resolve(undefined);
  }

  purgeOlderThan(): Promise<number> {
    return Promise.resolve(0);
  }

  ping(): Promise<void> {
    return this.failure === 'none' ? Promise.resolve() : Promise.reject(new Error('down'));
  }
}

/** What {@link PackingStore} packs an event into: its JSON (its size, unless told otherwise). */
class TextPacked extends PackedEvent {
  constructor(
    readonly id: string,
    readonly json: string,
    readonly size: number = json.length,
  ) {
    super();
  }
}

/** A store that packs events into their JSON, but the one it is told to refuse (its pack throws). */
class PackingStore extends MemoryConversationStore {
  packs = 0;
  refuse: string | undefined;

  override pack(event: WardenEvent): StoreItem {
    if (event.id === this.refuse) throw new Error('cannot pack this one');
    this.packs += 1;
    return new TextPacked(event.id, JSON.stringify(event));
  }
}

/** A store that packs each event into the size its `data.bytes` says (as a large request would be). */
class SizingStore extends MemoryConversationStore {
  /** When set, the next write waits for it: true writes the batch, false fails. */
  private gate: Promise<boolean> | undefined;
  /** The ids of the items the publisher gave up, in order. */
  readonly discarded: string[] = [];

  override discard(items: readonly StoreItem[]): void {
    for (const item of items) this.discarded.push(item.id);
  }

  override pack(event: WardenEvent): StoreItem {
    const bytes = event.data['bytes'];
    return new TextPacked(event.id, JSON.stringify(event), typeof bytes === 'number' ? bytes : 0);
  }

  /** Holds the next write until the returned function says how it ends. */
  holdNextWrite(): (ok: boolean) => void {
    let done: (ok: boolean) => void = () => undefined;
    this.gate = new Promise<boolean>((resolve) => (done = resolve));
    return done;
  }

  override async writeEvents(events: readonly StoreItem[]): Promise<void> {
    const gate = this.gate;
    if (gate === undefined) return super.writeEvents(events);
    this.gate = undefined;
    this.attempts += 1;
    if (!(await gate)) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    this.batches.push([...events]);
  }

  /** The ids of each batch written. */
  get ids(): string[][] {
    return this.batches.map((batch) => batch.map((item) => item.id));
  }
}
