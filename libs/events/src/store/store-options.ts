import type { DataSourceOptions } from 'typeorm';
import type { EventsConfig } from '../events.config';
import { CallEntity } from './call.entity';
import { InitHistory1767225600000 } from './migrations/1767225600000-init-history';
import { EventsInCallRow1796515200000 } from './migrations/1796515200000-events-in-call-row';
import { SessionEntity } from './session.entity';

/** The store's entities (registered with `TypeOrmModule.forFeature`, listed explicitly for the CLI). */
export const STORE_ENTITIES = [CallEntity, SessionEntity];

/** Every migration, oldest first (classes, not globs: the same list works from sources, dist and jest). */
export const STORE_MIGRATIONS = [InitHistory1767225600000, EventsInCallRow1796515200000];

/** Name of the table recording applied migrations. */
export const MIGRATIONS_TABLE = 'warden_migrations';

/**
 * SQLite: page size of a new history file (bytes; an existing file keeps its own). The default 4 KiB splits a call's
 * row, and every request of an agent that sends its whole conversation each time (100 KiB and more), over many
 * pages, each a write of its own to the WAL and again at checkpoint: with 16 KiB pages the writer thread spends about
 * 11% less CPU on a small call and 30% less on a 200 KB request (measured, see CHANGELOG).
 */
export const SQLITE_PAGE_SIZE = 16_384;
/** SQLite: how long a writer waits for a lock held by another connection (ms). */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;
/** PostgreSQL: how long opening a connection may take before it fails (ms), so nothing hangs on a dead host. */
export const PG_CONNECT_TIMEOUT_MS = 5_000;

/**
 * The TypeORM options of the store, from its configuration. `synchronize` is always off (migrations only) and
 * `migrationsRun` too: the store runs migrations itself once connected (see StoreConnection), so that a database
 * that is down at startup is retried instead of failing the app.
 */
export function buildDataSourceOptions(cfg: EventsConfig): DataSourceOptions {
  const common = {
    synchronize: false,
    migrationsRun: false,
    migrations: STORE_MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    logging: false,
  } as const;
  if (cfg.database.kind === 'sqlite') {
    const memory = cfg.database.path === ':memory:';
    return {
      ...common,
      type: 'better-sqlite3',
      // The driver creates the file's parent directory when missing.
      database: cfg.database.path,
      enableWAL: !memory,
      timeout: SQLITE_BUSY_TIMEOUT_MS,
      // WAL with synchronous=NORMAL: durable across process crashes, one fsync per checkpoint instead of per batch.
      // The page size takes effect on a new file only: this runs before the driver switches it to WAL.
      prepareDatabase: (db: { pragma(source: string): unknown }) => {
        db.pragma(`page_size = ${SQLITE_PAGE_SIZE}`);
        db.pragma('synchronous = NORMAL');
      },
    };
  }
  return {
    ...common,
    type: 'postgres',
    url: cfg.database.url,
    ...(cfg.schema === undefined ? {} : { schema: cfg.schema }),
    poolSize: cfg.poolMax,
    connectTimeoutMS: PG_CONNECT_TIMEOUT_MS,
    applicationName: 'warden',
    extra: {
      max: cfg.poolMax,
      idleTimeoutMillis: cfg.poolIdleMs,
      statement_timeout: cfg.statementTimeoutMs,
      keepAlive: true,
    },
  };
}

/** The database a config points at, for logs: the SQLite path, or the PostgreSQL URL without its password. */
export function describeDatabase(cfg: EventsConfig): string {
  if (cfg.database.kind === 'sqlite') return `sqlite:${cfg.database.path}`;
  try {
    const url = new URL(cfg.database.url);
    if (url.password !== '') url.password = '***';
    return `${url.toString()}${cfg.schema === undefined ? '' : ` (schema ${cfg.schema})`}`;
  } catch {
    return 'postgres (unparsable URL)';
  }
}
