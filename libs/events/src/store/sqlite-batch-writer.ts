import type { LoggerService } from '@nestjs/common';
import type { DataSource, EntityMetadata } from 'typeorm';
import { planBatch } from './batch-plan';
import {
  mergeSession,
  STATE_FIELDS,
  type CallRow,
  type CallState,
  type SessionDelta,
  type SessionRow,
  type StorableEvent,
  storedEventsOf,
} from './call-row.mapper';
import { CallEntity } from './call.entity';
import { jsonTransformer } from './json.transformer';
import { SessionEntity } from './session.entity';
import { addFoldedToDeltas, type StoredCallValues, WIRE_CALL_FIELDS } from './store-writer.protocol';

/** The part of a better-sqlite3 statement the writer uses. */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
}

/** The part of a better-sqlite3 database the writer uses. */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  transaction<A extends unknown[]>(fn: (...args: A) => void): { immediate(...args: A): void };
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
 * TypeORM query building per row (most of a batch's CPU). Same rules as {@link BatchWriter}, both carrying out
 * {@link planBatch} (see store/README.md): one transaction per batch (`BEGIN IMMEDIATE`: a writer never has to
 * upgrade its lock), each call looked up once, calls started in the batch inserted with their final values, stored
 * calls updated, sessions merged. Column names and value transformers come from the entity metadata.
 */
export class SqliteBatchWriter {
  private readonly callColumns: ColumnBinding[];
  private readonly callByProperty: Map<string, ColumnBinding>;
  private readonly selectCall: SqliteStatement;
  private readonly insertCall: SqliteStatement;
  /** Inserts a folded call's row (values in WIRE_CALL_FIELDS order) unless the call is stored already. */
  private readonly insertFolded: SqliteStatement;
  private readonly selectSession: SqliteStatement;
  private readonly insertSession: SqliteStatement;
  private readonly updateSession: SqliteStatement;
  /** `UPDATE calls` statements by the list of columns they set (a handful of shapes in practice). */
  private readonly updates = new Map<string, { statement: SqliteStatement; bindings: ColumnBinding[] }>();
  private readonly applyInTransaction: {
    immediate(batch: StorableEvent[], calls: readonly StoredCallValues[]): void;
  };
  private readonly callsTable: string;
  private readonly lookup = (id: string): CallState | undefined => this.storedCall(id);

  constructor(
    private readonly db: SqliteDatabase,
    source: DataSource,
    private readonly logger: LoggerService,
  ) {
    const calls = source.getMetadata(CallEntity);
    const sessions = source.getMetadata(SessionEntity);
    this.callColumns = calls.columns.map(binding);
    this.callByProperty = new Map(this.callColumns.map((c) => [c.property, c]));
    this.callsTable = quote(calls.tableName);
    const session = (property: keyof SessionRow): string => columnOf(sessions, property);
    const sessionsTable = quote(sessions.tableName);
    const state = STATE_FIELDS.map((p) => `${this.column(p)} AS ${quote(p)}`).join(', ');
    this.selectCall = db.prepare(`SELECT ${state} FROM ${this.callsTable} WHERE ${this.column('id')} = ?`);
    this.insertCall = db.prepare(insertSql(calls.tableName, this.callColumns));
    this.insertFolded = db.prepare(
      `${insertSql(
        calls.tableName,
        WIRE_CALL_FIELDS.map((p) => this.binding(p)),
      )} ON CONFLICT DO NOTHING`,
    );
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
    this.applyInTransaction = db.transaction((batch: StorableEvent[], folded: readonly StoredCallValues[]) =>
      this.applyNow(batch, folded),
    );
  }

  /**
   * Applies one batch in one transaction (synchronous: better-sqlite3 runs on the calling thread): the rows of the
   * calls folded whole first (see CallFolder), then the events.
   */
  apply(batch: StorableEvent[], folded: readonly StoredCallValues[] = []): void {
    this.applyInTransaction.immediate(batch, folded);
  }

  private applyNow(batch: StorableEvent[], folded: readonly StoredCallValues[]): void {
    const inserted = folded.filter((values) => this.insertFolded.run(...values.map(sqliteValue)).changes > 0);
    const plan = planBatch(batch, this.lookup);
    if (plan.skipped > 0) this.logger.debug?.(`skipped ${plan.skipped} events of unknown calls`);
    for (const values of inserted) addFoldedToDeltas(plan.sessions, values);
    this.addToSessions(plan.sessions);
    for (const row of plan.created.values()) this.insertCall.run(...values(this.callColumns, row));
    for (const [id, patch] of plan.patches) this.updateCall(id, patch);
  }

  /** A stored call without its payloads, or undefined when there is none. */
  private storedCall(id: string): CallState | undefined {
    const raw = this.selectCall.get(id) as (Omit<CallState, 'events'> & { events: unknown }) | undefined;
    if (raw === undefined) return undefined;
    return { ...raw, stream: Boolean(raw.stream), events: storedEventsOf(jsonTransformer.from(raw.events)) };
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

/** A value as better-sqlite3 binds it (booleans as 0/1). */
function sqliteValue(value: string | number | boolean | null): string | number | null {
  return typeof value === 'boolean' ? Number(value) : value;
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

function insertSql(table: string, columns: ColumnBinding[]): string {
  const names = columns.map((c) => c.column).join(', ');
  const placeholders = columns.map(() => '?').join(', ');
  return `INSERT INTO ${quote(table)} (${names}) VALUES (${placeholders})`;
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
