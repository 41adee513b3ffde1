import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { startMockLlm, type MockLlmHandle } from '@warden/mock-llm';
import { Client } from 'pg';
import { gatewayStartArgs } from '../../../bench/start-command';
import { script } from './support/harness';
import { freePort, startRedis, stopProcess } from './support/processes';
import { waitFor } from './support/wait';

const ROOT = join(__dirname, '..', '..', '..');
const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** The compiled app, started as `npm start` does (the history is written on a thread of its own there). */
beforeAll(async () => {
  await promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT, timeout: 180_000 });
}, 240_000);

function startCompiled(env: Record<string, string>, port: number): ChildProcess {
  return spawn(process.execPath, gatewayStartArgs(ROOT), {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'error', ...env },
  });
}

async function ready(url: string): Promise<void> {
  await waitFor(
    async () => ((await fetch(`${url}/health/live`).catch(() => undefined))?.ok ? true : undefined),
    30_000,
  );
}

/** A TCP proxy to 127.0.0.1:`target` that connects each client through only after `delayMs` (what it sent waits). */
async function delayedProxy(target: number, delayMs: number): Promise<{ port: number; close(): void }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('error', () => undefined);
    const timer = setTimeout(() => {
      const upstream = connect(target, '127.0.0.1');
      sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream).pipe(client);
    }, delayMs);
    client.on('close', () => clearTimeout(timer));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    close: () => {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * Two gateway processes sharing one PostgreSQL schema and one Redis, like replicas behind a load balancer.
 */
describe('two replicas sharing PostgreSQL and Redis', () => {
  const schema = `test_replicas_${randomBytes(4).toString('hex')}`;
  let mock: MockLlmHandle;
  let redis: ChildProcess | undefined;
  const gateways: ChildProcess[] = [];
  const urls: string[] = [];
  let redisPort = 0;

  /** Starts one more replica on the shared PostgreSQL schema and Redis; returns its URL once it is live. */
  async function startReplica(redisAt = redisPort): Promise<string> {
    const port = await freePort();
    gateways.push(
      startCompiled(
        {
          DATABASE_URL: PG_URL,
          DB_SCHEMA: schema,
          REDIS_URL: `redis://127.0.0.1:${redisAt}`,
          UPSTREAM_OPENAI_BASE_URL: `${mock.url}/v1`,
          UPSTREAM_ANTHROPIC_BASE_URL: mock.url,
          POLICY_CONFIG: join(ROOT, 'config', 'policy.yaml'),
        },
        port,
      ),
    );
    const url = `http://127.0.0.1:${port}`;
    await ready(url);
    return url;
  }

  beforeAll(async () => {
    mock = await startMockLlm();
    redisPort = await freePort();
    redis = startRedis(redisPort);
    urls.push(...(await Promise.all([startReplica(), startReplica()])));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(gateways.map((g) => stopProcess(g)));
    await stopProcess(redis, 'SIGKILL');
    await mock.close();
    const pg = new Client({ connectionString: PG_URL });
    await pg.connect();
    await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pg.end();
  });

  it('shows a call made on one replica in the live feed of the other, and in its history', async () => {
    const [a, b] = urls as [string, string];
    const feed = new AbortController();
    const res = await fetch(`${b}/api/events/stream?type=call.`, { signal: feed.signal });
    const reader = (res.body as ReadableStream<Uint8Array> | null)?.getReader();
    if (reader === undefined) throw new Error('no feed body');
    const call = await fetch(`${a}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-test',
        messages: [{ role: 'user', content: script({ words: 3 }) }],
      }),
    });
    expect(call.status).toBe(200);
    const callId = call.headers.get('x-warden-call-id') ?? '';
    let text = '';
    const decoder = new TextDecoder();
    while (!text.includes(callId) || !text.includes('call.completed')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    feed.abort();
    expect(text).toContain(callId);
    // Written by A's history writer thread (the compiled app writes on a thread of its own), read back on B.
    const stored = await waitFor(async () => {
      const r = await fetch(`${b}/api/calls/${callId}`);
      if (r.status !== 200) return undefined;
      const view = (await r.json()) as { call: { status: string; finalResponse: unknown } };
      return view.call.status === 'completed' ? view : undefined;
    });
    expect(stored.call.finalResponse).toMatchObject({ content: [{ type: 'text' }] });
  });

  it('applies a policy swap made on one replica to the other', async () => {
    const [a, b] = urls as [string, string];
    const swap = await fetch(`${a}/api/policy`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        policies: [{ type: 'string-replace', options: { rules: [{ match: 'apple', replace: 'pear' }] } }],
      }),
    });
    expect(swap.status).toBe(200);
    expect(await swap.json()).toMatchObject({ replicated: true });
    await waitFor(async () => {
      const active = (await (await fetch(`${b}/api/policy`)).json()) as { policies: Array<{ name: string }> };
      return active.policies.some((p) => p.name === 'string-replace') ? true : undefined;
    });
    const res = await fetch(`${b}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'claude-test',
        max_tokens: 50,
        messages: [{ role: 'user', content: script({ text: 'an apple a day' }) }],
      }),
    });
    expect(await res.json()).toMatchObject({ content: [{ type: 'text', text: 'an pear a day' }] });
  });

  it('leaves both replicas with the same chain after swaps made on each at once', async () => {
    const chainOf = (fruit: string): unknown => ({
      policies: [{ type: 'string-replace', options: { rules: [{ match: 'apple', replace: fruit }] } }],
    });
    const put = (url: string, fruit: string): Promise<Response> =>
      fetch(`${url}/api/policy`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(chainOf(fruit)),
      });
    const active = async (url: string): Promise<unknown> =>
      ((await (await fetch(`${url}/api/policy`)).json()) as { config: unknown }).config;
    for (let round = 0; round < 5; round++) {
      const [onA, onB] = await Promise.all(urls.map((url, i) => put(url, `fruit-${round}-${i}`)));
      // A swap overtaken by the other replica's is refused (409); at least the newer one is made.
      const statuses = [onA?.status, onB?.status];
      expect(statuses).toContain(200);
      for (const status of statuses) expect([200, 409]).toContain(status);
      const settled = await waitFor(async () => {
        const [a, b] = await Promise.all(urls.map(active));
        return JSON.stringify(a) === JSON.stringify(b) ? a : undefined;
      });
      expect([chainOf(`fruit-${round}-0`), chainOf(`fruit-${round}-1`)]).toContainEqual(settled);
    }
  });

  it('gives a replica started after a swap the chain the others run', async () => {
    const [a] = urls as [string];
    const chain = {
      policies: [{ type: 'string-replace', options: { rules: [{ match: 'apple', replace: 'kiwi' }] } }],
    };
    const swap = await fetch(`${a}/api/policy`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chain),
    });
    expect(swap.status).toBe(200);
    // Its Redis connections come up only after the rest of its startup (a slow network): it must not serve
    // before it has read the kept swap, so the first thing it answers already runs the swapped chain.
    const slowRedis = await delayedProxy(redisPort, 1_500);
    try {
      const late = await startReplica(slowRedis.port);
      const active = (await (await fetch(`${late}/api/policy`)).json()) as { config: unknown };
      expect(active.config).toEqual(chain);
    } finally {
      slowRedis.close();
    }
  }, 60_000);
});

/** One compiled gateway on the shipped defaults: the SQLite history file, written by its writer thread. */
describe('the compiled gateway on its defaults (SQLite history)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-compiled-'));
  let mock: MockLlmHandle;
  let gateway: ChildProcess | undefined;
  let url = '';

  beforeAll(async () => {
    mock = await startMockLlm();
    const port = await freePort();
    gateway = startCompiled(
      {
        DATABASE_URL: `sqlite:${join(dir, 'history.db')}`,
        UPSTREAM_OPENAI_BASE_URL: `${mock.url}/v1`,
        UPSTREAM_ANTHROPIC_BASE_URL: mock.url,
      },
      port,
    );
    url = `http://127.0.0.1:${port}`;
    await ready(url);
  }, 60_000);

  afterAll(async () => {
    await stopProcess(gateway);
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The payload columns of a call as the database holds them, once its response is written. */
  async function storedColumns(id: string): Promise<{ original_request: string; final_request: string }> {
    const db = new Database(join(dir, 'history.db'), { readonly: true, fileMustExist: true });
    try {
      return await waitFor(() => {
        const row = db
          .prepare('SELECT original_request, final_request, original_response FROM calls WHERE id = ?')
          .get(id) as
          { original_request: string; final_request: string; original_response: string | null } | undefined;
        return row?.original_response ? row : undefined;
      });
    } finally {
      db.close();
    }
  }

  it('stores a large request as parsed, not as received, and a converted one as sent upstream', async () => {
    // Large enough to travel to the writer thread as the bytes received, indented, with a secret that a duplicate
    // key overrides: the column holds the request as parsed (JSON.stringify of it), so never the secret.
    const secret = `sk-ant-api03-${randomBytes(12).toString('hex')}`;
    const conversation = `${'a long conversation '.repeat(2000)}${script({ words: 3 })}`;
    const body =
      `{\n  "model": "claude-test",\n  "max_tokens": 50,\n` +
      `  "metadata": {"user_id": "${secret}", "user_id": "last-wins"},\n` +
      `  "messages": [{"role": "user", "content": ${JSON.stringify(conversation)}}]\n}`;
    const res = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body,
    });
    expect(res.status).toBe(200);
    await res.text();
    const received = await storedColumns(res.headers.get('x-warden-call-id') ?? '');
    expect(received.original_request).toBe(JSON.stringify(JSON.parse(body)));
    expect(received.original_request).not.toContain(secret);
    // An OpenAI request for an Anthropic model: the converted request is stored as the upstream got it.
    const converted = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-test', messages: [{ role: 'user', content: conversation }] }),
    });
    expect(converted.status).toBe(200);
    await converted.text();
    const forwarded = await storedColumns(converted.headers.get('x-warden-call-id') ?? '');
    expect(forwarded.final_request).toBe(JSON.stringify(mock.requests.at(-1)?.body));
    const upstreamRequest = JSON.parse(forwarded.final_request) as { model?: unknown; max_tokens?: unknown };
    expect(upstreamRequest.model).toBe('claude-test');
    expect(typeof upstreamRequest.max_tokens).toBe('number');
  });

  it('records every call of a burst, each with its events in order', async () => {
    // 120 calls, half of them streamed, publish some 600 events, written by the writer thread in a few batches.
    const ids: string[] = [];
    for (let wave = 0; wave < 12; wave++) {
      const calls = Array.from({ length: 10 }, async (_, i) => {
        const stream = i % 2 === 0;
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'gpt-test',
            stream,
            messages: [{ role: 'user', content: script({ words: 4 }) + ` wave ${wave} call ${i}` }],
          }),
        });
        expect(res.status).toBe(200);
        await res.text();
        return res.headers.get('x-warden-call-id') ?? '';
      });
      ids.push(...(await Promise.all(calls)));
    }
    expect(new Set(ids).size).toBe(120);
    const listed = await waitFor(async () => {
      const page = (await (await fetch(`${url}/api/calls?limit=200&status=completed`)).json()) as {
        items: Array<{ id: string }>;
      };
      // Only this burst's calls (another test of this gateway makes calls of its own).
      const burst = page.items.filter((c) => ids.includes(c.id));
      return burst.length === ids.length ? burst : undefined;
    }, 20_000);
    expect(listed.map((c) => c.id).sort()).toEqual([...ids].sort());
    for (const [n, id] of ids.entries()) {
      const view = (await (await fetch(`${url}/api/calls/${id}`)).json()) as {
        call: { originalRequest: { messages: Array<{ content: string }> }; stream: boolean };
        events: Array<{ type: string; callId: string }>;
      };
      const stream = n % 2 === 0;
      expect(view.call.stream).toBe(stream);
      expect(view.call.originalRequest.messages[0]?.content).toContain(
        `wave ${Math.floor(n / 10)} call ${n % 10}`,
      );
      expect(view.events.map((e) => e.type)).toEqual([
        'call.started',
        'request.received',
        'request.forwarded',
        ...(stream ? ['response.first_token'] : []),
        'response.completed',
        'call.completed',
      ]);
      expect(view.events.every((e) => e.callId === id)).toBe(true);
    }
  });
});
