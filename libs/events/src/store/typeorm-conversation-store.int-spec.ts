/**
 * The TypeORM conversation store against real databases: SQLite (a temp file and `:memory:`) and the local
 * PostgreSQL (each test in a fresh schema `test_store_<random>`, dropped after). Everything is real; the only
 * stand-in is a TCP proxy in front of PostgreSQL, stopped and started to play an outage.
 */
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConfigRootModule, type Env } from '@warden/config';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  ConversationStore,
  type CallFilter,
  type CallSummary,
  type StoreItem,
} from '../conversation-store.port';
import { FoldedEvent } from './call-folder';
import { eventsConfig } from '../events.config';
import type { WardenEvent } from '../warden-event';
import { ConversationStoreModule } from './conversation-store.module';
import { InvalidQueryError } from './invalid-query.error';
import { InitHistory1767225600000 } from './migrations/1767225600000-init-history';
import { EventsInCallRow1796515200000 } from './migrations/1796515200000-events-in-call-row';
import { rawSqlite, SqliteBatchWriter } from './sqlite-batch-writer';
import { decodeBatch, encodeBatch, packEvent } from './store-writer.protocol';
import { BatchWriter } from './batch-writer';
import { isStorableEvent } from './call-row.mapper';
import type { StoreTimings } from './store-connection';
import {
  buildDataSourceOptions,
  MIGRATIONS_TABLE,
  SQLITE_PAGE_SIZE,
  STORE_ENTITIES,
  STORE_MIGRATIONS,
} from './store-options';
import { StoreUnavailableError } from './store-unavailable.error';
import { TypeOrmConversationStore } from './typeorm-conversation-store.adapter';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const FAST: Partial<StoreTimings> = {
  retryMinMs: 25,
  retryMaxMs: 100,
  firstAttemptWaitMs: 5_000,
  pingTimeoutMs: 1_000,
};
const T0 = Date.parse('2026-01-01T00:00:00.000Z');

beforeAll(() => {
  Logger.overrideLogger(false);
});

// ---------------------------------------------------------------------------------------------------------------
// Backends and helpers

interface Database {
  env: Env;
  cleanup(): Promise<void>;
}

interface Backend {
  name: string;
  kind: 'sqlite' | 'postgres';
  create(): Promise<Database>;
}

const backends: Backend[] = [
  {
    name: 'sqlite file',
    kind: 'sqlite',
    create: () => {
      const dir = mkdtempSync(join(tmpdir(), 'warden-store-'));
      // A nested path: the parent directories do not exist yet.
      const env = { DATABASE_URL: `sqlite:${join(dir, 'nested', 'dir', 'history.db')}` };
      return Promise.resolve({
        env,
        cleanup: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
      });
    },
  },
  {
    name: 'sqlite memory',
    kind: 'sqlite',
    create: () =>
      Promise.resolve({ env: { DATABASE_URL: 'sqlite::memory:' }, cleanup: () => Promise.resolve() }),
  },
  {
    name: 'postgres',
    kind: 'postgres',
    create: () => Promise.resolve(postgresDatabase()),
  },
];

function postgresDatabase(url = PG_URL): Database {
  const schema = `test_store_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  return {
    env: { DATABASE_URL: url, DB_SCHEMA: schema },
    cleanup: () => sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).then(() => undefined),
  };
}

async function sql(query: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(query, params)).rows;
  } finally {
    await client.end();
  }
}

interface Opened {
  store: TypeOrmConversationStore;
  source: DataSource;
  close(): Promise<void>;
}

async function open(env: Env, timings: Partial<StoreTimings> = FAST): Promise<Opened> {
  const cfg = eventsConfig.parse(env);
  const source = new DataSource({ ...buildDataSourceOptions(cfg), entities: STORE_ENTITIES });
  const store = new TypeOrmConversationStore(source, cfg, timings);
  await store.onModuleInit();
  return {
    store,
    source,
    close: async () => {
      await store.close();
      if (source.isInitialized) await source.destroy();
    },
  };
}

/** Awaits a condition, polling it (no fixed sleeps). */
async function until(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function succeeds(work: () => Promise<unknown>): Promise<boolean> {
  try {
    await work();
    return true;
  } catch {
    return false;
  }
}

function at(offsetMs: number): string {
  return new Date(T0 + offsetMs).toISOString();
}

function event(
  callId: string | null,
  type: string,
  data: Record<string, unknown>,
  time: string,
  sessionId?: string,
): WardenEvent {
  return {
    id: randomUUID(),
    callId,
    ...(sessionId === undefined ? {} : { sessionId }),
    type,
    at: time,
    instance: 'test-host:1',
    data,
  };
}

interface CallSpec {
  id?: string;
  session?: string;
  model?: string;
  start: number;
  stream?: boolean;
  outcome?: 'completed' | 'failed' | 'aborted' | 'open';
  prompt?: string;
  blocked?: boolean;
}

/** The events of one call, in the order the control plane publishes them. */
function callEvents(spec: CallSpec): WardenEvent[] {
  const id = spec.id ?? randomUUID();
  const model = spec.model ?? 'mock-claude';
  const stream = spec.stream ?? true;
  const prompt = spec.prompt ?? 'Clean up the temp directory';
  const e = (type: string, data: Record<string, unknown>, offset: number): WardenEvent =>
    event(id, type, data, at(spec.start + offset), spec.session);
  const request = { model, stream, messages: [{ role: 'user', content: prompt }] };
  const toolUse = { type: 'tool_use', id: 'toolu_1', name: 'bash', input: { command: 'rm -rf /' } };
  const blockedText = { type: 'text', text: 'The tool call `bash` was blocked by policy.' };
  const events = [
    e(
      'call.started',
      {
        model,
        provider: 'mock',
        clientFormat: 'anthropic',
        upstreamFormat: 'anthropic',
        stream,
        keyId: 'key-1',
      },
      0,
    ),
    e('request.received', { request }, 1),
    e('request.forwarded', { request: { ...request, system: 'be careful' }, format: 'anthropic' }, 2),
    e('response.first_token', { firstTokenMs: 120 }, 120),
  ];
  if (spec.blocked === true) {
    events.push(e('policy.tool-call-judge.blocked', { tool: 'bash', probability: 0.93 }, 300));
  }
  const outcome = spec.outcome ?? 'completed';
  if (outcome === 'open') return events;
  events.push(
    e(
      'response.completed',
      {
        original: { role: 'assistant', content: [toolUse], stop_reason: 'tool_use' },
        final: {
          role: 'assistant',
          content: spec.blocked === true ? [blockedText] : [toolUse],
          stop_reason: spec.blocked === true ? 'end_turn' : 'tool_use',
        },
      },
      400,
    ),
  );
  if (outcome === 'completed') {
    events.push(
      e(
        'call.completed',
        { status: 200, durationMs: 850.6, firstTokenMs: 120, inputTokens: 12, outputTokens: 34 },
        851,
      ),
    );
  } else if (outcome === 'failed') {
    events.push(e('call.failed', { error: 'upstream returned 529 overloaded', stream }, 500));
  } else {
    events.push(e('call.failed', { error: 'client_aborted', stream: true }, 500));
  }
  return events;
}

async function allPages(store: ConversationStore, filter: CallFilter): Promise<CallSummary[][]> {
  const pages: CallSummary[][] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await store.listCalls({ ...filter, ...(cursor === undefined ? {} : { cursor }) });
    pages.push(page.items);
    if (page.nextCursor === null) return pages;
    cursor = page.nextCursor;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The same suite on every backend

describe.each(backends)('TypeOrmConversationStore on $name', (backend) => {
  let db: Database;
  let opened: Opened;
  let store: TypeOrmConversationStore;

  beforeEach(async () => {
    db = await backend.create();
    opened = await open(db.env);
    store = opened.store;
    expect(store.isConnected).toBe(true);
  });

  afterEach(async () => {
    await opened.close();
    await db.cleanup();
  });

  /** Runs `work` while the database refuses to insert the call `id` ('disk full', from a trigger). */
  async function refusingInsertOf(id: string, work: () => Promise<unknown>): Promise<void> {
    const postgres = backend.kind === 'postgres';
    const schema = db.env['DB_SCHEMA'] ?? 'public';
    if (postgres) {
      await opened.source.query(
        `CREATE FUNCTION "${schema}".refuse() RETURNS trigger AS $$ BEGIN IF NEW.id = '${id}' THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
      );
      await opened.source.query(
        `CREATE TRIGGER refuse BEFORE INSERT ON "${schema}".calls FOR EACH ROW EXECUTE FUNCTION "${schema}".refuse()`,
      );
    } else {
      await opened.source.query(
        `CREATE TRIGGER refuse BEFORE INSERT ON calls WHEN NEW.id = '${id}' BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
      );
    }
    try {
      await work();
    } finally {
      await opened.source.query(
        postgres ? `DROP TRIGGER refuse ON "${schema}".calls` : 'DROP TRIGGER refuse',
      );
      if (postgres) await opened.source.query(`DROP FUNCTION "${schema}".refuse()`);
    }
  }

  it('migrates an empty database, and the schema matches the entities', async () => {
    const table =
      backend.kind === 'postgres'
        ? `"${db.env['DB_SCHEMA']}"."${MIGRATIONS_TABLE}"`
        : `"${MIGRATIONS_TABLE}"`;
    const migrations = await opened.source.query<{ name: string }[]>(`SELECT name FROM ${table}`);
    expect(migrations.map((m) => m.name).sort()).toEqual([
      'EventsInCallRow1796515200000',
      'InitHistory1767225600000',
    ]);
    // Nothing left for TypeORM to change: the migrations build exactly what the entities describe.
    const pending = await opened.source.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    if (backend.kind === 'postgres') {
      const tables = await sql(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
        [db.env['DB_SCHEMA']],
      );
      expect(tables.map((t) => t['table_name'])).toEqual(['calls', 'sessions', MIGRATIONS_TABLE]);
    }
    if (backend.name === 'sqlite file') {
      expect(existsSync(db.env['DATABASE_URL']?.slice('sqlite:'.length) ?? '')).toBe(true);
      expect(await opened.source.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
      expect(await opened.source.query('PRAGMA page_size')).toEqual([{ page_size: SQLITE_PAGE_SIZE }]);
    }
    await store.ping();
  });

  it('records a streamed call whose tool call was blocked: policy action, original and final response', async () => {
    const events = callEvents({ id: 'call-1', session: 'sess-1', start: 0, blocked: true });
    await store.writeEvents(events);

    const found = await store.getCall('call-1');
    expect(found).toBeDefined();
    const call = found?.call;
    expect(call).toMatchObject({
      id: 'call-1',
      sessionId: 'sess-1',
      keyId: 'key-1',
      clientFormat: 'anthropic',
      upstreamFormat: 'anthropic',
      provider: 'mock',
      model: 'mock-claude',
      stream: true,
      status: 'completed',
      httpStatus: 200,
      startedAt: at(0),
      completedAt: at(851),
      firstTokenMs: 120,
      durationMs: 851,
      inputTokens: 12,
      outputTokens: 34,
      error: null,
      policyActions: ['tool-call-judge.blocked'],
    });
    expect(call?.originalRequest).toEqual({
      model: 'mock-claude',
      stream: true,
      messages: [{ role: 'user', content: 'Clean up the temp directory' }],
    });
    expect(call?.finalRequest).toMatchObject({ system: 'be careful' });
    expect(call?.originalResponse).toMatchObject({ content: [{ type: 'tool_use', name: 'bash' }] });
    expect(call?.finalResponse).toMatchObject({ content: [{ type: 'text' }], stop_reason: 'end_turn' });
    expect(found?.events.map((e) => e.type)).toEqual(events.map((e) => e.type));
    expect(found?.events[0]).toEqual({ ...events[0], sessionId: 'sess-1' });

    const session = await store.getSession('sess-1');
    expect(session?.session).toEqual({
      id: 'sess-1',
      firstAt: at(0),
      lastAt: at(0),
      callCount: 1,
      models: ['mock-claude'],
    });
  });

  it('is idempotent: a re-delivered batch (whole or overlapping) changes nothing', async () => {
    const first = callEvents({ id: 'call-1', session: 'sess-1', start: 0, blocked: true });
    await store.writeEvents(first);
    const before = await store.getCall('call-1');
    await store.writeEvents(first);
    await store.writeEvents([...first.slice(3), ...first.slice(0, 3)]);
    // A batch with duplicates inside it too.
    await store.writeEvents([...first, ...first]);

    expect(await store.getCall('call-1')).toEqual(before);
    expect(before?.events).toHaveLength(first.length);
    expect(before?.call.policyActions).toEqual(['tool-call-judge.blocked']);
    expect((await store.getSession('sess-1'))?.session.callCount).toBe(1);
  });

  it('applies a batch of 1000 events in one transaction, and rolls it all back on failure', async () => {
    const batch: WardenEvent[] = [];
    for (let i = 0; batch.length < 1000; i++) {
      batch.push(
        ...callEvents({
          id: `bulk-${i}`,
          session: `bulk-sess-${i % 7}`,
          start: i * 10,
          blocked: i % 3 === 0,
        }),
      );
    }
    batch.length = 1000;
    // One transaction: TypeORM's on PostgreSQL; on SQLite one apply of the prepared-statement writer (one
    // BEGIN IMMEDIATE each).
    const transaction =
      backend.kind === 'postgres'
        ? jest.spyOn(opened.source, 'transaction')
        : jest.spyOn(SqliteBatchWriter.prototype, 'apply');
    await store.writeEvents(batch);
    expect(transaction).toHaveBeenCalledTimes(1);
    transaction.mockRestore();

    const calls = (await allPages(store, { limit: 500 })).flat();
    const started = new Set(batch.filter((e) => e.type === 'call.started').map((e) => e.callId));
    expect(calls).toHaveLength(started.size);
    const sessions = await store.listSessions({ limit: 100 });
    expect(sessions.items.reduce((n, s) => n + s.callCount, 0)).toBe(started.size);
    const last = batch[batch.length - 1];
    expect((await store.getCall(last?.callId ?? ''))?.events.at(-1)?.id).toBe(last?.id);

    // A failure while inserting the calls: nothing of the batch remains.
    const failing = [
      ...callEvents({ id: 'before-doomed', session: 'doomed-sess', start: 99_998 }),
      ...callEvents({ id: 'doomed', session: 'doomed-sess', start: 99_999 }),
    ];
    // The database itself refuses the batch's second call row (a trigger), after its session and first call row
    // were written.
    await refusingInsertOf('doomed', () =>
      // Matched on the message: better-sqlite3's SqliteError class belongs to the first test file that loaded the
      // native addon in this jest worker, so `instanceof Error` (what toThrow checks) fails in later files.
      expect(store.writeEvents(failing)).rejects.toHaveProperty('message', 'disk full'),
    );
    expect(await store.getCall('before-doomed')).toBeUndefined();
    expect(await store.getCall('doomed')).toBeUndefined();
    expect(await store.getSession('doomed-sess')).toBeUndefined();
    // The store is still usable after the rollback.
    await store.writeEvents(failing);
    expect((await store.getCall('doomed'))?.call.status).toBe('completed');
  });

  it('stores what the writer thread receives (payloads as JSON texts) as it stores the events themselves', async () => {
    const direct = callEvents({ id: 'direct', session: 'wire-sess', start: 0, blocked: true });
    const wired = callEvents({ id: 'wired', session: 'wire-sess', start: 0, blocked: true });
    // Through the worker protocol, in two batches: the second updates a stored call with payload texts.
    const writer = rawSqlite(opened.source);
    const apply = async (events: WardenEvent[]): Promise<void> => {
      const decoded = decodeBatch(structuredClone(encodeBatch(events.filter(isStorableEvent))));
      expect(decoded.some((e) => e.payloadText !== undefined)).toBe(events.length > 1);
      if (writer !== undefined) new SqliteBatchWriter(writer, opened.source, new Logger()).apply(decoded);
      else await opened.source.transaction((em) => new BatchWriter(new Logger()).apply(em, decoded));
    };
    await apply(wired.slice(0, 1));
    await apply(wired.slice(1));
    await store.writeEvents(direct.slice(0, 1));
    await store.writeEvents(direct.slice(1));
    // Packed as the publisher has them packed for a writer thread, but written here: read back, then written.
    const packed = callEvents({ id: 'packed', session: 'wire-sess', start: 0, blocked: true });
    await store.writeEvents([
      ...packed.filter(isStorableEvent).map(packEvent),
      event(null, 'policy.config.updated', { version: 3, policies: [] }, at(0)),
    ]);
    const a = await store.getCall('direct');
    const b = await store.getCall('wired');
    expect(b?.call).toEqual({ ...a?.call, id: 'wired' });
    expect((await store.getCall('packed'))?.call).toEqual({ ...a?.call, id: 'packed' });
    // The same events but for their ids: same types, times, instances, data (payload pointers included).
    const shape = (e: WardenEvent): unknown => ({
      type: e.type,
      at: e.at,
      instance: e.instance,
      data: e.data,
    });
    expect(b?.events.map(shape)).toEqual(a?.events.map(shape));
    expect(b?.events.map((e) => e.id)).toEqual(wired.map((e) => e.id));
    expect(b?.call.originalRequest).toEqual({
      model: 'mock-claude',
      stream: true,
      messages: [{ role: 'user', content: 'Clean up the temp directory' }],
    });
  });

  it('stores calls folded into their rows as the publisher packs them as it stores their events one by one', async () => {
    const pack = (events: WardenEvent[]): StoreItem[] => events.map((e) => store.pack(e));
    await store.writeEvents(callEvents({ id: 'direct', session: 'fold-sess', start: 0, blocked: true }));
    // Started and ended before its batch: one row.
    const whole = pack(callEvents({ id: 'whole', session: 'fold-sess', start: 0, blocked: true }));
    expect(whole.every((item) => item instanceof FoldedEvent)).toBe(true);
    await store.writeEvents(whole);
    // Going on when its first batch is written: stored in progress, then patched by its later events.
    const split = callEvents({ id: 'split', session: 'fold-sess', start: 0, blocked: true });
    await store.writeEvents(pack(split.slice(0, 3)));
    expect((await store.getCall('split'))?.call).toMatchObject({ status: 'in_progress', completedAt: null });
    await store.writeEvents(pack(split.slice(3)));

    const reference = await store.getCall('direct');
    for (const id of ['whole', 'split']) {
      const found = await store.getCall(id);
      expect(found?.call).toEqual({ ...reference?.call, id });
      expect(found?.events.map(({ id: _, callId: __, ...rest }) => rest)).toEqual(
        reference?.events.map(({ id: _, callId: __, ...rest }) => rest),
      );
    }
    // Written again (as after a failure the store did not see), a folded batch changes nothing.
    const stored = await store.getCall('whole');
    await store.writeEvents(whole);
    expect(await store.getCall('whole')).toEqual(stored);
    expect((await store.getSession('fold-sess'))?.session.callCount).toBe(3);
  });

  it('writes a folded batch whose write failed again, whole, counting its calls once', async () => {
    const items = [
      ...callEvents({ id: 'fold-a', session: 'fold-doomed', start: 0 }),
      ...callEvents({ id: 'fold-b', session: 'fold-doomed', start: 5, outcome: 'open' }),
    ].map((e) => store.pack(e));
    await refusingInsertOf('fold-b', () =>
      expect(store.writeEvents(items)).rejects.toHaveProperty('message', 'disk full'),
    );
    expect(await store.getCall('fold-a')).toBeUndefined();
    // The call that was going on has its row taken: its next event is packed on its own.
    const late = store.pack(event('fold-b', 'call.completed', { status: 200, durationMs: 9 }, at(900)));
    expect(late).not.toBeInstanceOf(FoldedEvent);
    await store.writeEvents([...items, late]);
    expect((await store.getCall('fold-a'))?.call.status).toBe('completed');
    expect((await store.getCall('fold-b'))?.call).toMatchObject({ status: 'completed', durationMs: 9 });
    await store.writeEvents(items);
    expect((await store.getSession('fold-doomed'))?.session.callCount).toBe(2);
  });

  it('ignores gateway events, skips events of unknown calls, and keeps the first terminal state', async () => {
    await store.writeEvents([
      event(null, 'policy.config.updated', { version: 2, policies: [] }, at(0)),
      event('ghost', 'call.completed', { status: 200, durationMs: 5 }, at(1)),
      event('ghost', 'policy.regex-block.blocked', {}, at(1)),
    ]);
    expect(await store.getCall('ghost')).toBeUndefined();
    expect((await store.listCalls({ limit: 10 })).items).toEqual([]);

    // Out of order inside a batch: the start is applied first.
    const events = callEvents({ id: 'late-start', start: 10, outcome: 'aborted' });
    const started = events.shift();
    await store.writeEvents([...events, ...(started === undefined ? [] : [started])]);
    const call = (await store.getCall('late-start'))?.call;
    expect(call).toMatchObject({ status: 'aborted', error: 'client_aborted', sessionId: 'late-start' });
    await store.writeEvents([event('late-start', 'call.completed', { status: 200, durationMs: 1 }, at(900))]);
    expect((await store.getCall('late-start'))?.call.status).toBe('aborted');
  });

  describe('listing calls', () => {
    beforeEach(async () => {
      await store.writeEvents([
        ...callEvents({ id: 'a1', session: 'A', model: 'gpt-4o', start: 1_000, blocked: true }),
        ...callEvents({ id: 'a2', session: 'A', model: 'claude-sonnet', start: 2_000, outcome: 'failed' }),
        ...callEvents({ id: 'b1', session: 'B', model: 'gpt-4o', start: 3_000, outcome: 'aborted' }),
        ...callEvents({
          id: 'c1',
          model: 'gpt-4o',
          start: 4_000,
          outcome: 'open',
          prompt: 'Run the "DROP TABLE" now',
        }),
        ...callEvents({
          id: 'c2',
          model: 'mock-x',
          start: 5_000,
          stream: false,
          prompt: 'Compute 100% of_it',
        }),
      ]);
      await store.writeEvents([event('c2', 'policy.regex-block.blocked', { pattern: 'x' }, at(5_500))]);
    });

    const ids = async (filter: Omit<CallFilter, 'limit'>): Promise<string[]> =>
      (await store.listCalls({ limit: 50, ...filter })).items.map((c) => c.id);

    it('lists newest first without payloads', async () => {
      const page = await store.listCalls({ limit: 50 });
      expect(page.items.map((c) => c.id)).toEqual(['c2', 'c1', 'b1', 'a2', 'a1']);
      expect(page.nextCursor).toBeNull();
      expect(page.items[0]).not.toHaveProperty('originalRequest');
      expect(page.items[0]).toMatchObject({ stream: false, policyActions: ['regex-block.blocked'] });
    });

    it('filters by session, model, status, policy action and time', async () => {
      expect(await ids({ sessionId: 'A' })).toEqual(['a2', 'a1']);
      expect(await ids({ sessionId: 'c1' })).toEqual(['c1']);
      expect(await ids({ model: 'gpt-4o' })).toEqual(['c1', 'b1', 'a1']);
      expect(await ids({ status: 'completed' })).toEqual(['c2', 'a1']);
      expect(await ids({ status: 'failed' })).toEqual(['a2']);
      expect(await ids({ status: 'aborted' })).toEqual(['b1']);
      expect(await ids({ status: 'in_progress' })).toEqual(['c1']);
      expect(await ids({ policyAction: 'tool-call-judge.blocked' })).toEqual(['a1']);
      expect(await ids({ policyAction: 'blocked' })).toEqual(['c2', 'a1']);
      expect(await ids({ policyAction: 'regex-block.blocked' })).toEqual(['c2']);
      expect(await ids({ policyAction: 'allowed' })).toEqual([]);
      expect(await ids({ policyAction: 'judge.blocked' })).toEqual([]);
      expect(await ids({ from: at(2_000), to: at(4_000) })).toEqual(['c1', 'b1', 'a2']);
      expect(await ids({ from: '2026-01-01T00:00:03Z' })).toEqual(['c2', 'c1', 'b1']);
      expect(await ids({ model: 'gpt-4o', status: 'completed', sessionId: 'A' })).toEqual(['a1']);
      await expect(store.listCalls({ limit: 5, from: 'yesterday' })).rejects.toBeInstanceOf(
        InvalidQueryError,
      );
    });

    it('searches the requests and responses (case-insensitive, literal)', async () => {
      expect(await ids({ q: 'drop table' })).toEqual(['c1']);
      expect(await ids({ q: '"DROP TABLE"' })).toEqual(['c1']);
      expect(await ids({ q: 'rm -rf' })).toEqual(['c2', 'b1', 'a2', 'a1']);
      expect(await ids({ q: 'BLOCKED BY POLICY' })).toEqual(['a1']);
      expect(await ids({ q: '100%' })).toEqual(['c2']);
      expect(await ids({ q: '0%' })).toEqual(['c2']);
      // `_` and `%` in a query are literal, not wildcards.
      expect(await ids({ q: '1_0%' })).toEqual([]);
      expect(await ids({ q: '1%0' })).toEqual([]);
      expect(await ids({ q: 'of_it' })).toEqual(['c2']);
      expect(await ids({ q: 'no such text' })).toEqual([]);
      expect(await ids({ q: 'temp directory', sessionId: 'A' })).toEqual(['a2', 'a1']);
    });
  });

  it('paginates with a stable cursor over more than two pages, ties included', async () => {
    const batch: WardenEvent[] = [];
    // 25 calls; 12 of them start in the same millisecond.
    for (let i = 0; i < 25; i++) {
      const start = i < 12 ? 50_000 : i * 1_000;
      batch.push(...callEvents({ id: `p-${String(i).padStart(2, '0')}`, session: `s-${i % 4}`, start }));
    }
    await store.writeEvents(batch);
    const pages = await allPages(store, { limit: 4 });
    expect(pages).toHaveLength(7);
    const listed = pages.flat();
    expect(new Set(listed.map((c) => c.id)).size).toBe(25);
    const sorted = [...listed].sort((x, y) =>
      x.startedAt === y.startedAt ? (x.id < y.id ? 1 : -1) : x.startedAt < y.startedAt ? 1 : -1,
    );
    expect(listed.map((c) => c.id)).toEqual(sorted.map((c) => c.id));
    // Filters hold across pages.
    const filtered = (await allPages(store, { limit: 2, sessionId: 's-1' })).flat();
    expect(filtered.map((c) => c.id)).toEqual(listed.filter((c) => c.sessionId === 's-1').map((c) => c.id));
    await expect(store.listCalls({ limit: 4, cursor: 'bogus!' })).rejects.toBeInstanceOf(InvalidQueryError);
    await expect(
      store.listCalls({ limit: 4, cursor: Buffer.from('x|y').toString('base64url') }),
    ).rejects.toBeInstanceOf(InvalidQueryError);
  });

  it('groups calls into sessions', async () => {
    await store.writeEvents([
      ...callEvents({ id: 's1-a', session: 'S1', model: 'gpt-4o', start: 1_000 }),
      ...callEvents({ id: 's2-a', session: 'S2', model: 'gpt-4o', start: 1_500 }),
      ...callEvents({ id: 'solo', model: 'mock-x', start: 2_500, prompt: 'needle in a haystack' }),
    ]);
    // A later batch adds to a session that already exists.
    await store.writeEvents([
      ...callEvents({ id: 's1-c', session: 'S1', model: 'claude-sonnet', start: 3_000 }),
      ...callEvents({ id: 's1-b', session: 'S1', model: 'gpt-4o', start: 2_000 }),
    ]);
    const sessions = await store.listSessions({ limit: 10 });
    expect(sessions.items).toEqual([
      { id: 'S1', firstAt: at(1_000), lastAt: at(3_000), callCount: 3, models: ['gpt-4o', 'claude-sonnet'] },
      { id: 'solo', firstAt: at(2_500), lastAt: at(2_500), callCount: 1, models: ['mock-x'] },
      { id: 'S2', firstAt: at(1_500), lastAt: at(1_500), callCount: 1, models: ['gpt-4o'] },
    ]);
    const first = await store.listSessions({ limit: 2 });
    expect(first.items.map((s) => s.id)).toEqual(['S1', 'solo']);
    const second = await store.listSessions({ limit: 2, cursor: first.nextCursor ?? undefined });
    expect(second).toEqual({ items: [expect.objectContaining({ id: 'S2' })], nextCursor: null });
    expect((await store.listSessions({ limit: 10, q: 'NEEDLE' })).items.map((s) => s.id)).toEqual(['solo']);

    const detail = await store.getSession('S1');
    expect(detail?.calls.map((c) => c.id)).toEqual(['s1-a', 's1-b', 's1-c']);
    expect(detail?.calls[0]?.originalRequest).toBeDefined();
    expect(await store.getSession('nope')).toBeUndefined();
  });

  it('returns a call with its events ordered by time then id', async () => {
    const events = callEvents({ id: 'ordered', start: 0 });
    const shuffled = [events[5], events[2], events[0], events[6], events[1], events[4], events[3]].filter(
      (e): e is WardenEvent => e !== undefined,
    );
    await store.writeEvents(shuffled);
    // Two events in the same millisecond: ordered by id.
    const same = [
      event('ordered', 'policy.p.x', {}, at(2_000)),
      event('ordered', 'policy.p.y', {}, at(2_000)),
    ];
    await store.writeEvents(same);
    const found = await store.getCall('ordered');
    const expected = [...events.map((e) => e.id), ...same.map((e) => e.id).sort()];
    expect(found?.events.map((e) => e.id)).toEqual(expected);
    expect(await store.getCall('missing')).toBeUndefined();
  });

  it('purges old calls with their events, and fixes or removes their sessions', async () => {
    await store.writeEvents([
      ...callEvents({ id: 'old-1', session: 'mixed', model: 'old-model', start: 0 }),
      ...callEvents({ id: 'new-1', session: 'mixed', model: 'new-model', start: 10_000 }),
      ...callEvents({ id: 'old-2', session: 'gone', start: 1_000 }),
      ...callEvents({ id: 'new-2', session: 'kept', start: 20_000 }),
    ]);
    expect(await store.purgeOlderThan(new Date(T0 + 5_000))).toBe(2);
    expect(await store.getCall('old-1')).toBeUndefined();
    expect(await store.getCall('old-2')).toBeUndefined();
    expect(await store.getSession('gone')).toBeUndefined();
    expect((await store.getSession('mixed'))?.session).toEqual({
      id: 'mixed',
      firstAt: at(10_000),
      lastAt: at(10_000),
      callCount: 1,
      models: ['new-model'],
    });
    expect((await store.getSession('kept'))?.session.callCount).toBe(1);
    // Events of a purged call arriving late are skipped.
    await store.writeEvents([event('old-1', 'call.completed', { status: 200, durationMs: 3 }, at(6_000))]);
    expect(await store.getCall('old-1')).toBeUndefined();
    expect(await store.purgeOlderThan(new Date(T0 + 5_000))).toBe(0);
  });

  it('purges in chunks when there are many old calls', async () => {
    const batch: WardenEvent[] = [];
    for (let i = 0; i < 600; i++)
      batch.push(...callEvents({ id: `many-${i}`, session: 'big', start: i, outcome: 'open' }).slice(0, 1));
    await store.writeEvents(batch.slice(0, 300));
    await store.writeEvents(batch.slice(300));
    expect(await store.purgeOlderThan(new Date(T0 + 10_000))).toBe(600);
    expect(await store.getSession('big')).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// PostgreSQL down, coming back, and several replicas

/** A TCP proxy to the local PostgreSQL that can be stopped (connections cut) and started again. */
class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(readonly port: number) {}

  static async onFreePort(): Promise<TcpProxy> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const address = probe.address();
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    if (address === null || typeof address === 'string') throw new Error('no port');
    return new TcpProxy(address.port);
  }

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(5432, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe.each(backends.filter((b) => b.name !== 'sqlite memory'))(
  'migration EventsInCallRow on $name',
  (backend) => {
    it('moves the events of an existing history into their calls, and back', async () => {
      const db = await backend.create();
      const cfg = eventsConfig.parse(db.env);
      const postgres = backend.kind === 'postgres';
      if (postgres) await sql(`CREATE SCHEMA "${cfg.schema ?? 'public'}"`);
      const source = new DataSource({
        ...buildDataSourceOptions(cfg),
        entities: STORE_ENTITIES,
        migrations: [InitHistory1767225600000],
      });
      await source.initialize();
      const runner = source.createQueryRunner();
      try {
        await source.runMigrations();
        const table = (name: string): string =>
          postgres ? `"${cfg.schema ?? 'public'}"."${name}"` : `"${name}"`;
        const params = (n: number): string =>
          Array.from({ length: n }, (_, i) => (postgres ? `$${i + 1}` : '?')).join(', ');
        // A history written before the migration: two calls, one with events stored as rows, one without any.
        for (const id of ['legacy-1', 'legacy-2']) {
          await source.query(
            `INSERT INTO ${table('calls')} (id, session_id, client_format, model, stream, status, started_at, ` +
              `policy_actions) VALUES (${params(8)})`,
            [id, id, 'openai', 'm', postgres ? false : 0, 'completed', at(0), ''],
          );
        }
        const legacy = [
          ['e-2', 'request.received', at(1), { request: { $storedIn: 'call' } }],
          ['e-1', 'call.started', at(0), { model: 'm' }],
          ['e-3', 'policy.judge.allowed', at(1), { tool: 'bash' }],
        ] as const;
        for (const [id, type, time, data] of legacy) {
          await source.query(
            `INSERT INTO ${table('call_events')} (id, call_id, type, at, instance, data) VALUES (${params(6)})`,
            [id, 'legacy-1', type, time, 'old-host:1', JSON.stringify(data)],
          );
        }

        await new EventsInCallRow1796515200000().up(runner);
        const moved = await source.query<Array<{ id: string; events: string | null }>>(
          `SELECT id, events FROM ${table('calls')} ORDER BY id`,
        );
        expect(moved[1]?.events).toBeNull();
        expect(JSON.parse(moved[0]?.events ?? 'null')).toEqual([
          { id: 'e-1', type: 'call.started', at: at(0), instance: 'old-host:1', data: { model: 'm' } },
          { id: 'e-2', type: 'request.received', at: at(1), instance: 'old-host:1', data: legacy[0][3] },
          {
            id: 'e-3',
            type: 'policy.judge.allowed',
            at: at(1),
            instance: 'old-host:1',
            data: { tool: 'bash' },
          },
        ]);
        expect(await runner.hasTable('call_events')).toBe(false);

        await new EventsInCallRow1796515200000().down(runner);
        const back = await source.query<Array<{ id: string; call_id: string; data: string }>>(
          `SELECT id, call_id, data FROM ${table('call_events')} ORDER BY id`,
        );
        expect(back.map((r) => [r.id, r.call_id, JSON.parse(r.data) as unknown])).toEqual(
          [...legacy].sort().map(([id, , , data]) => [id, 'legacy-1', data]),
        );
        expect((await runner.getTable('calls'))?.findColumnByName('events')).toBeUndefined();
        expect((await runner.getTable('call_events'))?.foreignKeys.map((f) => f.name)).toEqual([
          'FK_call_events_call',
        ]);
      } finally {
        await runner.release();
        await source.destroy();
        await db.cleanup();
      }
    });
  },
);

describe('TypeOrmConversationStore resilience (PostgreSQL)', () => {
  it('fails fast, without hanging, when PostgreSQL is unreachable', async () => {
    const db = postgresDatabase('postgres://postgres@127.0.0.1:1/test');
    const started = Date.now();
    const opened = await open(db.env);
    try {
      expect(opened.store.isConnected).toBe(false);
      await expect(opened.store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(opened.store.writeEvents(callEvents({ start: 0 }))).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      await expect(opened.store.listCalls({ limit: 5 })).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(opened.store.ping()).rejects.toThrow(/not connected: .*ECONNREFUSED|connect/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await opened.close();
    }
  });

  it('connects in the background once PostgreSQL comes up, and rides out a later outage', async () => {
    const proxy = await TcpProxy.onFreePort();
    const db = postgresDatabase(`postgres://postgres@127.0.0.1:${proxy.port}/test`);
    const opened = await open(db.env);
    const { store } = opened;
    try {
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await proxy.start();
      await until(() => store.isConnected);
      await store.ping();
      await store.writeEvents(callEvents({ id: 'after-start', start: 0 }));
      expect((await store.getCall('after-start'))?.call.status).toBe('completed');

      await proxy.stop();
      const down = Date.now();
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.writeEvents(callEvents({ id: 'while-down', start: 10 }))).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      expect(Date.now() - down).toBeLessThan(8_000);

      await proxy.start();
      await until(() => succeeds(() => store.ping()));
      await store.writeEvents(callEvents({ id: 'after-outage', start: 20 }));
      expect((await store.listCalls({ limit: 10 })).items.map((c) => c.id)).toEqual([
        'after-outage',
        'after-start',
      ]);
    } finally {
      await opened.close();
      await proxy.stop();
      await db.cleanup();
    }
  });

  it('lets two replicas migrate and write the same sessions concurrently', async () => {
    const db = postgresDatabase();
    const [one, two] = await Promise.all([open(db.env), open(db.env)]);
    try {
      // The second replica waits for the first one's migration lock: under load that can outlast the 3 s startup wait.
      for (let i = 0; i < 200 && !(one?.store.isConnected && two?.store.isConnected); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(one?.store.isConnected && two?.store.isConnected).toBe(true);
      const batches = (offset: number): WardenEvent[] =>
        Array.from({ length: 20 }, (_, i) =>
          callEvents({ session: `shared-${i % 3}`, start: offset + i }),
        ).flat();
      await Promise.all([one?.store.writeEvents(batches(0)), two?.store.writeEvents(batches(100))]);
      const sessions = await one?.store.listSessions({ limit: 10 });
      expect(sessions?.items.map((s) => s.callCount).reduce((a, b) => a + b, 0)).toBe(40);
      const migrations = await sql(
        `SELECT count(*)::int AS n FROM "${db.env['DB_SCHEMA']}"."${MIGRATIONS_TABLE}"`,
      );
      expect(migrations).toEqual([{ n: STORE_MIGRATIONS.length }]);
    } finally {
      await one?.close();
      await two?.close();
      await db.cleanup();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Two connections to one SQLite file (the main thread and the writer thread of the built app)

describe('TypeOrmConversationStore on one SQLite file from two connections', () => {
  it('adds to sessions and patches calls stored by the other connection, and ignores its re-deliveries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-store-'));
    const env = { DATABASE_URL: `sqlite:${join(dir, 'history.db')}` };
    const a = await open(env);
    const b = await open(env);
    try {
      const first = callEvents({ id: 'two-1', session: 'shared', model: 'gpt-4o', start: 0, blocked: true });
      const second = callEvents({ id: 'two-2', session: 'shared', model: 'claude-sonnet', start: 5_000 });
      // A writes the start of call 1 and all of call 2; B finishes call 1 and re-delivers what A wrote.
      await a.store.writeEvents([...first.slice(0, 2), ...second]);
      await b.store.writeEvents([...first, ...second]);
      await a.store.writeEvents(first);
      const session = await b.store.getSession('shared');
      expect(session?.session).toEqual({
        id: 'shared',
        firstAt: at(0),
        lastAt: at(5_000),
        callCount: 2,
        models: ['gpt-4o', 'claude-sonnet'],
      });
      const call = await a.store.getCall('two-1');
      expect(call?.call.status).toBe('completed');
      expect(call?.call.policyActions).toEqual(['tool-call-judge.blocked']);
      expect(call?.call.finalResponse).not.toBeNull();
      expect(call?.events.map((e) => e.id)).toEqual(
        [...first]
          .sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : x.id < y.id ? -1 : 1))
          .map((e) => e.id),
      );
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('TypeOrmConversationStore on a SQLite file made before it chose its page size', () => {
  it("keeps the file's own page size and records calls in it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-store-'));
    const path = join(dir, 'history.db');
    // A history file as earlier versions made it: 4 KiB pages, in WAL mode already.
    const old = new DataSource({ type: 'better-sqlite3', database: path, enableWAL: true });
    await old.initialize();
    await old.query('CREATE TABLE "placeholder" ("id" integer)');
    await old.destroy();
    const opened = await open({ DATABASE_URL: `sqlite:${path}` });
    try {
      expect(await opened.source.query('PRAGMA page_size')).toEqual([{ page_size: 4096 }]);
      await opened.store.writeEvents(callEvents({ id: 'old-file', session: 's', model: 'gpt-4o', start: 0 }));
      expect((await opened.store.getCall('old-file'))?.call.status).toBe('completed');
    } finally {
      await opened.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The Nest module

describe('ConversationStoreModule', () => {
  async function boot(env: Env) {
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigRootModule.forRoot(env, [eventsConfig]), ConversationStoreModule.forRoot()],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return { app, store: app.get(ConversationStore) };
  }

  it('serves the store from the configured database', async () => {
    const { app, store } = await boot({ DATABASE_URL: 'sqlite::memory:', HISTORY_RETENTION_DAYS: '0' });
    try {
      expect(store).toBeInstanceOf(TypeOrmConversationStore);
      await store.ping();
      await store.writeEvents(callEvents({ id: 'nest-1', start: 0 }));
      expect((await store.listCalls({ limit: 5 })).items.map((c) => c.id)).toEqual(['nest-1']);
    } finally {
      await app.close();
    }
  });

  it('starts, and shuts down, while PostgreSQL is unreachable', async () => {
    const started = Date.now();
    const { app, store } = await boot({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' });
    try {
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      await app.close();
    }
  });
});
