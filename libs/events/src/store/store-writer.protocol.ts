import { jsonSourceOf } from '@warden/llm';
import { PackedEvent } from '../conversation-store.port';
import type { EventsConfig } from '../events.config';
import {
  addCallToDelta,
  type CallRow,
  EVENT_PAYLOAD_FIELDS,
  STORED_IN_CALL,
  PAYLOAD_FIELDS,
  type SessionDelta,
  type StorableEvent,
  SUMMARY_FIELDS,
} from './call-row.mapper';

/** What the writer thread is started with. */
export interface WriterInit {
  cfg: EventsConfig;
}

/**
 * One batch to write (in one transaction). `events` is the events as JSON text, each payload (a request or a
 * response) replaced by its index among the event's own payloads, which follow those of the events before it in
 * `payloads`: the writer parses the small envelopes only and stores the payload texts as they are, where parsing and
 * serializing them again was a third of its work. Posting strings costs the main thread a copy; posting the objects
 * would cost a structured clone of every payload, several times slower.
 */
export interface WriteRequest {
  id: number;
  /** Whole rows of calls folded on the main thread (see CallFolder), inserted before the events are applied. */
  calls: WireCall[];
  events: string;
  payloads: WirePayload[];
}

/**
 * A payload on its way to the writer: its JSON text, or, for a large payload parsed from bytes the gateway received
 * (a request: agents resend their whole conversation, hundreds of kilobytes), those bytes, which the writer parses
 * and serializes again, so that the event loop neither walks the payload nor holds its text.
 */
export type WirePayload = string | Uint8Array;

/**
 * Payloads whose received bytes are at least this long travel as bytes; shorter ones are serialized on the main
 * thread, which costs less than copying their bytes and parsing them on the writer.
 */
export const MIN_BYTES_PAYLOAD = 16 * 1024;

/**
 * The columns of a folded call, in the order a {@link WireCall} holds their values: every column of `calls`.
 * JSON columns travel as their text (or, for a large request, the bytes it was parsed from: see
 * {@link WirePayload}); `stream` as a boolean.
 */
export const WIRE_CALL_FIELDS = [
  ...SUMMARY_FIELDS,
  ...PAYLOAD_FIELDS,
  'events',
] as const satisfies readonly (keyof CallRow)[];

/** A whole `calls` row as its values, in {@link WIRE_CALL_FIELDS} order: what a folded call is written as. */
export type WireCall = Array<string | number | boolean | WirePayload | null>;

/** Index of a field in a {@link WireCall}. */
export function wireIndex(field: (typeof WIRE_CALL_FIELDS)[number]): number {
  return WIRE_CALL_FIELDS.indexOf(field);
}

/** An event as it travels: its payload fields as indexes into its own payloads. */
interface WireEvent extends StorableEvent {
  payloadRefs?: Record<string, number>;
  payloadText?: Record<string, string>;
}

/**
 * An event serialized for the writer thread, as soon as it is published (ConversationStore.pack): the queue then
 * holds two strings instead of the event's objects, which garbage collections would otherwise trace and move until
 * the batch is written (with requests of hundreds of kilobytes, most of the cost of keeping a history).
 */
export class PackedStoreEvent extends PackedEvent {
  readonly size: number;

  constructor(
    readonly id: string,
    /** The event as JSON, its payloads replaced (see {@link WriteRequest}). */
    readonly envelope: string,
    /** Its payloads, in the order of its references. */
    readonly payloads: readonly WirePayload[],
  ) {
    super();
    let size = envelope.length;
    for (const payload of payloads) size += payload.length;
    this.size = size;
  }
}

/** `event` serialized for the writer thread (the event is not changed). */
export function packEvent(event: StorableEvent): PackedStoreEvent {
  const fields = EVENT_PAYLOAD_FIELDS[event.type];
  if (fields === undefined) return new PackedStoreEvent(event.id, JSON.stringify(event), []);
  const payloads: WirePayload[] = [];
  let data: Record<string, unknown> | undefined;
  let refs: Record<string, number> | undefined;
  for (const field of fields) {
    const value = event.data[field];
    if (value === undefined || value === null) continue;
    data ??= { ...event.data };
    refs ??= {};
    data[field] = STORED_IN_CALL;
    refs[field] = payloads.length;
    payloads.push(wirePayloadOf(value));
  }
  if (data === undefined || refs === undefined)
    return new PackedStoreEvent(event.id, JSON.stringify(event), []);
  const travelling: WireEvent = {
    id: event.id,
    callId: event.callId,
    ...(event.sessionId === undefined ? {} : { sessionId: event.sessionId }),
    type: event.type,
    at: event.at,
    instance: event.instance,
    data: data,
    payloadRefs: refs,
  };
  return new PackedStoreEvent(event.id, JSON.stringify(travelling), payloads);
}

/**
 * A payload for the writer: the text it was serialized to already (a request converted for the upstream), the large
 * bytes it was parsed from, else its JSON text. Each gives the writer the text `JSON.stringify(value)`.
 */
export function wirePayloadOf(value: unknown): WirePayload {
  const source = jsonSourceOf(value);
  if (source?.kind === 'text') return source.text;
  if (source?.kind === 'bytes' && source.bytes.byteLength >= MIN_BYTES_PAYLOAD)
    return wholeBuffer(source.bytes);
  return JSON.stringify(value);
}

/**
 * `bytes` when they are the whole of their buffer (the message to the writer copies them), else a copy of them
 * alone: a message would copy the whole of a larger buffer they are a view into.
 */
function wholeBuffer(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes
    : new Uint8Array(bytes);
}

/** The JSON text of a payload as it arrived (see {@link WirePayload}). */
export function payloadTextOf(payload: WirePayload): string {
  if (typeof payload === 'string') return payload;
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
  return JSON.stringify(JSON.parse(text));
}

/** The `events` and `payloads` of a {@link WriteRequest} for packed events. */
export function batchOf(packed: readonly PackedStoreEvent[]): Pick<WriteRequest, 'events' | 'payloads'> {
  const envelopes = new Array<string>(packed.length);
  const payloads: WirePayload[] = [];
  for (let i = 0; i < packed.length; i++) {
    const event = packed[i] as PackedStoreEvent;
    envelopes[i] = event.envelope;
    for (const payload of event.payloads) payloads.push(payload);
  }
  return { events: `[${envelopes.join(',')}]`, payloads };
}

/**
 * Most characters of packed text (envelopes and payloads) in one message to the writer thread (and one transaction):
 * the publisher's batches are bounded already (EVENT_BATCH_MAX_BYTES, 8 MiB by default); a larger bound there still
 * never copies more than this between threads at once.
 */
export const MAX_MESSAGE_CHARS = 8 * 1024 * 1024;

/** `units` in consecutive parts of at most `maxChars` of text each (a unit larger alone is a part). */
export function partsOf<T>(
  units: readonly T[],
  sizeOf: (unit: T) => number,
  maxChars: number = MAX_MESSAGE_CHARS,
): T[][] {
  const parts: T[][] = [];
  let part: T[] = [];
  let chars = 0;
  for (const unit of units) {
    const size = sizeOf(unit);
    if (part.length > 0 && chars + size > maxChars) {
      parts.push(part);
      part = [];
      chars = 0;
    }
    part.push(unit);
    chars += size;
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

/** What one message to the writer thread carries: rows of folded calls, then packed events. */
export interface WriteMessage {
  calls: WireCall[];
  events: PackedStoreEvent[];
}

/**
 * A batch as messages of at most `maxChars` of text each, in order: the rows first (an event may belong to one of
 * them: its row must be stored before the event is applied), then the events.
 */
export function messagesOf(
  calls: readonly WireCall[],
  events: readonly PackedStoreEvent[],
  maxChars: number = MAX_MESSAGE_CHARS,
): WriteMessage[] {
  const units: Array<WireCall | PackedStoreEvent> = [...calls, ...events];
  return partsOf(units, unitSize, maxChars).map((part) => ({
    calls: part.filter((u): u is WireCall => Array.isArray(u)),
    events: part.filter((u): u is PackedStoreEvent => u instanceof PackedStoreEvent),
  }));
}

function unitSize(unit: WireCall | PackedStoreEvent): number {
  return Array.isArray(unit) ? wireCallSize(unit) : unit.size;
}

/** The text a row holds (characters, bytes of a payload as bytes). */
export function wireCallSize(call: WireCall): number {
  let size = 0;
  for (const value of call)
    if (typeof value === 'string' || value instanceof Uint8Array) size += value.length;
  return size;
}

/** A folded call's values as the database stores them, in {@link WIRE_CALL_FIELDS} order. */
export type StoredCallValues = Array<string | number | boolean | null>;

/**
 * A folded call's values as the database stores them: its JSON columns as text (a payload that travelled as bytes
 * parsed and serialized again, see {@link WirePayload}). Throws on a row of the wrong shape.
 */
export function storedValuesOf(call: WireCall): StoredCallValues {
  if (call.length !== WIRE_CALL_FIELDS.length)
    throw new Error(
      `malformed write request: a call of ${call.length} values, not ${WIRE_CALL_FIELDS.length}`,
    );
  const out: StoredCallValues = new Array<string | number | boolean | null>(call.length);
  for (let i = 0; i < call.length; i++) {
    const value = call[i] as WireCall[number];
    out[i] = value instanceof Uint8Array ? payloadTextOf(value) : value;
  }
  return out;
}

/** The `events` and `payloads` of a {@link WriteRequest} for `events`. */
export function encodeBatch(events: readonly StorableEvent[]): Pick<WriteRequest, 'events' | 'payloads'> {
  return batchOf(events.map(packEvent));
}

/** The events of a {@link WriteRequest}, payloads as `payloadText`. */
export function decodeBatch(request: Pick<WriteRequest, 'events' | 'payloads'>): StorableEvent[] {
  const events = JSON.parse(request.events) as WireEvent[];
  let base = 0;
  for (const event of events) {
    const refs = event.payloadRefs;
    if (refs === undefined) continue;
    const payloadText: Record<string, string> = {};
    let count = 0;
    for (const field in refs) {
      const payload = request.payloads[base + (refs[field] as number)];
      if (payload === undefined)
        throw new Error(`malformed write request: event ${event.id} lacks its ${field}`);
      payloadText[field] = payloadTextOf(payload);
      count++;
    }
    base += count;
    event.payloadText = payloadText;
  }
  if (base !== request.payloads.length)
    throw new Error(`malformed write request: ${request.payloads.length} payloads, ${base} referenced`);
  return events;
}

/** The outcome of a batch; `unavailable` when the database could not be reached. */
export type WriteReply =
  { id: number; ok: true } | { id: number; ok: false; message: string; unavailable: boolean };

const SESSION_AT = wireIndex('sessionId');
const STARTED_AT = wireIndex('startedAt');
const MODEL_AT = wireIndex('model');

/** Adds a folded call the writer inserted to its session's delta. */
export function addFoldedToDeltas(deltas: Map<string, SessionDelta>, values: StoredCallValues): void {
  const session = String(values[SESSION_AT]);
  const call = { startedAt: String(values[STARTED_AT]), model: String(values[MODEL_AT]) };
  deltas.set(session, addCallToDelta(deltas.get(session), call));
}
