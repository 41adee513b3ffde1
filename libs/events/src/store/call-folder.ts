import { PackedEvent } from '../conversation-store.port';
import { EVENT_TYPES } from '../event-types';
import {
  applyCallEvent,
  callRowFromStarted,
  type CallRow,
  isTerminalType,
  type NewCall,
  normalizeTimestamp,
  PAYLOAD_FIELDS,
  recordEvent,
  SAME_AS_ORIGINAL,
  type StorableEvent,
} from './call-row.mapper';
import {
  WIRE_CALL_FIELDS,
  type WireCall,
  type WirePayload,
  wireIndex,
  wirePayloadOf,
} from './store-writer.protocol';

/** A payload column's value while its call folds: serialized as soon as it arrives, so its objects can go. */
class WireBox {
  constructor(readonly wire: WirePayload) {}
}

/** The text stored for {@link SAME_AS_ORIGINAL}. */
const SAME_AS_ORIGINAL_TEXT = JSON.stringify(SAME_AS_ORIGINAL);

/** A call whose events are being folded into its row on the publisher's side. */
class FoldingCall {
  /**
   * The row so far (payload columns hold {@link WireBox}es, {@link SAME_AS_ORIGINAL} or null), until it is taken
   * as {@link wire}.
   */
  row: NewCall | undefined;
  /**
   * The row as written: taken when the call ends (its events' objects can go at once) or, for a call still going,
   * by the first batch that holds one of its events; a batch that fails writes it again as it is.
   */
  wire: WireCall | undefined;
  /** The batch holding {@link wire} was written (and the wire let go). */
  written = false;
  /** Its items in the publisher's queue (or in a batch being written): at 0, nothing can write its row any more. */
  items = 0;

  constructor(
    readonly id: string,
    row: NewCall,
  ) {
    this.row = row;
  }

  /** The row as written, taken now if it was not yet (throws when it cannot be serialized). */
  take(): WireCall {
    if (this.wire === undefined && this.row !== undefined) this.wire = wireCallOf(this.row);
    this.row = undefined;
    if (this.wire === undefined) throw new Error(`the row of call ${this.id} could not be serialized`);
    return this.wire;
  }
}

/**
 * An event folded into its call's row (see {@link CallFolder}): in the publisher's queue in its place. Its `size`
 * is what it added to the row (its payloads, and its share of the events column), so the queue's budgets still
 * count what waits.
 */
export class FoldedEvent extends PackedEvent {
  constructor(
    readonly id: string,
    readonly size: number,
    readonly call: FoldingCall,
    /** The payloads the event put in its call's row: dropped from it if the publisher gives the event up. */
    readonly payloads: ReadonlyArray<{ field: PayloadField; box: WireBox }> = NO_PAYLOADS,
  ) {
    super();
    call.items++;
  }
}

type PayloadField = (typeof PAYLOAD_FIELDS)[number];

const NO_PAYLOADS: ReadonlyArray<{ field: PayloadField; box: WireBox }> = Object.freeze([]);

/** What a written call keeps (its items may still be queued): nothing. */
const WRITTEN: WireCall = Object.freeze([]) as unknown as WireCall;

/** Characters an event adds to the events column besides its data (ids, type, timestamp, instance, punctuation). */
const EVENT_ENVELOPE_CHARS = 160;

/**
 * Folds each call's events into its `calls` row on the publisher's side, as they are published, so that the history
 * writes a call that starts and ends between two batches (nearly every call: most last milliseconds, a batch is
 * written every second at most) as one ready row, a single `INSERT`, instead of five to ten events each serialized,
 * posted, parsed, planned into a row and serialized again (most of what keeping a history cost). The rules are the
 * batch plan's ({@link applyCallEvent}, {@link recordEvent}); the fold is only where they run.
 *
 * A call is folded from its `call.started` on. Its row is taken as written when it ends, or by the first batch that
 * holds any of its events while it is still going (see {@link rowsOf}): then it is in progress, and the call's further
 * events are packed one by one again and patch the stored row (as before folding). A batch written again after a
 * failure writes the same row again, which changes nothing when it is stored already. Events before a call's
 * `call.started` are not folded.
 */
export class CallFolder {
  /** Calls folding, by id, until a batch takes their row; in start order. */
  private readonly folding = new Map<string, FoldingCall>();
  /**
   * The last {@link MAX_FOLDED_IDS} calls that stopped folding: a start published again (the control plane never
   * does) must not fold a second row, which the store would not insert over the first, losing the events after it.
   */
  private readonly folded = new Set<string>();

  constructor(private readonly maxFolding: number = MAX_FOLDING) {}

  /** The event folded into its call's row, or undefined when it is not folded (the caller packs it). */
  fold(event: StorableEvent): FoldedEvent | undefined {
    const call = this.folding.get(event.callId);
    if (call === undefined) {
      return event.type === EVENT_TYPES.callStarted && !this.folded.has(event.callId)
        ? this.start(event)
        : undefined;
    }
    const row = call.row;
    // A call is started once: a second start changes nothing (as in the batch plan).
    if (row === undefined || event.type === EVENT_TYPES.callStarted)
      return new FoldedEvent(event.id, 0, call);
    const at = normalizeTimestamp(event.at) ?? new Date().toISOString();
    // The change is worked out, its payloads serialized, before anything of the row changes: a payload that cannot
    // be serialized leaves the row as it was (the event is then packed on its own).
    const patch = applyCallEvent(row, event, at) as Partial<CallRow>;
    let size = 0;
    let payloads: Array<{ field: PayloadField; box: WireBox }> | undefined;
    for (const field of PAYLOAD_FIELDS) {
      const value = patch[field];
      if (value === undefined || value === null || value === SAME_AS_ORIGINAL) continue;
      const box = new WireBox(wirePayloadOf(value));
      patch[field] = box;
      size += box.wire.length;
      (payloads ??= []).push({ field, box });
    }
    const recorded = recordEvent(row, event, at);
    if (recorded === 'duplicate') return new FoldedEvent(event.id, 0, call);
    if (recorded === 'kept') size += EVENT_ENVELOPE_CHARS;
    Object.assign(row, patch);
    if (isTerminalType(event.type)) {
      // Its row is final: taken now, as the text it is written as, so that its objects are collected young. An
      // event after the end (none is expected) is packed on its own and patches the stored row. The end carries
      // the size of the call's events as they are written (policy events can hold kilobytes each).
      const events = call.take()[EVENTS_AT];
      if (typeof events === 'string') size += events.length;
      this.stopFolding(call.id);
    }
    return new FoldedEvent(event.id, size, call, payloads);
  }

  /**
   * The rows a batch writes for the folded events it holds, each call once, in the order of its first event: the
   * row of a call that ended, or as it is now for a call still going (its further events are no longer folded:
   * they patch the stored row), the same row again for a call whose earlier write failed, nothing for a call whose
   * row was written.
   */
  rowsOf(items: Iterable<unknown>, unwritable?: (callId: string, error: unknown) => void): WireCall[] {
    const rows: WireCall[] = [];
    const seen = new Set<FoldingCall>();
    for (const item of items) {
      if (!(item instanceof FoldedEvent)) continue;
      const call = item.call;
      if (call.written || seen.has(call)) continue;
      seen.add(call);
      if (call.row !== undefined) this.stopFolding(call.id);
      try {
        rows.push(call.take());
      } catch (error) {
        // Left out rather than failing, and so holding back, every batch written after (it would fail each time).
        call.written = true;
        unwritable?.(call.id, error);
      }
    }
    return rows;
  }

  /**
   * Marks the rows of a written batch written: a later batch holding more of their folded events skips them, and
   * what they held is let go.
   */
  written(items: Iterable<unknown>): void {
    for (const item of items) {
      if (!(item instanceof FoldedEvent) || item.call.wire === undefined) continue;
      item.call.written = true;
      item.call.wire = WRITTEN;
    }
  }

  /**
   * Lets go of what the publisher gave up (its queue overflowed, or went over its memory budget): a folded event's
   * payloads leave its call's row, unless the row was written already, so that memory is bounded as the publisher
   * counts it; a call still folding whose every event was given up is dropped (nothing could write it any more:
   * its later events are packed on their own and, its start never stored, left out as without folding).
   */
  discard(items: Iterable<unknown>): void {
    for (const item of items) {
      if (!(item instanceof FoldedEvent)) continue;
      const call = item.call;
      call.items--;
      for (const { field, box } of item.payloads) {
        if (call.row !== undefined) {
          if (call.row[field] === box) call.row[field] = null;
        } else if (call.wire !== undefined && !call.written) {
          const at = wireIndex(field);
          if (call.wire[at] === box.wire) call.wire[at] = null;
        }
      }
      if (call.items <= 0 && call.row !== undefined) {
        call.row = undefined;
        call.written = true;
        this.stopFolding(call.id);
      }
    }
  }

  /** Calls folding (for tests and stats). */
  get size(): number {
    return this.folding.size;
  }

  private stopFolding(id: string): void {
    this.folding.delete(id);
    this.folded.add(id);
    if (this.folded.size > MAX_FOLDED_IDS) {
      const oldest = this.folded.values().next();
      if (oldest.done !== true) this.folded.delete(oldest.value);
    }
  }

  private start(event: StorableEvent): FoldedEvent {
    if (this.folding.size >= this.maxFolding) {
      // Only calls whose events were all dropped from the queue can linger: the oldest stops folding (an event of it
      // still queued writes its row all the same; later ones would be packed on their own).
      const oldest = this.folding.keys().next();
      if (oldest.done !== true) this.stopFolding(oldest.value);
    }
    const at = normalizeTimestamp(event.at) ?? new Date().toISOString();
    const call = new FoldingCall(event.callId, callRowFromStarted(event, at));
    this.folding.set(event.callId, call);
    return new FoldedEvent(event.id, EVENT_ENVELOPE_CHARS, call);
  }
}

/**
 * Most calls folding at once. A call's row is taken when it ends or by the next batch written, so only calls going
 * on and with events queued fold; more can only be calls whose queued events were all dropped (a queue overflow).
 */
export const MAX_FOLDING = 10_000;

const EVENTS_AT = wireIndex('events');

/** How many calls that stopped folding the folder remembers (see CallFolder.folded). */
export const MAX_FOLDED_IDS = 100_000;

/** A folded row as its wire values. */
export function wireCallOf(row: NewCall): WireCall {
  const out: WireCall = new Array<WireCall[number]>(WIRE_CALL_FIELDS.length);
  for (let i = 0; i < WIRE_CALL_FIELDS.length; i++) {
    const field = WIRE_CALL_FIELDS[i] as (typeof WIRE_CALL_FIELDS)[number];
    out[i] = field === 'events' ? JSON.stringify(row.events) : wireValueOf(row[field]);
  }
  return out;
}

function wireValueOf(value: unknown): string | number | boolean | WirePayload | null {
  if (value instanceof WireBox) return value.wire;
  if (value === SAME_AS_ORIGINAL) return SAME_AS_ORIGINAL_TEXT;
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  // A payload column folded before it was boxed cannot happen; serialize rather than lose it.
  return JSON.stringify(value);
}
