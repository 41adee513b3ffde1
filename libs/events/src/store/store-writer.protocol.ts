import type { EventsConfig } from '../events.config';
import { EVENT_PAYLOAD_FIELDS, STORED_IN_CALL, type StorableEvent } from './call-row.mapper';

/** What the writer thread is started with. */
export interface WriterInit {
  cfg: EventsConfig;
}

/**
 * One batch to write (in one transaction). `events` is the events as JSON text, each payload
 * (a request or a response) replaced by its index in `payloads`, which holds the payloads' own JSON text: the writer
 * parses the small envelopes only and stores the payload texts as they are, where parsing and serializing them again
 * was a third of its work. Posting strings costs the main thread a native `JSON.stringify` and a copy; posting the
 * objects would cost a structured clone of every payload, several times slower (the events are plain JSON already:
 * redacted, see redact-event).
 */
export interface WriteRequest {
  id: number;
  events: string;
  payloads: string[];
}

/** An event as it travels: its payload fields as indexes into {@link WriteRequest.payloads}. */
interface WireEvent extends StorableEvent {
  payloadRefs?: Record<string, number>;
  payloadText?: Record<string, string>;
}

/** The `events` and `payloads` of a {@link WriteRequest} for `events`. */
export function encodeBatch(events: readonly StorableEvent[]): Pick<WriteRequest, 'events' | 'payloads'> {
  const payloads: string[] = [];
  const wire: StorableEvent[] = new Array<StorableEvent>(events.length);
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as StorableEvent;
    wire[i] = event;
    const fields = EVENT_PAYLOAD_FIELDS[event.type];
    if (fields === undefined) continue;
    let data: Record<string, unknown> | undefined;
    let refs: Record<string, number> | undefined;
    for (const field of fields) {
      const value = event.data[field];
      if (value === undefined || value === null) continue;
      data ??= { ...event.data };
      refs ??= {};
      data[field] = STORED_IN_CALL;
      refs[field] = payloads.length;
      payloads.push(JSON.stringify(value));
    }
    if (data !== undefined && refs !== undefined) {
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
      wire[i] = travelling;
    }
  }
  return { events: JSON.stringify(wire), payloads };
}

/** The events of a {@link WriteRequest}, payloads as `payloadText`. */
export function decodeBatch(request: Pick<WriteRequest, 'events' | 'payloads'>): StorableEvent[] {
  const events = JSON.parse(request.events) as WireEvent[];
  for (const event of events) {
    const refs = event.payloadRefs;
    if (refs === undefined) continue;
    const payloadText: Record<string, string> = {};
    for (const field in refs) {
      const text = request.payloads[refs[field] as number];
      if (text !== undefined) payloadText[field] = text;
    }
    event.payloadText = payloadText;
  }
  return events;
}

/** The outcome of a batch; `unavailable` when the database could not be reached. */
export type WriteReply =
  { id: number; ok: true } | { id: number; ok: false; message: string; unavailable: boolean };
