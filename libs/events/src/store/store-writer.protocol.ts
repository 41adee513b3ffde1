import type { EventsConfig } from '../events.config';
import type { StorableEvent } from './batch-writer';

/** What the writer thread is started with. */
export interface WriterInit {
  cfg: EventsConfig;
}

/** One batch to write. */
export interface WriteRequest {
  id: number;
  events: StorableEvent[];
}

/** The outcome of a batch; `unavailable` when the database could not be reached. */
export type WriteReply =
  { id: number; ok: true } | { id: number; ok: false; message: string; unavailable: boolean };
