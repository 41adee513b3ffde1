import { randomBytes } from 'node:crypto';
import { EventBus, RedisEventBus, TrackedEventPublisher } from '@warden/events';
import { startMockLlm, type MockLlmHandle } from '@warden/mock-llm';
import { Client } from 'pg';
import {
  postMessages,
  script,
  startTestGateway,
  storedCall,
  type StoredCallView,
  type TestGateway,
} from './support/harness';
import { writePolicyConfig } from './support/test-plugins';
import { freePort, startRedis, stopProcess } from './support/processes';
import { waitFor } from './support/wait';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Complete, with its final response recorded. */
const answered = (view: StoredCallView): boolean =>
  view.call.status !== 'in_progress' && view.call.finalResponse !== null;

async function streamedBlockedCall(gw: TestGateway): Promise<string> {
  const tools = [
    { name: 'bash', arguments: { command: 'rm -rf ~' } },
    { name: 'bash', arguments: { command: 'ls' } },
  ];
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      'x-claude-code-session-id': 'session-history-1',
      authorization: 'Bearer sk-ant-canary-should-never-be-stored-0123456789',
    },
    body: JSON.stringify({
      model: 'claude-test',
      max_tokens: 200,
      stream: true,
      messages: [{ role: 'user', content: script({ text: 'Cleaning up.', tools }) }],
    }),
  });
  await res.text();
  const id = res.headers.get('x-warden-call-id');
  if (id === null) throw new Error('no call id');
  return id;
}

function judgeConfig(mock: MockLlmHandle): string {
  return writePolicyConfig([
    { type: 'tool-call-judge', options: { model: 'mock-judge', baseUrl: `${mock.url}/v1` } },
  ]);
}

const DATABASES: Array<[string, () => Record<string, string>]> = [
  ['SQLite', () => ({ DATABASE_URL: 'sqlite::memory:' })],
  ['PostgreSQL', () => ({ DATABASE_URL: PG_URL, DB_SCHEMA: `test_e2e_${randomBytes(4).toString('hex')}` })],
];

describe.each(DATABASES)('history on %s', (_name, database) => {
  let mock: MockLlmHandle;
  let gw: TestGateway;
  let schema: string | undefined;

  beforeAll(async () => {
    mock = await startMockLlm();
    const env = database();
    schema = env.DB_SCHEMA;
    gw = await startTestGateway({ ...env, POLICY_CONFIG: judgeConfig(mock) }, mock);
  });
  afterAll(async () => {
    await gw.close();
    await mock.close();
    if (schema !== undefined) {
      const pg = new Client({ connectionString: PG_URL });
      await pg.connect();
      await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pg.end();
    }
  });

  it('keeps a streamed call with a blocked tool call: original and final, the decision, the session', async () => {
    const id = await streamedBlockedCall(gw);
    const { call, events } = await storedCall(gw, id, answered);
    expect(call).toMatchObject({
      id,
      sessionId: 'session-history-1',
      model: 'claude-test',
      stream: true,
      status: 'completed',
    });
    expect(call.policyActions).toEqual(
      expect.arrayContaining(['tool-call-judge.blocked', 'tool-call-judge.allowed']),
    );
    const original = call.originalResponse as { content: Array<{ type: string }> };
    const final = call.finalResponse as { content: Array<{ type: string; text?: string }> };
    expect(original.content.map((b) => b.type)).toEqual(['text', 'tool_use', 'tool_use']);
    expect(final.content.map((b) => b.type)).toEqual(['text', 'text', 'tool_use']);
    expect(final.content[1]?.text).toMatch(/blocked/i);
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'call.started',
        'request.received',
        'request.forwarded',
        'response.completed',
        'call.completed',
      ]),
    );
    expect(JSON.stringify({ call, events })).not.toContain('sk-ant-canary');
    const sessions = (await (await fetch(`${gw.url}/api/sessions`)).json()) as {
      items: Array<{ id: string }>;
    };
    expect(sessions.items.map((s) => s.id)).toContain('session-history-1');
  });

  it('records a stream that an upstream error event ended as failed, with the upstream message', async () => {
    const res = await postMessages(gw, {
      model: 'claude-test',
      max_tokens: 200,
      stream: true,
      messages: [
        { role: 'user', content: script({ words: 20, errorAfterChunks: 3, errorMessage: 'upstream broke' }) },
      ],
    });
    expect(await res.text()).toContain('event: error');
    const { call } = await storedCall(gw, res.headers.get('x-warden-call-id') ?? '');
    expect(call.status).toBe('failed');
    expect(call.error).toContain('upstream broke');
  });

  it('lists calls with filters and finds them by text', async () => {
    await streamedBlockedCall(gw);
    const blocked = await waitFor(async () => {
      const res = await fetch(`${gw.url}/api/calls?policyAction=blocked&limit=1`);
      const page = (await res.json()) as { items: Array<{ id: string }>; nextCursor: string | null };
      return page.items.length === 1 && page.nextCursor !== null ? page : undefined;
    });
    const next = (await (
      await fetch(
        `${gw.url}/api/calls?policyAction=blocked&limit=1&cursor=${encodeURIComponent(blocked.nextCursor ?? '')}`,
      )
    ).json()) as {
      items: Array<{ id: string }>;
    };
    expect(next.items[0]?.id).not.toBe(blocked.items[0]?.id);
    const found = (await (await fetch(`${gw.url}/api/calls?q=cleaning%20up`)).json()) as { items: unknown[] };
    expect(found.items.length).toBeGreaterThanOrEqual(2);
  });
});

async function call(gw: TestGateway, stream: boolean): Promise<number> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'gpt-test',
      stream,
      messages: [{ role: 'user', content: script({ words: 5 }) }],
    }),
  });
  const text = await res.text();
  return res.status === 200 && (!stream || text.includes('[DONE]')) ? 200 : res.status;
}

describe('dependencies going away never fail calls', () => {
  it('keeps serving while Redis is killed and restarted, and the live feed recovers', async () => {
    const port = await freePort();
    let redis = startRedis(port);
    const gw = await startTestGateway({ REDIS_URL: `redis://127.0.0.1:${port}` });
    // Another replica's view: a bus with its own identity sees this gateway's events only through Redis.
    const observer = new RedisEventBus({ url: `redis://127.0.0.1:${port}`, instanceId: 'observer-replica' });
    const seen: string[] = [];
    const unsubscribe = observer.subscribe((e) => seen.push(e.type));
    try {
      await waitFor(() => (observer.status().connected ? true : undefined));
      expect(await call(gw, false)).toBe(200);
      await waitFor(() => (seen.includes('call.completed') ? true : undefined));
      await stopProcess(redis, 'SIGKILL');
      for (let i = 0; i < 5; i++) expect(await call(gw, i % 2 === 0)).toBe(200);
      await waitFor(() => (gw.app.get(EventBus).status().unsent > 0 ? true : undefined));
      seen.length = 0;
      redis = startRedis(port);
      await waitFor(
        () => (observer.status().connected && gw.app.get(EventBus).status().connected ? true : undefined),
        20_000,
      );
      expect(await call(gw, true)).toBe(200);
      await waitFor(() => (seen.includes('call.completed') ? true : undefined));
    } finally {
      unsubscribe();
      await observer.close();
      await gw.close();
      await stopProcess(redis, 'SIGKILL');
    }
  }, 60_000);

  it('keeps serving while PostgreSQL is unreachable, holding events in the bounded queue', async () => {
    const gw = await startTestGateway({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test',
      EVENT_QUEUE_MAX: '50',
    });
    try {
      for (let i = 0; i < 20; i++) expect(await call(gw, i % 2 === 0)).toBe(200);
      const stats = await waitFor(() => {
        const s = gw.app.get(TrackedEventPublisher).stats();
        return s.dropped > 0 && s.storeFailures > 0 ? s : undefined;
      });
      expect(stats.queued).toBeLessThanOrEqual(50);
      const calls = await fetch(`${gw.url}/api/calls`);
      expect(calls.status).toBe(503);
    } finally {
      await gw.close();
    }
  }, 60_000);
});

describe('health reports impaired dependencies as degraded', () => {
  it('is ok with its database, degraded without it, and always live', async () => {
    const healthy = await startTestGateway();
    const broken = await startTestGateway({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' });
    try {
      expect(await (await fetch(`${healthy.url}/health`)).json()).toMatchObject({
        status: 'ok',
        checks: { database: { status: 'up' } },
      });
      const res = await fetch(`${broken.url}/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        status: 'degraded',
        checks: { database: { status: 'degraded', reachable: false } },
      });
      expect((await fetch(`${broken.url}/health/live`)).status).toBe(200);
    } finally {
      await healthy.close();
      await broken.close();
    }
  });
});
