import { EVENT_TYPES } from '../event-types';
import {
  addCallToDelta,
  applyCallEvent,
  callRowFromStarted,
  normalizeTimestamp,
  recordEvent,
  type CallRow,
  type CallState,
  type NewCall,
  type SessionDelta,
  type StorableEvent,
} from './call-row.mapper';

/** What one batch of events does to the history: the writers (SQLite, PostgreSQL) only carry it out. */
export interface BatchPlan {
  /** Calls started in the batch, with their final values (events included): inserted. */
  created: Map<string, NewCall>;
  /** Stored calls the batch changes: the columns to update (`events` among them). */
  patches: Map<string, Partial<CallRow>>;
  /** What the created calls add to their sessions. */
  sessions: Map<string, SessionDelta>;
  /** Events of calls that are not stored (purged already, or whose start never was): left out. */
  skipped: number;
}

/**
 * Plans a batch (see store/README.md): a call's start is applied before its other events whatever their order; a
 * start creates its call and adds it to its session; every other event is added to its call's timeline and patches
 * its columns per EVENT_CONTRACT; an event the call has already (a re-delivery) changes nothing, nor does the start
 * of a stored call. `stored` looks a call up (without payloads; undefined when there is none); each call is looked
 * up at most once, and the rows it returns are the plan's to change.
 */
export function planBatch(
  batch: readonly StorableEvent[],
  stored: (id: string) => CallState | undefined,
  now: string = new Date().toISOString(),
): BatchPlan {
  const plan: BatchPlan = { created: new Map(), patches: new Map(), sessions: new Map(), skipped: 0 };
  const looked = new Map<string, CallState | null>();
  const find = (id: string): CallState | undefined => {
    const made = plan.created.get(id);
    if (made !== undefined) return made;
    let row = looked.get(id);
    if (row === undefined) {
      row = stored(id) ?? null;
      looked.set(id, row);
    }
    return row ?? undefined;
  };
  for (const event of batch) {
    if (event.type !== EVENT_TYPES.callStarted || find(event.callId) !== undefined) continue;
    const row = callRowFromStarted(event, normalizeTimestamp(event.at) ?? now);
    plan.created.set(row.id, row);
    plan.sessions.set(row.sessionId, addCallToDelta(plan.sessions.get(row.sessionId), row));
  }
  for (const event of batch) {
    if (event.type === EVENT_TYPES.callStarted) continue;
    const row = find(event.callId);
    if (row === undefined) {
      plan.skipped++;
      continue;
    }
    const at = normalizeTimestamp(event.at) ?? now;
    const recorded = recordEvent(row, event, at);
    if (recorded === 'duplicate') continue;
    const patch: Partial<CallRow> = applyCallEvent(row, event, at);
    Object.assign(row, patch);
    if (plan.created.has(row.id)) continue;
    // A stored call is updated only with what changed: its events when one was kept, its columns when they moved.
    if (recorded === 'kept') patch.events = row.events;
    if (Object.keys(patch).length === 0) continue;
    const pending = plan.patches.get(row.id);
    if (pending === undefined) plan.patches.set(row.id, patch);
    else Object.assign(pending, patch);
  }
  return plan;
}
