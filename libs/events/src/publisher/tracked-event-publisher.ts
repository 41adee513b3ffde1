import { Logger, type BeforeApplicationShutdown, type OnApplicationShutdown } from '@nestjs/common';
import { errorMessage, redactSecrets } from '@warden/observability';
import type { EventBus } from '../bus/event-bus.port';
import { PackedEvent, type ConversationStore, type StoreItem } from '../conversation-store.port';
import { EventPublisher, type EventListener } from '../event-publisher.port';
import type { WardenEvent } from '../warden-event';
import { BoundedQueue } from './bounded-queue';
import { redactEvent } from './redact-event';
import { DEFAULT_MAX_BUS_EVENT_BYTES, truncateForBus } from './truncate-for-bus';

/** First delay before retrying a failed store write; doubles per consecutive failure. */
export const STORE_RETRY_BASE_MS = 500;
/** Longest delay between store retries. */
export const STORE_RETRY_MAX_MS = 30_000;
/** How long the shutdown flush may take before the events still queued are given up (and counted). */
export const SHUTDOWN_FLUSH_TIMEOUT_MS = 5_000;

/** Settings of {@link TrackedEventPublisher} (from `eventsConfig`, constants for the rest). */
export interface TrackedEventPublisherOptions {
  /** Most events held (waiting for the store); beyond it the oldest are dropped and counted. */
  queueMax: number;
  /**
   * Most packed text held, the batch being written included (characters, see {@link PackedEvent.size}); beyond it
   * the oldest events are dropped and counted. Default: no bound but `queueMax`.
   */
  queueMaxBytes?: number;
  /** Most events per store write; a full batch is written at once. */
  batchSize: number;
  /**
   * Most packed text per store write (characters); a batch that holds this much is written at once, before it has
   * `batchSize` events. Default: no bound but `batchSize`.
   */
  batchMaxBytes?: number;
  /** A partial batch is written this long (ms) after it started filling. */
  flushMs: number;
  /** Bound of one event on the live bus (default {@link DEFAULT_MAX_BUS_EVENT_BYTES}); the store gets it whole. */
  maxBusEventBytes?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  shutdownTimeoutMs?: number;
}

/** Counters for health and metrics. */
export interface PublisherStats {
  /** Events not yet written to the store (queued or being written). */
  queued: number;
  /** Their packed text (characters; an event the store did not pack, or not yet, counts 0). */
  queuedBytes: number;
  /** Events given up for the history: queue overflow, or still queued when the shutdown flush ran out of time. */
  dropped: number;
  /** Failed store writes (each is retried). */
  storeFailures: number;
  /** Events the live bus could not carry (the history still gets them). */
  busFailures: number;
  /** Message of the last failed store write. */
  lastStoreError?: string;
}

/**
 * The event publisher of the control plane (DESIGN.md §5, fixing Luthien's fire-and-forget events lost on
 * shutdown). `publish` is O(1): it appends the event to a bounded queue (drop-oldest, counted) and never throws or
 * awaits. Off the call's path, on the next turn of the event loop, events are redacted (once) and sent to the
 * live bus, truncated to a bound; they stay queued until the conversation store has written them, in batches of
 * `batchSize` events or `batchMaxBytes` of packed text (requests of hundreds of kilobytes fill the second first),
 * or every `flushMs`. A store failure puts the batch back and retries with backoff; while the database
 * is down the live view keeps working and the queue bounds memory. Shutdown flushes with a deadline. A disabled
 * store (HISTORY_ENABLED=false) gets nothing: events are dropped from the queue as soon as the bus has them.
 *
 * Contract: an event and its `data` must not be mutated after `publish` (redaction copies it later, not inline).
 */
export class TrackedEventPublisher
  extends EventPublisher
  implements BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('EventPublisher');
  /** Events as published (from `prepared` on), then as the store packed them (before `prepared`). */
  private readonly queue: BoundedQueue<StoreItem>;
  private readonly batchSize: number;
  private readonly batchMaxBytes: number;
  private readonly queueMaxBytes: number;
  private readonly flushMs: number;
  private readonly maxBusEventBytes: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly shutdownTimeoutMs: number;
  /** How many events at the front of the queue are redacted and sent to the bus; the rest are raw as published. */
  private prepared = 0;
  /** The packed text of those `prepared` events (characters; an event the store did not pack counts 0). */
  private preparedBytes = 0;
  /** Events taken out of the queue by the store write in progress, and their packed text. */
  private inflight = 0;
  private inflightBytes = 0;
  private dropped = 0;
  private storeFailures = 0;
  private busFailures = 0;
  private lastStoreError: string | undefined;
  private failureStreak = 0;
  /** No store write before this time (epoch ms) while backing off. */
  private retryAt = 0;
  private immediate: NodeJS.Immediate | undefined;
  private timer: NodeJS.Timeout | undefined;
  private storing: Promise<void> | undefined;
  /** Bus copies waiting for the send in progress (bounded like the queue). */
  private busBuffer: WardenEvent[] = [];
  private busSending: Promise<void> | undefined;
  private closed = false;
  /** Set by the first shutdown hook: both hooks together take at most `shutdownTimeoutMs`. */
  private shutdownDeadline: number | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly store: ConversationStore,
    options: TrackedEventPublisherOptions,
  ) {
    super();
    this.queue = new BoundedQueue(options.queueMax);
    this.batchSize = Math.max(1, options.batchSize);
    this.queueMaxBytes = options.queueMaxBytes ?? Number.POSITIVE_INFINITY;
    // At most half the queue's bound: while one batch is written the next can fill, and a store that keeps up is
    // always sent a batch before the queue has to drop anything.
    this.batchMaxBytes = Math.min(options.batchMaxBytes ?? Number.POSITIVE_INFINITY, this.queueMaxBytes / 2);
    this.flushMs = options.flushMs;
    this.maxBusEventBytes = options.maxBusEventBytes ?? DEFAULT_MAX_BUS_EVENT_BYTES;
    this.retryBaseMs = options.retryBaseMs ?? STORE_RETRY_BASE_MS;
    this.retryMaxMs = options.retryMaxMs ?? STORE_RETRY_MAX_MS;
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? SHUTDOWN_FLUSH_TIMEOUT_MS;
  }

  publish(event: WardenEvent): void {
    try {
      if (this.closed) {
        this.dropped += 1;
        return;
      }
      // When full, the queue evicts its oldest item: a prepared one, if any.
      const oldest = this.queue.size === this.queue.capacity ? this.queue.at(0) : undefined;
      if (this.queue.push(event)) {
        this.dropped += 1;
        if (this.prepared > 0) {
          this.prepared -= 1;
          this.preparedBytes -= sizeOf(oldest);
          if (oldest !== undefined) this.discard([oldest]);
        }
      }
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        this.prepare();
        this.scheduleStore();
      });
    } catch {
      // Never into the call: whatever happened, the event is lost and counted.
      this.dropped += 1;
    }
  }

  /** Delegates to the bus: with Redis, a listener sees the events of every replica. */
  subscribe(listener: EventListener): () => void {
    return this.bus.subscribe(listener);
  }

  stats(): PublisherStats {
    const stats: PublisherStats = {
      queued: this.queue.size + this.inflight,
      queuedBytes: this.preparedBytes + this.inflightBytes,
      dropped: this.dropped,
      storeFailures: this.storeFailures,
      busFailures: this.busFailures,
    };
    return this.lastStoreError === undefined ? stats : { ...stats, lastStoreError: this.lastStoreError };
  }

  /**
   * Sends everything queued to the bus and writes it to the store now (ignoring a backoff in progress). Resolves
   * when the queue is empty, or after a store write failed (the rest stays queued, retried later); never rejects.
   */
  async flush(): Promise<void> {
    this.prepare();
    while (this.storing) await this.storing;
    this.retryAt = 0;
    await this.drainStore(true);
    while (this.busSending) await this.busSending;
  }

  /**
   * First shutdown flush, while the store is still open (it may close in its own `beforeApplicationShutdown`, which
   * Nest calls after this module's). Shares the shutdown deadline with {@link onApplicationShutdown}.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.drainUntilDeadline();
  }

  /**
   * Final flush, after the HTTP server has closed (no call can publish any more): retries store failures until the
   * shutdown deadline; what is still queued then is dropped, counted and logged. Later `publish` calls are dropped.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.drainUntilDeadline();
    this.closed = true;
    this.clearTimers();
    const left = this.queue.size + this.inflight;
    if (left > 0) {
      this.dropped += left;
      this.logger.warn(
        `shutdown: ${left} events could not be written to the history (${this.lastStoreError ?? 'timeout'})`,
      );
    }
  }

  /** Flushes, retrying with backoff, until the queue is empty or the shutdown deadline (set on first call) passes. */
  private async drainUntilDeadline(): Promise<void> {
    this.shutdownDeadline ??= Date.now() + this.shutdownTimeoutMs;
    const deadline = this.shutdownDeadline;
    if (Date.now() >= deadline) return;
    let expire: NodeJS.Timeout | undefined;
    let pause: NodeJS.Timeout | undefined;
    let stop = false;
    const expired = new Promise<void>((resolve) => {
      expire = setTimeout(resolve, deadline - Date.now());
    });
    const drained = (async () => {
      await this.flush();
      while (!stop && this.queue.size + this.inflight > 0) {
        const wait = Math.min(Math.max(0, this.retryAt - Date.now()), Math.max(0, deadline - Date.now()));
        await new Promise<void>((resolve) => {
          pause = setTimeout(resolve, wait);
        });
        if (stop) return;
        await this.flush();
      }
    })();
    await Promise.race([drained, expired]);
    stop = true;
    clearTimeout(expire);
    clearTimeout(pause);
  }

  /**
   * Redacts the raw events of the queue, sends their bus copies, and replaces each in the queue by what the store
   * packed of it (the store sees only redacted events).
   */
  private prepare(): void {
    if (this.prepared >= this.queue.size) return;
    // Only a bus that serialises events (Redis) needs them bounded; in-process listeners get them as they are.
    const inProcess = this.bus.status().kind === 'in-process';
    const fresh: WardenEvent[] = [];
    while (this.prepared < this.queue.size) {
      const raw = this.queue.at(this.prepared);
      if (raw === undefined) break;
      if (raw instanceof PackedEvent) {
        // Not expected here (a failed batch goes back in front of `prepared`); either way a packed item was made by
        // the store from an event redacted and sent to the bus already: there is nothing left to do for it.
        this.prepared += 1;
        this.preparedBytes += raw.size;
        continue;
      }
      const safe = redactOrStandIn(raw);
      const item = this.packForStore(safe);
      this.queue.set(this.prepared, item);
      this.prepared += 1;
      this.preparedBytes += sizeOf(item);
      fresh.push(inProcess ? safe : this.boundForBus(safe));
    }
    this.trimToBudget();
    if (fresh.length === 0) return;
    // The in-process bus only schedules delivery and cannot fail: no send queue needed.
    if (inProcess) this.bus.publish(fresh).catch(() => (this.busFailures += fresh.length));
    else this.sendToBus(fresh);
  }

  /** The store's packed form of a redacted event; the event itself when history is off or packing fails. */
  private packForStore(event: WardenEvent): StoreItem {
    if (!this.store.enabled) return event;
    try {
      return this.store.pack(event);
    } catch {
      return event;
    }
  }

  private boundForBus(event: WardenEvent): WardenEvent {
    try {
      return truncateForBus(event, this.maxBusEventBytes);
    } catch {
      return unrepresentable(event);
    }
  }

  private sendToBus(events: WardenEvent[]): void {
    for (const event of events) this.busBuffer.push(event);
    const over = this.busBuffer.length - this.queue.capacity;
    if (over > 0) {
      this.busBuffer.splice(0, over);
      this.busFailures += over;
    }
    this.busSending ??= this.drainBus().finally(() => {
      this.busSending = undefined;
    });
  }

  /** One bus send at a time (ordered, and `unsent` deltas attributable); never rejects. */
  private async drainBus(): Promise<void> {
    while (this.busBuffer.length > 0) {
      const batch = this.busBuffer.splice(0, this.batchSize);
      try {
        const before = this.bus.status().unsent;
        await this.bus.publish(batch);
        this.busFailures += Math.max(0, this.bus.status().unsent - before);
      } catch {
        this.busFailures += batch.length;
      }
    }
  }

  /** Starts a store write when a batch is full, else arms the flush (or backoff) timer. */
  private scheduleStore(): void {
    if (!this.store.enabled) {
      // History is off (HISTORY_ENABLED=false): the bus has the events, nothing is kept for a store.
      this.queue.shift(this.prepared);
      this.prepared = 0;
      this.preparedBytes = 0;
      return;
    }
    if (this.closed || this.storing || this.prepared === 0) return;
    const backoff = this.retryAt - Date.now();
    if (backoff > 0) {
      this.arm(backoff);
    } else if (this.batchFull()) {
      this.disarm();
      void this.drainStore(false);
    } else if (this.timer === undefined) {
      this.arm(this.flushMs);
    }
  }

  private arm(delayMs: number): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.prepare();
      void this.drainStore(false);
    }, delayMs);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private clearTimers(): void {
    this.disarm();
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
  }

  private drainStore(all: boolean): Promise<void> {
    this.storing ??= this.writeBatches(all).finally(() => {
      this.storing = undefined;
      this.scheduleStore();
    });
    return this.storing;
  }

  /** Writes the prepared events: one batch, then more while full batches wait (all of them when `all`). */
  private async writeBatches(all: boolean): Promise<void> {
    let first = true;
    while (this.prepared > 0 && (all || first || this.batchFull())) {
      first = false;
      const batch = this.queue.shift(this.nextBatchLength());
      const bytes = sizeOfAll(batch);
      this.prepared -= batch.length;
      this.preparedBytes -= bytes;
      this.inflight = batch.length;
      this.inflightBytes = bytes;
      try {
        await this.store.writeEvents(batch);
      } catch (error) {
        this.onStoreFailure(batch, error);
        return;
      } finally {
        this.inflight = 0;
        this.inflightBytes = 0;
      }
      if (this.failureStreak > 0) {
        this.logger.log(`history store reachable again; ${this.queue.size} events still queued`);
      }
      this.failureStreak = 0;
      this.retryAt = 0;
    }
  }

  /** Whether the prepared events make a full batch: `batchSize` events, or `batchMaxBytes` of packed text. */
  private batchFull(): boolean {
    return this.prepared >= this.batchSize || this.preparedBytes >= this.batchMaxBytes;
  }

  /** How many prepared events the next batch takes: up to `batchSize`, and `batchMaxBytes` (at least one). */
  private nextBatchLength(): number {
    let length = 0;
    let bytes = 0;
    while (length < this.prepared && length < this.batchSize) {
      const size = sizeOf(this.queue.at(length));
      if (length > 0 && bytes + size > this.batchMaxBytes) break;
      bytes += size;
      length += 1;
    }
    return length;
  }

  /**
   * Drops the oldest prepared events, counted, while the packed text held (the batch being written included) is over
   * `queueMaxBytes`; keeps the newest event.
   */
  private trimToBudget(): void {
    while (this.preparedBytes + this.inflightBytes > this.queueMaxBytes && this.prepared > 1) {
      const gone = this.queue.shift(1);
      this.preparedBytes -= sizeOfAll(gone);
      this.prepared -= 1;
      this.dropped += 1;
      this.discard(gone);
    }
  }

  /** Tells the store what was given up (it may hold state for it); never throws. */
  private discard(items: readonly StoreItem[]): void {
    try {
      this.store.discard(items);
    } catch {
      // The items are gone either way; whatever the store held for them is its own to lose.
    }
  }

  private onStoreFailure(batch: StoreItem[], error: unknown): void {
    this.storeFailures += 1;
    this.lastStoreError = redactSecrets(errorMessage(error));
    const lost = this.queue.unshift(batch);
    this.prepared += batch.length - lost;
    this.preparedBytes += sizeOfAll(batch.slice(lost));
    this.dropped += lost;
    if (lost > 0) this.discard(batch.slice(0, lost));
    const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.min(this.failureStreak, 30));
    this.retryAt = Date.now() + delay;
    if (this.failureStreak === 0) {
      this.logger.warn(
        `history store write failed (${this.lastStoreError}); events stay queued and are retried`,
      );
    }
    this.failureStreak += 1;
  }
}

/** The packed text an item holds (characters); 0 for an event the store did not pack. */
function sizeOf(item: StoreItem | undefined): number {
  return item instanceof PackedEvent ? item.size : 0;
}

function sizeOfAll(items: readonly StoreItem[]): number {
  let total = 0;
  for (const item of items) total += sizeOf(item);
  return total;
}

/** The redacted copy of `event`, or a stand-in when its data cannot be copied (a throwing getter or `toJSON`). */
function redactOrStandIn(event: WardenEvent): WardenEvent {
  try {
    return redactEvent(event);
  } catch {
    return unrepresentable(event);
  }
}

/** Stands in for an event whose data could not be copied (a throwing getter or `toJSON`). */
function unrepresentable(event: WardenEvent): WardenEvent {
  return {
    id: String(event.id),
    callId: typeof event.callId === 'string' ? event.callId : null,
    type: String(event.type),
    at: String(event.at),
    instance: String(event.instance),
    data: { error: 'event data could not be serialized' },
  };
}
