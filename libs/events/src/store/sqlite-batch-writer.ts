import type { LoggerService } from '@nestjs/common';
import type { DataSource, EntityMetadata } from 'typeorm';
import { EVENT_TYPES } from '../event-types';
import type { StorableEvent } from './batch-writer';
import { CallEventEntity } from './call-event.entity';
import {
  addCallToDelta,
  applyCallEvent,
  callEventRow,
  callRowFromStarted,
  mergeSession,
  normalizeTimestamp,
  SUMMARY_FIELDS,
  type CallRow,
  type SessionDelta,
  type SessionRow,
} from './call-row.mapper';
import { CallEntity } from './call.entity';
import { SessionEntity } from './session.entity';

/** The part of a better-sqlite3 statement the writer uses. */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
}

/** The part of a better-sqlite3 database the writer uses. */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  transaction(fn: (batch: StorableEvent[]) => void): { immediate(batch: StorableEvent[]): void };
}

/** The better-sqlite3 handle under a connected TypeORM SQLite DataSource, or undefined on another driver. */
export function rawSqlite(source: DataSource): SqliteDatabase | undefined {
  if (source.options.type !== 'better-sqlite3') return undefined;
  const connection: unknown = (source.driver as unknown as { databaseConnection?: unknown })
    .databaseConnection;
  return isSqliteDatabase(connection) ? connection : undefined;
}

function isSqliteDatabase(value: unknown): value is SqliteDatabase {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { prepare?: unknown }).prepare === 'function' &&
    typeof (value as { transaction?: unknown }).transaction === 'function'
  );
}

/** How a table's columns are bound: property name, quoted column name, value transformer. */
interface ColumnBinding {
  property: string;
  column: string;
  to: ((value: unknown) => unknown) | undefined;
}

/**
 * The history write path on SQLite, with statements prepared once on the raw better-sqlite3 connection instead of
 * TypeORM query building per row (most of a batch's CPU). Same rules as {@link BatchWriter} (see store/README.md):
 * one transaction per batch (`BEGIN IMMEDIATE`: a writer never has to upgrade its lock), already-stored event ids
 * dropped first, `call.started` creating the call and adding it to its session, other events patching their call,
 * events of unknown calls skipped. Column names and value transformers come from the entity metadata.
 */
export class SqliteBatchWriter {
  private readonly callColumns: ColumnBinding[];
  private readonly eventColumns: ColumnBinding[];
  private readonly callByProperty: Map<string, ColumnBinding>;
  private readonly deferForeignKeys: SqliteStatement;
  private readonly selectCall: SqliteStatement;
  private readonly insertCall: SqliteStatement;
  private readonly insertEvent: SqliteStatement;
  private readonly selectSession: SqliteStatement;
  private readonly insertSession: SqliteStatement;
  private readonly updateSession: SqliteStatement;
  /** `UPDATE calls` statements by the list of columns they set (a handful of shapes in practice). */
  private readonly updates = new Map<string, { statement: SqliteStatement; bindings: ColumnBinding[] }>();
  private readonly applyInTransaction: { immediate(batch: StorableEvent[]): void };
  private readonly callsTable: string;

  constructor(
    private readonly db: SqliteDatabase,
    source: DataSource,
    private readonly logger: LoggerService,
  ) {
    const calls = source.getMetadata(CallEntity);
    const events = source.getMetadata(CallEventEntity);
    const sessions = source.getMetadata(SessionEntity);
    this.callColumns = calls.columns.map(binding);
    this.eventColumns = events.columns.map(binding);
    this.callByProperty = new Map(this.callColumns.map((c) => [c.property, c]));
    this.callsTable = quote(calls.tableName);
    const session = (property: keyof SessionRow): string => columnOf(sessions, property);
    const sessionsTable = quote(sessions.tableName);
    const summary = SUMMARY_FIELDS.map((p) => `${this.column(p)} AS ${quote(p)}`).join(', ');
    this.deferForeignKeys = db.prepare('PRAGMA defer_foreign_keys = ON');
    this.selectCall = db.prepare(`SELECT ${summary} FROM ${this.callsTable} WHERE ${this.column('id')} = ?`);
    this.insertCall = db.prepare(insertSql(calls.tableName, this.callColumns, false));
    this.insertEvent = db.prepare(insertSql(events.tableName, this.eventColumns, true));
    this.selectSession = db.prepare(
      `SELECT ${session('id')} AS id, ${session('firstAt')} AS firstAt, ${session('lastAt')} AS lastAt, ` +
        `${session('callCount')} AS callCount, ${session('models')} AS models FROM ${sessionsTable} ` +
        `WHERE ${session('id')} = ?`,
    );
    this.insertSession = db.prepare(
      `INSERT INTO ${sessionsTable} (${session('id')}, ${session('firstAt')}, ${session('lastAt')}, ` +
        `${session('callCount')}, ${session('models')}) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    this.updateSession = db.prepare(
      `UPDATE ${sessionsTable} SET ${session('firstAt')} = ?, ${session('lastAt')} = ?, ` +
        `${session('callCount')} = ?, ${session('models')} = ? WHERE ${session('id')} = ?`,
    );
    this.applyInTransaction = db.transaction((batch) => this.applyNow(batch));
  }

  /** Applies one batch in one transaction (synchronous: better-sqlite3 runs on the calling thread). */
  apply(batch: StorableEvent[]): void {
    this.applyInTransaction.immediate(batch);
  }

  private applyNow(batch: StorableEvent[]): void {
    // Event rows go in as each event is applied (their insert is the duplicate check: an event already stored
    // inserts nothing and is skipped), before the rows of the calls created by the batch: their foreign key is
    // checked at commit.
    this.deferForeignKeys.run();
    // A call's start is applied before its other events, whatever their order in the batch.
    const ordered = [
      ...batch.filter((e) => e.type === EVENT_TYPES.callStarted),
      ...batch.filter((e) => e.type !== EVENT_TYPES.callStarted),
    ];
    const existing = new Map<string, CallRow | null>();
    const created = new Map<string, CallRow>();
    const patches = new Map<string, Partial<CallRow>>();
    const sessions = new Map<string, SessionDelta>();
    const now = new Date().toISOString();
    let skipped = 0;
    for (const event of ordered) {
      const at = normalizeTimestamp(event.at) ?? now;
      const row = created.get(event.callId) ?? this.storedCall(existing, event.callId);
      if (event.type === EVENT_TYPES.callStarted) {
        if (!this.insertEventRow(event, at) || row !== undefined) continue;
        const fresh = callRowFromStarted(event, at);
        created.set(fresh.id, fresh);
        sessions.set(fresh.sessionId, addCallToDelta(sessions.get(fresh.sessionId), fresh));
        continue;
      }
      if (row === undefined) {
        skipped++; // the call is unknown here: purged already, or its start was never stored
        continue;
      }
      if (!this.insertEventRow(event, at)) continue;
      const patch = applyCallEvent(row, event, at);
      if (Object.keys(patch).length > 0) {
        Object.assign(row, patch);
        if (!created.has(row.id)) patches.set(row.id, { ...patches.get(row.id), ...patch });
      }
    }
    if (skipped > 0) this.logger.debug?.(`skipped ${skipped} events of unknown calls`);
    this.addToSessions(sessions);
    for (const row of created.values()) this.insertCall.run(...values(this.callColumns, row));
    for (const [id, patch] of patches) this.updateCall(id, patch);
  }

  /** Inserts an event's row; false when the event was stored already (a re-delivery: it changes nothing). */
  private insertEventRow(event: StorableEvent, at: string): boolean {
    return this.insertEvent.run(...values(this.eventColumns, callEventRow(event, at))).changes > 0;
  }

  /** A stored call without its payloads (looked up once per batch), or undefined when there is none. */
  private storedCall(cache: Map<string, CallRow | null>, id: string): CallRow | undefined {
    let row = cache.get(id);
    if (row === undefined) {
      row = (this.selectCall.get(id) as CallRow | undefined) ?? null;
      cache.set(id, row);
    }
    return row ?? undefined;
  }

  /**
   * Adds the calls started in a batch to their sessions: a new session is inserted with its final values; one
   * that exists (the insert conflicts) is read, merged and updated.
   */
  private addToSessions(deltas: Map<string, SessionDelta>): void {
    for (const [id, delta] of deltas) {
      const fresh = mergeSession(
        { id, firstAt: delta.firstAt, lastAt: delta.lastAt, callCount: 0, models: [] },
        delta,
      );
      const models = JSON.stringify(fresh.models);
      if (this.insertSession.run(id, fresh.firstAt, fresh.lastAt, fresh.callCount, models).changes > 0)
        continue;
      const stored = this.selectSession.get(id) as StoredSession | undefined;
      if (stored === undefined) continue;
      const merged = mergeSession({ ...stored, models: parseModels(stored.models) }, delta);
      this.updateSession.run(
        merged.firstAt,
        merged.lastAt,
        merged.callCount,
        JSON.stringify(merged.models),
        id,
      );
    }
  }

  private updateCall(id: string, patch: Partial<CallRow>): void {
    const properties = Object.keys(patch);
    const key = properties.join(',');
    let update = this.updates.get(key);
    if (update === undefined) {
      const bindings = properties.map((p) => this.binding(p));
      const sets = bindings.map((b) => `${b.column} = ?`).join(', ');
      update = {
        statement: this.db.prepare(`UPDATE ${this.callsTable} SET ${sets} WHERE ${this.column('id')} = ?`),
        bindings,
      };
      this.updates.set(key, update);
    }
    update.statement.run(...values(update.bindings, patch), id);
  }

  private binding(property: string): ColumnBinding {
    const found = this.callByProperty.get(property);
    if (found === undefined) throw new Error(`calls has no column for ${property}`);
    return found;
  }

  private column(property: string): string {
    return this.binding(property).column;
  }
}

/** A `sessions` row as SQLite returns it (`models` still JSON). */
interface StoredSession {
  id: string;
  firstAt: string;
  lastAt: string;
  callCount: number;
  models: string | null;
}

function parseModels(json: string | null): string[] {
  if (json === null) return [];
  const parsed: unknown = JSON.parse(json);
  return Array.isArray(parsed) ? parsed.filter((m): m is string => typeof m === 'string') : [];
}

function binding(column: EntityMetadata['columns'][number]): ColumnBinding {
  const transformer = column.transformer;
  return {
    property: column.propertyName,
    column: quote(column.databaseName),
    to:
      transformer !== undefined && !Array.isArray(transformer)
        ? (value: unknown): unknown => transformer.to(value)
        : undefined,
  };
}

function columnOf(metadata: EntityMetadata, property: string): string {
  const column = metadata.findColumnWithPropertyName(property);
  if (column === undefined) throw new Error(`${metadata.tableName} has no column for ${property}`);
  return quote(column.databaseName);
}

function insertSql(table: string, columns: ColumnBinding[], ignoreConflicts: boolean): string {
  const names = columns.map((c) => c.column).join(', ');
  const placeholders = columns.map(() => '?').join(', ');
  const conflict = ignoreConflicts ? ' ON CONFLICT DO NOTHING' : '';
  return `INSERT INTO ${quote(table)} (${names}) VALUES (${placeholders})${conflict}`;
}

/** A row's values in column order, as better-sqlite3 binds them (undefined as NULL, booleans as 0/1). */
function values(columns: ColumnBinding[], row: object): unknown[] {
  const record = row as Record<string, unknown>;
  const out: unknown[] = new Array<unknown>(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i] as ColumnBinding;
    const raw = record[column.property];
    const value = column.to === undefined ? raw : column.to(raw);
    out[i] = value === undefined ? null : typeof value === 'boolean' ? Number(value) : value;
  }
  return out;
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
