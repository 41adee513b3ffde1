import type { JsonObject } from '@warden/llm';

/** One thing that happened on a call (DESIGN.md §5): the live view shows it, the history keeps it. */
export interface WardenEvent {
  readonly id: string;
  /** The call it belongs to; null for gateway-level events (a policy chain swap). */
  readonly callId: string | null;
  readonly sessionId?: string;
  /** `call.started`, `call.completed`, `call.failed`, `policy.<name>.<action>`, ... */
  readonly type: string;
  /** ISO timestamp. */
  readonly at: string;
  /** The replica that produced it. */
  readonly instance: string;
  readonly data: JsonObject;
}
