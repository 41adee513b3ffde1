import type { EventsConfig } from '../events.config';
import type { StorableEvent } from './batch-writer';

/** What the writer thread is started with. */
export interface WriterInit {
  cfg: EventsConfig;
}

/**
 * One batch to write: the events as JSON text. Posting one string costs the main thread a native
 * `JSON.stringify` and a copy; posting the objects would cost a structured clone of every payload, several times
 * slower (the events are plain JSON already: redacted, see redact-event).
 */
export interface WriteRequest {
  id: number;
  events: string;
}

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
