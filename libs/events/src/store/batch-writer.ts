import type { LoggerService } from '@nestjs/common';
import { In, type EntityManager, type QueryDeepPartialEntity } from 'typeorm';
import { EVENT_TYPES } from '../event-types';
import type { WardenEvent } from '../warden-event';
import { bulkInsert } from './bulk-insert';
import { CallEventEntity } from './call-event.entity';
import {
  addCallToDelta,
  applyCallEvent,
  callEventRow,
  callRowFromStarted,
  isStorableEvent,
  mergeSession,
  normalizeTimestamp,
  SUMMARY_FIELDS,
  type CallEventRow,
  type CallRow,
  type SessionDelta,
  type SessionRow,
} from './call-row.mapper';
import { CallEntity } from './call.entity';
import { SessionEntity } from './session.entity';

/** Ids per `IN (...)` list. */
export const IN_CHUNK = 500;
const CALL_INSERT_CHUNK = 50;
const EVENT_INSERT_CHUNK = 500;
const SESSION_INSERT_CHUNK = 200;

/** An event that belongs to a call (gateway-level events are not stored). */
export type StorableEvent = WardenEvent & { callId: string };

/** The call columns without payloads, aliased `c`. */
export const SUMMARY_COLUMNS = SUMMARY_FIELDS.map((c) => `c.${c}`);

/**
 * The write path of the history on PostgreSQL (SQLite has SqliteBatchWriter, same rules): turns a batch of events
 * into call, session and event rows. Used by the store on its own connection, and by the store writer thread on the
 * writer's connection; it holds no state between batches.
 */
export class BatchWriter {
  constructor(private readonly logger: LoggerService) {}

  /** Applies one batch inside its transaction: new events only, calls created or patched, sessions summed. */
  async apply(em: EntityManager, batch: StorableEvent[]): Promise<void> {
    const known = await this.existingEventIds(
      em,
      batch.map((e) => e.id),
    );
    const fresh = batch.filter((e) => !known.has(e.id));
    if (fresh.length === 0) return;
    // A call's start is applied before its other events, whatever their order in the batch.
    const ordered = [
      ...fresh.filter((e) => e.type === EVENT_TYPES.callStarted),
      ...fresh.filter((e) => e.type !== EVENT_TYPES.callStarted),
    ];
    const existing = await this.lockCalls(em, unique(ordered.map((e) => e.callId)));
    const created = new Map<string, CallRow>();
    const patches = new Map<string, Partial<CallRow>>();
    const sessions = new Map<string, SessionDelta>();
    const eventRows: CallEventRow[] = [];
    const now = new Date().toISOString();
    let skipped = 0;
    for (const event of ordered) {
      const at = normalizeTimestamp(event.at) ?? now;
      if (event.type === EVENT_TYPES.callStarted) {
        if (!existing.has(event.callId) && !created.has(event.callId)) {
          const row = callRowFromStarted(event, at);
          created.set(row.id, row);
          sessions.set(row.sessionId, addCallToDelta(sessions.get(row.sessionId), row));
        }
        eventRows.push(callEventRow(event, at));
        continue;
      }
      const row = created.get(event.callId) ?? existing.get(event.callId);
      if (row === undefined) {
        skipped++; // the call is unknown here: purged already, or its start was never stored
        continue;
      }
      const patch = applyCallEvent(row, event, at);
      if (Object.keys(patch).length > 0) {
        Object.assign(row, patch);
        if (!created.has(row.id)) patches.set(row.id, { ...patches.get(row.id), ...patch });
      }
      eventRows.push(callEventRow(event, at));
    }
    if (skipped > 0) this.logger.debug?.(`skipped ${skipped} events of unknown calls`);
    await this.addToSessions(em, sessions);
    for (const rows of chunks([...created.values()], CALL_INSERT_CHUNK)) {
      await bulkInsert(em, CallEntity, rows, { ignoreConflicts: false });
    }
    for (const [id, patch] of patches) {
      await em
        .createQueryBuilder()
        .update(CallEntity)
        .set(asPatch(patch))
        .where('id = :id', { id })
        .updateEntity(false)
        .execute();
    }
    for (const rows of chunks(eventRows, EVENT_INSERT_CHUNK)) {
      await bulkInsert(em, CallEventEntity, rows, { ignoreConflicts: true });
    }
  }

  private async existingEventIds(em: EntityManager, ids: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const part of chunks(ids, IN_CHUNK)) {
      const rows = await em
        .getRepository(CallEventEntity)
        .find({ select: { id: true }, where: { id: In(part) } });
      for (const row of rows) found.add(row.id);
    }
    return found;
  }

  /** The calls a batch touches, without their payloads; locked until commit on PostgreSQL (ids sorted). */
  private async lockCalls(em: EntityManager, ids: string[]): Promise<Map<string, CallRow>> {
    const calls = new Map<string, CallRow>();
    for (const part of chunks([...ids].sort(), IN_CHUNK)) {
      const qb = em
        .getRepository(CallEntity)
        .createQueryBuilder('c')
        .select(SUMMARY_COLUMNS)
        .where('c.id IN (:...ids)', { ids: part })
        .orderBy('c.id');
      if (isPostgres(em)) qb.setLock('pessimistic_write');
      for (const row of await qb.getMany()) calls.set(row.id, row);
    }
    return calls;
  }

  /**
   * Adds the calls started in a batch to their sessions: a missing session is inserted (ON CONFLICT DO NOTHING,
   * so replicas can race), then every touched session is locked, merged and updated.
   */
  private async addToSessions(em: EntityManager, deltas: Map<string, SessionDelta>): Promise<void> {
    if (deltas.size === 0) return;
    const postgres = isPostgres(em);
    const existing = await this.lockSessions(em, [...deltas.keys()]);
    // Sessions new in this batch are inserted with their final values: one statement for all of them. On PostgreSQL
    // another replica may insert the same session meanwhile: those rows come back as conflicts and are merged below.
    const fresh: SessionRow[] = [];
    for (const [id, delta] of deltas) {
      if (!existing.has(id))
        fresh.push(
          mergeSession({ id, firstAt: delta.firstAt, lastAt: delta.lastAt, callCount: 0, models: [] }, delta),
        );
    }
    const conflicted: string[] = [];
    for (const rows of chunks(fresh, SESSION_INSERT_CHUNK)) {
      const insert = em
        .createQueryBuilder()
        .insert()
        .into(SessionEntity)
        .values(rows)
        .orIgnore()
        .updateEntity(false);
      if (!postgres) {
        await insert.execute();
        continue;
      }
      const result = await insert.returning(['id']).execute();
      const inserted = new Set((result.raw as Array<{ id: string }>).map((r) => r.id));
      for (const row of rows) if (!inserted.has(row.id)) conflicted.push(row.id);
    }
    if (conflicted.length > 0)
      for (const [id, row] of await this.lockSessions(em, conflicted)) existing.set(id, row);
    for (const [id, row] of existing) {
      const delta = deltas.get(id);
      if (delta === undefined) continue;
      const merged = mergeSession(row, delta);
      await em
        .createQueryBuilder()
        .update(SessionEntity)
        .set({
          firstAt: merged.firstAt,
          lastAt: merged.lastAt,
          callCount: merged.callCount,
          models: merged.models,
        })
        .where('id = :id', { id })
        .updateEntity(false)
        .execute();
    }
  }

  /** The sessions among `ids` that exist, locked until commit on PostgreSQL (ids sorted). */
  private async lockSessions(em: EntityManager, ids: string[]): Promise<Map<string, SessionRow>> {
    const found = new Map<string, SessionRow>();
    for (const part of chunks([...ids].sort(), IN_CHUNK)) {
      const qb = em
        .getRepository(SessionEntity)
        .createQueryBuilder('s')
        .where('s.id IN (:...ids)', { ids: part })
        .orderBy('s.id');
      if (isPostgres(em)) qb.setLock('pessimistic_write');
      for (const row of await qb.getMany()) found.set(row.id, row);
    }
    return found;
  }
}

/** The events of a batch that belong to a call, each id once. */
export function uniqueStorable(events: readonly WardenEvent[]): StorableEvent[] {
  const seen = new Set<string>();
  const out: StorableEvent[] = [];
  for (const event of events) {
    if (!isStorableEvent(event) || seen.has(event.id)) continue;
    seen.add(event.id);
    out.push(event);
  }
  return out;
}

/** True on a PostgreSQL connection. */
export function isPostgres(em: EntityManager): boolean {
  return em.connection.options.type === 'postgres';
}

/** `values` without repeats, in first-seen order. */
export function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** `items` in slices of at most `size`. */
export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function asPatch<E>(patch: object): QueryDeepPartialEntity<E> {
  return patch;
}
