import type { WardenEvent } from './warden-event';

/** Lifecycle of a recorded call. */
export type CallStatus = 'in_progress' | 'completed' | 'failed' | 'aborted';

/**
 * One call as the history keeps it. Built by the store from the call's events (see EVENT_CONTRACT in
 * event-types.ts): `call.started` creates it, `request.*`, `response.*`, `policy.*` and `call.completed|failed`
 * fill it in.
 */
export interface CallRecord {
  id: string;
  sessionId: string;
  keyId: string | null;
  clientFormat: string;
  upstreamFormat: string | null;
  provider: string | null;
  model: string;
  stream: boolean;
  status: CallStatus;
  httpStatus: number | null;
  startedAt: string;
  completedAt: string | null;
  firstTokenMs: number | null;
  durationMs: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  error: string | null;
  /** Policy decisions seen on the call, as `<policy>.<action>` (e.g. `tool-call-judge.blocked`). */
  policyActions: string[];
  originalRequest: unknown;
  finalRequest: unknown;
  originalResponse: unknown;
  finalResponse: unknown;
}

/** A call in a list: the record without its (large) payloads. */
export type CallSummary = Omit<
  CallRecord,
  'originalRequest' | 'finalRequest' | 'originalResponse' | 'finalResponse'
>;

/** Filters of `GET /api/calls`. */
export interface CallFilter {
  sessionId?: string;
  model?: string;
  status?: CallStatus;
  /** `<policy>.<action>` or just `<action>` (e.g. `blocked`). */
  policyAction?: string;
  from?: string;
  to?: string;
  /** Case-insensitive text search in the requests and responses. */
  q?: string;
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

/** A session: calls grouped by `x-claude-code-session-id` / `x-session-id` (else a call is its own session). */
export interface SessionSummary {
  id: string;
  firstAt: string;
  lastAt: string;
  callCount: number;
  models: string[];
}

/** One page of a cursor-paginated list (newest first). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** An event as a store packed it for a later write (see {@link ConversationStore.pack}): only that store reads it. */
export abstract class PackedEvent {
  /** The event's id. */
  abstract readonly id: string;
  /**
   * How much text the packed form holds (characters, or bytes of a payload packed as bytes): what the publisher
   * counts against its memory budgets (EVENT_BATCH_MAX_BYTES, EVENT_QUEUE_MAX_BYTES). An agent's request can be
   * hundreds of kilobytes.
   */
  abstract readonly size: number;
  /** Makes the type nominal: an event, which has an `id` too, is not a packed event. */
  protected readonly packed = true;
}

/** What {@link ConversationStore.writeEvents} takes: events as published, or as the store packed them. */
export type StoreItem = WardenEvent | PackedEvent;

/**
 * The conversation history (a port; the TypeORM adapter serves SQLite and PostgreSQL). Writes come in batches from
 * the event publisher, off the hot path; reads serve the admin API and the UI.
 */
export abstract class ConversationStore {
  /** False when history is switched off (HISTORY_ENABLED=false): writes are not sent, reads are refused. */
  readonly enabled: boolean = true;

  /**
   * The form in which an event (redacted already) waits for its write: the publisher calls it once per event, on
   * the turn of the event loop after it was published. A store that serializes events for writing does it here,
   * so that what an event holds (a parsed request of hundreds of kilobytes) is collected with its call instead of
   * waiting in the queue, through garbage collections, for its batch. By default the event itself.
   */
  pack(event: WardenEvent): StoreItem {
    return event;
  }

  /**
   * Items the publisher gave up without writing them (its queue overflowed or went over its memory budget, or a
   * failed batch no longer fitted back): a store that keeps state for them lets it go. By default nothing.
   */
  discard(_items: readonly StoreItem[]): void {
    // Nothing is kept for an item but the item.
  }

  /**
   * Applies a batch of events (idempotent per event id): creates/updates calls and sessions, appends events. Takes
   * events as published and as {@link pack} returned them, in any mix.
   */
  abstract writeEvents(events: readonly StoreItem[]): Promise<void>;
  abstract listCalls(filter: CallFilter): Promise<Page<CallSummary>>;
  abstract getCall(id: string): Promise<{ call: CallRecord; events: WardenEvent[] } | undefined>;
  abstract listSessions(filter: {
    limit: number;
    cursor?: string;
    q?: string;
  }): Promise<Page<SessionSummary>>;
  abstract getSession(id: string): Promise<{ session: SessionSummary; calls: CallRecord[] } | undefined>;
  /** Deletes calls (and their events, and sessions left empty) that started before `before`; returns how many. */
  abstract purgeOlderThan(before: Date): Promise<number>;
  /** Throws when the database cannot be reached (health). */
  abstract ping(): Promise<void>;
}
