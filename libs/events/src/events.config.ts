import { defineEnvConfig, env } from '@warden/config';
import { z } from 'zod';

/** Where the history lives: a SQLite file (or memory), or a PostgreSQL server. */
export type DatabaseTarget = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

const DATABASE_URL = /^(sqlite:.+|postgres(ql)?:\/\/.+)$/;
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const REDIS_URL = /^rediss?:\/\//;
const MIB = 1024 * 1024;

/**
 * Reads a `DATABASE_URL`: `sqlite:<path>` (relative to the working directory), `sqlite:///abs/path`,
 * `sqlite::memory:`, or `postgres://` / `postgresql://` (passed to node-postgres as is).
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length);
    return { kind: 'sqlite', path: rest.startsWith('//') ? rest.slice(2) : rest };
  }
  return { kind: 'postgres', url };
}

/** The conversation store and the event pipeline (bus, publisher queue). */
export const eventsConfig = defineEnvConfig(
  'events',
  {
    HISTORY_ENABLED: env
      .bool(true)
      .describe(
        'Record calls in the history database. false: nothing is stored and no database is opened (the live view still shows events; the history API answers 404).',
      ),
    DATABASE_URL: z
      .string()
      .regex(DATABASE_URL, 'must be sqlite:<path>, sqlite::memory: or postgres://…')
      .default('sqlite:data/warden.db')
      .describe(
        'History database: `sqlite:<path>` (file, created with its directory), `sqlite::memory:`, or `postgres://user:pass@host:5432/db`.',
      ),
    DB_MIGRATIONS: z
      .enum(['auto', 'off'])
      .default('auto')
      .describe(
        '`auto`: apply pending schema migrations when the database connects; `off`: run them with the TypeORM CLI.',
      ),
    DB_POOL_MAX: env
      .int(10, 2, 1000)
      .describe('PostgreSQL: largest number of pooled connections per replica.'),
    DB_POOL_IDLE_MS: env
      .int(30_000, 1000)
      .describe('PostgreSQL: a pooled connection idle this long (ms) is closed.'),
    DB_STATEMENT_TIMEOUT_MS: env
      .int(10_000, 100)
      .describe('PostgreSQL: server-side statement timeout (ms) of every history query and migration.'),
    DB_SCHEMA: env
      .optional()
      .refine((v) => v === undefined || SCHEMA_NAME.test(v), 'must be a plain identifier')
      .describe(
        'PostgreSQL: schema holding the history tables (created if missing); unset: the default schema.',
      ),
    HISTORY_RETENTION_DAYS: env
      .int(30, 0, 36_500)
      .describe('Calls older than this many days are purged every hour (0 keeps history forever).'),
    REDIS_URL: env
      .optional()
      .refine((v) => v === undefined || REDIS_URL.test(v), 'must be a redis:// or rediss:// URL')
      .describe(
        'Redis for the live event bus across replicas (`redis://host:6379`); unset: an in-process bus.',
      ),
    EVENT_QUEUE_MAX: env
      .int(10_000, 1)
      .describe('Events waiting to be written beyond this count are dropped, oldest first (and counted).'),
    EVENT_QUEUE_MAX_BYTES: env
      .int(256 * MIB, 1024)
      .describe(
        'Events waiting to be written (the batch being written included) beyond this much serialized text ' +
          '(requests and responses included, counted in characters; 256 MiB) are dropped, oldest first (and ' +
          'counted). Applies where events are serialized for the writer thread (a SQLite file, PostgreSQL).',
      ),
    EVENT_BATCH_SIZE: env
      .int(4000, 1, 10_000)
      .describe('Largest number of events written in one transaction.'),
    EVENT_BATCH_MAX_BYTES: env
      .int(8 * MIB, 1024)
      .describe(
        'Most serialized text written in one transaction (characters; 8 MiB, and at most half of ' +
          'EVENT_QUEUE_MAX_BYTES): a batch that holds this much is written at once, before it has ' +
          'EVENT_BATCH_SIZE events (agents that resend their whole conversation send requests of hundreds of ' +
          'kilobytes).',
      ),
    EVENT_FLUSH_MS: env.int(1000, 1).describe('Queued events are written at least this often (ms).'),
  },
  (e) => ({
    historyEnabled: e.HISTORY_ENABLED,
    database: parseDatabaseUrl(e.DATABASE_URL),
    migrations: e.DB_MIGRATIONS,
    poolMax: e.DB_POOL_MAX,
    poolIdleMs: e.DB_POOL_IDLE_MS,
    statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    schema: e.DB_SCHEMA,
    retentionDays: e.HISTORY_RETENTION_DAYS,
    redisUrl: e.REDIS_URL,
    queueMax: e.EVENT_QUEUE_MAX,
    queueMaxBytes: e.EVENT_QUEUE_MAX_BYTES,
    batchSize: e.EVENT_BATCH_SIZE,
    batchMaxBytes: e.EVENT_BATCH_MAX_BYTES,
    flushMs: e.EVENT_FLUSH_MS,
  }),
);

/** The typed events configuration (`@Inject(eventsConfig.KEY) cfg: EventsConfig`). */
export type EventsConfig = ReturnType<typeof eventsConfig.parse>;
