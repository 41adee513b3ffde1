import type { EventsConfig } from '../events.config';
import type { StorableEvent } from './batch-writer';

/** What the writer thread is started with. */
export interface WriterInit {
  cfg: EventsConfig;
}

/**
 * Part of one batch to write: some of its events as JSON text; the batch is written (in one transaction) when its
 * `last` part arrives. Posting strings costs the main thread a native `JSON.stringify` and a copy; posting the
 * objects would cost a structured clone of every payload, several times slower (the events are plain JSON already:
 * redacted, see redact-event). A batch is sent in parts so that encoding it never holds the event loop long.
 */
export interface WriteRequest {
  id: number;
  events: string;
  last: boolean;
}

/** Most events encoded in one go on the main thread (about 0.1 ms of `JSON.stringify` for small calls). */
export const EVENTS_PER_PART = 100;

/** The JSON text of a batch, as {@link WriteRequest} carries it. */
export function encodeBatch(events: StorableEvent[]): string {
  return JSON.stringify(events);
}

/** The events of a {@link WriteRequest}. */
export function decodeBatch(text: string): StorableEvent[] {
  return JSON.parse(text) as StorableEvent[];
}

/** The outcome of a batch; `unavailable` when the database could not be reached. */
export type WriteReply =
  { id: number; ok: true } | { id: number; ok: false; message: string; unavailable: boolean };
