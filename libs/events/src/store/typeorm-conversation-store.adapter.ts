import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { isConnectionError } from './connection-errors';
import { StoreWriterThread } from './store-writer-thread';
import { BatchWriter, chunks, IN_CHUNK, SUMMARY_COLUMNS, unique, type StorableEvent } from './batch-writer';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  Brackets,
  type DataSource,
  type EntityManager,
  type FindOptionsSelect,
  In,
  type SelectQueryBuilder,
} from 'typeorm';
import {
  type CallFilter,
  type CallRecord,
  type CallSummary,
  ConversationStore,
  PackedEvent,
  type Page,
  type SessionSummary,
  type StoreItem,
} from '../conversation-store.port';
import { eventsConfig, type EventsConfig } from '../events.config';
import type { WardenEvent } from '../warden-event';
import {
  isStorableEvent,
  normalizeTimestamp,
  PAYLOAD_FIELDS,
  SUMMARY_FIELDS,
  toCallRecord,
  toCallSummary,
  toSessionSummary,
  toWardenEvents,
} from './call-row.mapper';
import { CallEntity } from './call.entity';
import { decodeCursor, encodeCursor, type CursorPosition } from './cursor.codec';
import { InvalidQueryError } from './invalid-query.error';
import { SessionEntity } from './session.entity';
import { rawSqlite, SqliteBatchWriter, type SqliteDatabase } from './sqlite-batch-writer';
import { DEFAULT_STORE_TIMINGS, StoreConnection, type StoreTimings } from './store-connection';
import { describeDatabase } from './store-options';
import {
  batchOf,
  decodeBatch,
  messagesOf,
  packEvent,
  PackedStoreEvent,
  storedValuesOf,
  type StoredCallValues,
} from './store-writer.protocol';
import { CallFolder } from './call-folder';
import { StoreUnavailableError } from './store-unavailable.error';
import { containsPattern, LIKE_ESCAPE, policyActionPattern } from './text-search';

/** Optional injection token: shorter connection timings (tests). */
export const STORE_TIMINGS = Symbol('STORE_TIMINGS');

/** Largest page a list returns, whatever the caller asks. */
export const MAX_PAGE_SIZE = 500;
/** Most calls `getSession` returns (the oldest ones): a bound on memory for sessions of thousands of calls. */
export const MAX_SESSION_CALLS = 1_000;
/** Calls deleted per purge transaction. */
export const PURGE_CHUNK = 500;

/** Rows per multi-row statement, well under both drivers' bound-parameter limits. */

/** A call's columns but its events: what a session's calls are read with. */
const RECORD_SELECT = Object.fromEntries(
  [...SUMMARY_FIELDS, ...PAYLOAD_FIELDS].map((field) => [field, true]),
) as FindOptionsSelect<CallEntity>;

const PAYLOAD_SEARCH = PAYLOAD_FIELDS.map((c) => `LOWER(c.${c}) LIKE :q ESCAPE '${LIKE_ESCAPE}'`);

/**
 * The conversation history on TypeORM (SQLite or PostgreSQL; see store/README.md). Writes apply one batch of
 * events per transaction and are idempotent per event id; reads are cursor-paginated, newest first. The database
 * may be down: `ping` and `writeEvents` then reject with StoreUnavailableError (reads with the driver's error),
 * and the connection is retried in the background. Malformed cursors and dates reject with InvalidQueryError.
 */
@Injectable()
export class TypeOrmConversationStore
  extends ConversationStore
  implements OnModuleInit, BeforeApplicationShutdown
{
  private readonly logger = new Logger('ConversationStore');
  private readonly writer = new BatchWriter(this.logger);
  /** Folds each call's events into its row as they are published: most calls are written as one row. */
  private readonly folder = new CallFolder();
  /** SQLite in-thread writes: prepared statements on the connection they were prepared on. */
  private sqlite: { db: SqliteDatabase; writer: SqliteBatchWriter } | undefined;
  /** Batches are written on a thread of their own when the database allows a second connection. */
  private readonly thread: StoreWriterThread | undefined;
  private readonly connection: StoreConnection;
  private readonly pingTimeoutMs: number;
  /** Writes (batches, purges) of this replica run one at a time: SQLite has one connection, PG fewer deadlocks. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    @InjectDataSource() dataSource: DataSource,
    @Inject(eventsConfig.KEY) cfg: EventsConfig,
    @Optional() @Inject(STORE_TIMINGS) timings?: Partial<StoreTimings>,
  ) {
    super();
    this.thread = StoreWriterThread.create(cfg);
    const resolved = { ...DEFAULT_STORE_TIMINGS, ...timings };
    this.pingTimeoutMs = resolved.pingTimeoutMs;
    this.connection = new StoreConnection(
      dataSource,
      {
        runMigrations: cfg.migrations === 'auto',
        ...(cfg.schema === undefined ? {} : { schema: cfg.schema }),
        target: describeDatabase(cfg),
        timings: resolved,
      },
      this.logger,
    );
  }

  /** Connects (waiting briefly for the first attempt; never failing startup). */
  async onModuleInit(): Promise<void> {
    await this.connection.start();
  }

  /** Stops reconnecting and lets pending writes finish; the DataSource is closed by TypeOrmModule afterwards. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Whether the database is connected (for health details). */
  get isConnected(): boolean {
    return this.connection.isReady;
  }

  /** Same as the shutdown hook, for owners outside Nest (tests, scripts). */
  async close(): Promise<void> {
    await this.connection.close();
    await this.writes;
    await this.thread?.close();
  }

  /**
   * A storable event is folded into its call's row (see {@link CallFolder}), else, with a writer thread, serialized
   * now (see {@link PackedStoreEvent}).
   */
  override pack(event: WardenEvent): StoreItem {
    if (!isStorableEvent(event)) return event;
    const folded = this.folder.fold(event);
    if (folded !== undefined) return folded;
    return this.thread !== undefined ? packEvent(event) : event;
  }

  override discard(items: readonly StoreItem[]): void {
    this.folder.discard(items);
  }

  async writeEvents(items: readonly StoreItem[]): Promise<void> {
    const calls = this.folder.rowsOf(items, (callId, error) =>
      this.logger.error(`call ${callId} cannot be stored: ${messageOf(error)}`),
    );
    const thread = this.thread;
    if (thread !== undefined) {
      const packed = this.packedForThread(items);
      if (packed.length === 0 && calls.length === 0) return;
      await this.serialize(async () => {
        // Throws StoreUnavailableError until connected and migrated: the writer thread only ever sees a ready schema.
        this.connection.dataSource();
        // A failed part fails the batch, which is written again whole: the parts already written ignore it.
        for (const message of messagesOf(calls, packed)) await thread.write(message);
      });
      this.folder.written(items);
      return;
    }
    const batch = unpacked(items);
    if (batch.length === 0 && calls.length === 0) return;
    await this.serialize(async () => {
      const source = this.connection.dataSource();
      try {
        await this.writeHere(source, batch, calls.map(storedValuesOf));
      } catch (error) {
        throw isConnectionError(error)
          ? new StoreUnavailableError(messageOf(error), { cause: error })
          : error;
      }
    });
    this.folder.written(items);
  }

  /**
   * The storable items of a batch, packed for the writer thread. An event not packed yet (its {@link pack} failed)
   * is packed now; one that cannot be is left out and logged, rather than failing, and so holding back, the batch.
   */
  private packedForThread(items: readonly StoreItem[]): PackedStoreEvent[] {
    const out: PackedStoreEvent[] = [];
    for (const item of storableItems(items)) {
      if (item instanceof PackedStoreEvent) out.push(item);
      else {
        try {
          out.push(packEvent(item));
        } catch (error) {
          this.logger.error(`event ${item.id} of call ${item.callId} cannot be stored: ${messageOf(error)}`);
        }
      }
    }
    return out;
  }

  /** Writes a batch on this thread: prepared statements on SQLite, TypeORM on PostgreSQL. */
  private async writeHere(
    source: DataSource,
    batch: StorableEvent[],
    calls: readonly StoredCallValues[],
  ): Promise<void> {
    const db = rawSqlite(source);
    if (db === undefined) {
      await source.transaction((em) => this.writer.apply(em, batch, calls));
      return;
    }
    if (this.sqlite?.db !== db) this.sqlite = { db, writer: new SqliteBatchWriter(db, source, this.logger) };
    this.sqlite.writer.apply(batch, calls);
  }

  async listCalls(filter: CallFilter): Promise<Page<CallSummary>> {
    const limit = pageSize(filter.limit);
    const qb = this.connection
      .dataSource()
      .getRepository(CallEntity)
      .createQueryBuilder('c')
      .select(SUMMARY_COLUMNS);
    if (filter.sessionId !== undefined)
      qb.andWhere('c.sessionId = :sessionId', { sessionId: filter.sessionId });
    if (filter.model !== undefined) qb.andWhere('c.model = :model', { model: filter.model });
    if (filter.status !== undefined) qb.andWhere('c.status = :status', { status: filter.status });
    if (filter.policyAction !== undefined && filter.policyAction !== '') {
      qb.andWhere(`c.policyActions LIKE :action ESCAPE '${LIKE_ESCAPE}'`, {
        action: policyActionPattern(filter.policyAction),
      });
    }
    if (filter.from !== undefined)
      qb.andWhere('c.startedAt >= :from', { from: timestamp(filter.from, 'from') });
    if (filter.to !== undefined) qb.andWhere('c.startedAt <= :to', { to: timestamp(filter.to, 'to') });
    if (filter.q !== undefined && filter.q.trim() !== '') {
      qb.andWhere(payloadSearch()).setParameter('q', containsPattern(filter.q));
    }
    const after = cursorOf(filter.cursor);
    if (after !== undefined) {
      qb.andWhere('(c.startedAt < :key OR (c.startedAt = :key AND c.id < :id))', after);
    }
    qb.orderBy('c.startedAt', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .limit(limit + 1);
    return page(await qb.getMany(), limit, toCallSummary, (c) => ({ key: c.startedAt, id: c.id }));
  }

  async getCall(id: string): Promise<{ call: CallRecord; events: WardenEvent[] } | undefined> {
    const source = this.connection.dataSource();
    const call = await source.getRepository(CallEntity).findOneBy({ id });
    if (call === null) return undefined;
    return { call: toCallRecord(call), events: toWardenEvents(call) };
  }

  async listSessions(filter: { limit: number; cursor?: string; q?: string }): Promise<Page<SessionSummary>> {
    const limit = pageSize(filter.limit);
    const qb = this.connection.dataSource().getRepository(SessionEntity).createQueryBuilder('s');
    if (filter.q !== undefined && filter.q.trim() !== '') {
      qb.andWhere((outer: SelectQueryBuilder<SessionEntity>) => {
        const calls = outer
          .subQuery()
          .select('1')
          .from(CallEntity, 'c')
          .where('c.session_id = s.id')
          .andWhere(payloadSearch())
          .getQuery();
        return `EXISTS ${calls}`;
      });
      qb.setParameter('q', containsPattern(filter.q));
    }
    const after = cursorOf(filter.cursor);
    if (after !== undefined) qb.andWhere('(s.lastAt < :key OR (s.lastAt = :key AND s.id < :id))', after);
    qb.orderBy('s.lastAt', 'DESC')
      .addOrderBy('s.id', 'DESC')
      .limit(limit + 1);
    return page(await qb.getMany(), limit, toSessionSummary, (s) => ({ key: s.lastAt, id: s.id }));
  }

  async getSession(id: string): Promise<{ session: SessionSummary; calls: CallRecord[] } | undefined> {
    const source = this.connection.dataSource();
    const session = await source.getRepository(SessionEntity).findOneBy({ id });
    if (session === null) return undefined;
    const calls = await source.getRepository(CallEntity).find({
      select: RECORD_SELECT,
      where: { sessionId: id },
      order: { startedAt: 'ASC', id: 'ASC' },
      take: MAX_SESSION_CALLS,
    });
    return { session: toSessionSummary(session), calls: calls.map(toCallRecord) };
  }

  async purgeOlderThan(before: Date): Promise<number> {
    const cutoff = normalizeTimestamp(before);
    if (cutoff === undefined) throw new InvalidQueryError('purge date is not a valid date');
    let total = 0;
    for (;;) {
      const deleted = await this.serialize(() =>
        this.connection.dataSource().transaction((em) => this.purgeChunk(em, cutoff)),
      );
      total += deleted;
      if (deleted < PURGE_CHUNK) return total;
    }
  }

  async ping(): Promise<void> {
    const source = this.connection.dataSource();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new StoreUnavailableError(`history store ping timed out after ${this.pingTimeoutMs} ms`)),
        this.pingTimeoutMs,
      );
      timer.unref();
    });
    try {
      await Promise.race([source.query('SELECT 1'), timeout]);
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError(`history store ping failed: ${messageOf(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writes.then(work, work);
    this.writes = run.catch(() => undefined);
    return run;
  }

  /** Deletes up to PURGE_CHUNK of the oldest calls before `cutoff` (their events with them), fixes their sessions. */
  private async purgeChunk(em: EntityManager, cutoff: string): Promise<number> {
    const victims = await em
      .getRepository(CallEntity)
      .createQueryBuilder('c')
      .select(['c.id', 'c.sessionId'])
      .where('c.startedAt < :cutoff', { cutoff })
      .orderBy('c.startedAt', 'ASC')
      .addOrderBy('c.id', 'ASC')
      .limit(PURGE_CHUNK)
      .getMany();
    if (victims.length === 0) return 0;
    await em.delete(CallEntity, { id: In(victims.map((c) => c.id)) });
    await this.refreshSessions(em, unique(victims.map((c) => c.sessionId)));
    return victims.length;
  }

  /** Recomputes sessions from their remaining calls; deletes the sessions left empty. */
  private async refreshSessions(em: EntityManager, ids: string[]): Promise<void> {
    for (const part of chunks(ids.sort(), IN_CHUNK)) {
      const stats = await em
        .getRepository(CallEntity)
        .createQueryBuilder('c')
        .select('c.sessionId', 'sessionId')
        .addSelect('COUNT(*)', 'callCount')
        .addSelect('MIN(c.startedAt)', 'firstAt')
        .addSelect('MAX(c.startedAt)', 'lastAt')
        .where('c.sessionId IN (:...ids)', { ids: part })
        .groupBy('c.sessionId')
        .getRawMany<{ sessionId: string; callCount: number | string; firstAt: string; lastAt: string }>();
      const models = await em
        .getRepository(CallEntity)
        .createQueryBuilder('c')
        .select('c.sessionId', 'sessionId')
        .addSelect('c.model', 'model')
        .addSelect('MIN(c.startedAt)', 'firstUse')
        .where('c.sessionId IN (:...ids)', { ids: part })
        .groupBy('c.sessionId')
        .addGroupBy('c.model')
        .getRawMany<{ sessionId: string; model: string; firstUse: string }>();
      models.sort((a, b) => (a.firstUse < b.firstUse ? -1 : a.firstUse > b.firstUse ? 1 : 0));
      const alive = new Set(stats.map((s) => s.sessionId));
      const empty = part.filter((id) => !alive.has(id));
      if (empty.length > 0) await em.delete(SessionEntity, { id: In(empty) });
      for (const stat of stats) {
        await em
          .createQueryBuilder()
          .update(SessionEntity)
          .set({
            firstAt: stat.firstAt,
            lastAt: stat.lastAt,
            callCount: Number(stat.callCount),
            models: models.filter((m) => m.sessionId === stat.sessionId).map((m) => m.model),
          })
          .where('id = :id', { id: stat.sessionId })
          .updateEntity(false)
          .execute();
      }
    }
  }
}

function messageOf(error: unknown): string {
  const message =
    typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(error);
}

function payloadSearch(): Brackets {
  return new Brackets((w) => {
    for (const condition of PAYLOAD_SEARCH) w.orWhere(condition);
  });
}

function page<R, T>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
  position: (row: R) => CursorPosition,
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(map),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(position(last)) : null,
  };
}

function cursorOf(cursor: string | undefined): CursorPosition | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const position = decodeCursor(cursor);
  if (position === undefined) throw new InvalidQueryError('invalid cursor');
  return position;
}

function timestamp(value: string, name: string): string {
  const normalized = normalizeTimestamp(value);
  if (normalized === undefined) throw new InvalidQueryError(`${name} is not a valid date`);
  return normalized;
}

function pageSize(limit: number): number {
  return Number.isFinite(limit) ? Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(limit))) : MAX_PAGE_SIZE;
}

/** What this store can write of a batch: the events it packed, and the events as published that belong to a call. */
function storableItems(items: readonly StoreItem[]): Array<PackedStoreEvent | StorableEvent> {
  return items.filter(
    (item): item is PackedStoreEvent | StorableEvent =>
      item instanceof PackedStoreEvent || (!(item instanceof PackedEvent) && isStorableEvent(item)),
  );
}

/** The storable events of a batch, for a write on this thread (a packed one is read back). */
function unpacked(items: readonly StoreItem[]): StorableEvent[] {
  return storableItems(items).flatMap((item) =>
    item instanceof PackedStoreEvent ? decodeBatch(batchOf([item])) : [item],
  );
}
