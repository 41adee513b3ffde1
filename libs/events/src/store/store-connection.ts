import type { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { errorMessage } from '@warden/observability';
import { StoreUnavailableError } from './store-unavailable.error';

/** Timings of the background connection (defaults in DEFAULT_STORE_TIMINGS; tests shorten them). */
export interface StoreTimings {
  /** Delay before the first retry after a failed connection attempt (ms); doubled on each failure. */
  retryMinMs: number;
  /** Longest delay between two connection attempts (ms). */
  retryMaxMs: number;
  /** How long startup waits for the first attempt before going on without the store (ms). */
  firstAttemptWaitMs: number;
  /** A ping that has not answered after this long fails (ms). */
  pingTimeoutMs: number;
}

/** Production timings. */
export const DEFAULT_STORE_TIMINGS: StoreTimings = {
  retryMinMs: 500,
  retryMaxMs: 30_000,
  firstAttemptWaitMs: 3_000,
  pingTimeoutMs: 2_000,
};

/** What the connection does once connected. */
export interface StoreConnectionOptions {
  /** Apply pending migrations (DB_MIGRATIONS=auto). */
  runMigrations: boolean;
  /** PostgreSQL schema to create when missing. */
  schema?: string;
  /** The database, for logs (no password). */
  target: string;
  timings: StoreTimings;
}

/** Key of the PostgreSQL advisory lock that serialises migrations across replicas. */
const MIGRATION_LOCK_KEY = 720_452_190;

/**
 * Owns the store's DataSource lifecycle without ever failing the app: `start()` tries to connect (and migrate)
 * and, on failure, keeps retrying in the background with capped exponential backoff (timers unref'd). Until the
 * first success `dataSource()` throws StoreUnavailableError at once, so callers fail fast instead of hanging. Once
 * connected, PostgreSQL outages are handled by the pg pool, which opens fresh connections on the next query.
 */
export class StoreConnection {
  private ready = false;
  private closed = false;
  private failures = 0;
  private lastError = 'not connected yet';
  private attempt: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: DataSource,
    private readonly options: StoreConnectionOptions,
    private readonly logger: Logger,
  ) {}

  /** Starts connecting; resolves after the first attempt settles or `firstAttemptWaitMs`, whichever is first. */
  async start(): Promise<void> {
    if (this.ready || this.closed || this.attempt !== undefined) return;
    const attempt = this.connectNow();
    let timer: NodeJS.Timeout | undefined;
    const wait = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.timings.firstAttemptWaitMs);
      timer.unref();
    });
    await Promise.race([attempt, wait]);
    clearTimeout(timer);
  }

  /** Whether the database is connected and migrated. */
  get isReady(): boolean {
    return this.ready;
  }

  /** The connected DataSource; throws StoreUnavailableError while the store is not connected. */
  dataSource(): DataSource {
    if (!this.ready || !this.source.isInitialized) {
      throw new StoreUnavailableError(
        this.closed ? 'history store closed' : `history store not connected: ${this.lastError}`,
      );
    }
    return this.source;
  }

  /** Stops retrying and waits for an attempt in flight. The DataSource itself is destroyed by its owner. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.attempt;
  }

  private connectNow(): Promise<void> {
    const attempt = this.connect().finally(() => {
      this.attempt = undefined;
    });
    this.attempt = attempt;
    return attempt;
  }

  private async connect(): Promise<void> {
    try {
      if (!this.source.isInitialized) await this.source.initialize();
      await this.prepare();
      this.ready = true;
      if (this.failures > 0) {
        this.logger.log(
          `history store connected to ${this.options.target} after ${this.failures} failed attempts`,
        );
      } else {
        this.logger.log(`history store connected to ${this.options.target}`);
      }
      this.failures = 0;
    } catch (error) {
      await this.onFailure(error);
    }
  }

  private async onFailure(error: unknown): Promise<void> {
    this.lastError = errorMessage(error);
    // A failure after the pool opened (schema or migration): close it so the next attempt starts clean.
    if (this.source.isInitialized) await this.source.destroy().catch(() => undefined);
    if (this.closed) return;
    this.failures++;
    const { retryMinMs, retryMaxMs } = this.options.timings;
    const delay = Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(this.failures - 1, 30));
    this.logger.warn(
      `history store unavailable (${this.options.target}, attempt ${this.failures}): ${this.lastError}; ` +
        `retrying in ${delay} ms (calls are still served, their history is not recorded meanwhile)`,
    );
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) void this.connectNow();
    }, delay);
    this.timer.unref();
  }

  /** Creates the schema and applies migrations (PostgreSQL: one replica at a time, under an advisory lock). */
  private async prepare(): Promise<void> {
    const postgres = this.source.options.type === 'postgres';
    if (postgres && this.options.schema !== undefined) {
      const runner = this.source.createQueryRunner();
      try {
        await runner.createSchema(this.options.schema, true);
      } finally {
        await runner.release();
      }
    }
    if (!this.options.runMigrations) {
      if (await this.source.showMigrations()) {
        this.logger.warn('history store has pending migrations and DB_MIGRATIONS=off: run them with the CLI');
      }
      return;
    }
    if (!postgres) {
      await this.runMigrations();
      return;
    }
    const lock = this.source.createQueryRunner();
    try {
      await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      try {
        await this.runMigrations();
      } finally {
        await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
      }
    } finally {
      await lock.release();
    }
  }

  private async runMigrations(): Promise<void> {
    const applied = await this.source.runMigrations({ transaction: 'each' });
    for (const migration of applied) this.logger.log(`history store migration applied: ${migration.name}`);
  }
}
