import type { LoggerService } from '@nestjs/common';
import type { EntityManager, QueryDeepPartialEntity } from 'typeorm';
import { planBatch } from './batch-plan';
import { bulkInsert } from './bulk-insert';
import {
  mergeSession,
  PAYLOAD_FIELDS,
  STATE_FIELDS,
  SUMMARY_FIELDS,
  type CallState,
  type SessionDelta,
  type SessionRow,
  type StorableEvent,
  storedEventsOf,
} from './call-row.mapper';
import { CallEntity } from './call.entity';
import { JsonText } from './json.transformer';
import { SessionEntity } from './session.entity';
import {
  addFoldedToDeltas,
  type StoredCallValues,
  WIRE_CALL_FIELDS,
  wireIndex,
} from './store-writer.protocol';

export type { StorableEvent } from './call-row.mapper';

/** Ids per `IN (...)` list. */
export const IN_CHUNK = 500;
const CALL_INSERT_CHUNK = 50;
const SESSION_INSERT_CHUNK = 200;
/** Folded calls per INSERT (23 parameters each, well under PostgreSQL's 65,535). */
const FOLDED_INSERT_CHUNK = 100;
const ID_AT = wireIndex('id');
/** The columns stored as JSON text (through `jsonTransformer`). */
const JSON_FIELDS: ReadonlySet<string> = new Set<string>([...PAYLOAD_FIELDS, 'events']);

/** The call columns without payloads, aliased `c`. */
export const SUMMARY_COLUMNS = SUMMARY_FIELDS.map((c) => `c.${c}`);
/** The call columns the write path reads back (summary and events), aliased `c`. */
const STATE_COLUMNS = STATE_FIELDS.map((c) => `c.${c}`);

/**
 * The write path of the history on PostgreSQL (SQLite has SqliteBatchWriter, same rules): carries out the
 * {@link planBatch} of a batch, the calls it touches locked first. Used by the store on its own connection, and by
 * the store writer thread on the writer's connection; it holds no state between batches.
 */
export class BatchWriter {
  constructor(private readonly logger: LoggerService) {}

  /**
   * Applies one batch inside its transaction: the rows of the calls folded whole first (see CallFolder), then the
   * events: calls created or patched, sessions summed.
   */
  async apply(
    em: EntityManager,
    batch: StorableEvent[],
    folded: readonly StoredCallValues[] = [],
  ): Promise<void> {
    const inserted = await this.insertFolded(em, folded);
    const existing = await this.lockCalls(em, unique(batch.map((e) => e.callId)));
    const plan = planBatch(batch, (id) => existing.get(id));
    if (plan.skipped > 0) this.logger.debug?.(`skipped ${plan.skipped} events of unknown calls`);
    for (const values of inserted) addFoldedToDeltas(plan.sessions, values);
    await this.addToSessions(em, plan.sessions);
    for (const rows of chunks([...plan.created.values()], CALL_INSERT_CHUNK)) {
      await bulkInsert(em, CallEntity, rows);
    }
    for (const [id, patch] of plan.patches) {
      await em
        .createQueryBuilder()
        .update(CallEntity)
        .set(asPatch(patch))
        .where('id = :id', { id })
        .updateEntity(false)
        .execute();
    }
  }

  /** Inserts the rows of folded calls, each unless its call is stored already (a batch written again); returns those inserted. */
  private async insertFolded(
    em: EntityManager,
    folded: readonly StoredCallValues[],
  ): Promise<StoredCallValues[]> {
    const byId = new Map(folded.map((values) => [String(values[ID_AT]), values]));
    const inserted: StoredCallValues[] = [];
    for (const rows of chunks([...folded], FOLDED_INSERT_CHUNK)) {
      const ids = await bulkInsert(em, CallEntity, rows.map(foldedRow), { skipConflicts: true });
      for (const id of ids) {
        const values = byId.get(String(id));
        if (values !== undefined) inserted.push(values);
      }
    }
    return inserted;
  }

  /** The calls a batch touches, without their payloads; locked until commit on PostgreSQL (ids sorted). */
  private async lockCalls(em: EntityManager, ids: string[]): Promise<Map<string, CallState>> {
    const calls = new Map<string, CallState>();
    for (const part of chunks([...ids].sort(), IN_CHUNK)) {
      const qb = em
        .getRepository(CallEntity)
        .createQueryBuilder('c')
        .select(STATE_COLUMNS)
        .where('c.id IN (:...ids)', { ids: part })
        .orderBy('c.id');
      if (isPostgres(em)) qb.setLock('pessimistic_write');
      for (const row of await qb.getMany()) calls.set(row.id, { ...row, events: storedEventsOf(row.events) });
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
    // In id order, locked and inserted alike: two replicas adding the same new sessions wait, never deadlock.
    const ids = [...deltas.keys()].sort();
    const existing = await this.lockSessions(em, ids);
    // Sessions new in this batch are inserted with their final values: one statement for all of them. On PostgreSQL
    // another replica may insert the same session meanwhile: those rows come back as conflicts and are merged below.
    const fresh: SessionRow[] = [];
    for (const id of ids) {
      const delta = deltas.get(id);
      if (delta !== undefined && !existing.has(id))
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

/** A folded call's values as a row for {@link bulkInsert}: its JSON columns as the text they are already. */
function foldedRow(values: StoredCallValues): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  WIRE_CALL_FIELDS.forEach((field, i) => {
    const value = values[i];
    row[field] = JSON_FIELDS.has(field) && typeof value === 'string' ? new JsonText(value) : value;
  });
  return row;
}

function asPatch<E>(patch: object): QueryDeepPartialEntity<E> {
  return patch;
}
