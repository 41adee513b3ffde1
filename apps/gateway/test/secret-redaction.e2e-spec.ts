import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { startMockLlm, type MockLlmHandle } from '@warden/mock-llm';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { script } from './support/harness';
import { spawnGateway, type GatewayProcess } from './support/gateway-process';
import { freePort, startRedis, stopProcess } from './support/processes';
import { waitFor } from './support/wait';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** A distinctive random part: a canary is found by it even if cut, re-encoded or partly masked around it. */
function canary(prefix: string): { value: string; marker: string } {
  const marker = randomBytes(12).toString('hex');
  return { value: `${prefix}${marker}`, marker };
}

/**
 * Canary secrets sent through every path a credential can take (client keys in both headers, a passed-through
 * provider key, the gateway's own provider keys, the admin key, secrets pasted into prompts, invalid JSON, upstream
 * errors) must appear in no log line (debug level), no live event (Redis bus), no database row and no response
 * the gateway wrote.
 */
describe('secrets never leave the gateway', () => {
  const proxyKey = canary('wdn-proxy-');
  const adminKey = canary('wdn-admin-');
  const gatewayAnthropicKey = canary('sk-ant-api03-');
  const gatewayOpenaiKey = canary('sk-proj-');
  const passthroughKey = canary('sk-ant-api03-');
  const pasted = canary('sk-ant-api03-');
  const markers = [proxyKey, adminKey, gatewayAnthropicKey, gatewayOpenaiKey, passthroughKey, pasted].map(
    (c) => c.marker,
  );
  const schema = `test_canary_${randomBytes(4).toString('hex')}`;

  let mock: MockLlmHandle;
  let redis: ChildProcess | undefined;
  let gateway: GatewayProcess;
  let busWatcher: Redis;
  const busMessages: string[] = [];
  const responses: string[] = [];

  beforeAll(async () => {
    mock = await startMockLlm();
    const redisPort = await freePort();
    redis = startRedis(redisPort);
    const redisUrl = `redis://127.0.0.1:${redisPort}`;
    busWatcher = new Redis(redisUrl, { maxRetriesPerRequest: null });
    await waitFor(async () =>
      (await busWatcher.ping().catch(() => undefined)) === 'PONG' ? true : undefined,
    );
    await busWatcher.psubscribe('warden:*');
    busWatcher.on('pmessage', (_pattern: string, _channel: string, message: string) =>
      busMessages.push(message),
    );
    gateway = await spawnGateway({
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'json',
      DATABASE_URL: PG_URL,
      DB_SCHEMA: schema,
      REDIS_URL: redisUrl,
      PROXY_API_KEYS: proxyKey.value,
      AUTH_MODE: 'both',
      ADMIN_API_KEY: adminKey.value,
      ANTHROPIC_API_KEY: gatewayAnthropicKey.value,
      OPENAI_API_KEY: gatewayOpenaiKey.value,
      UPSTREAM_ANTHROPIC_BASE_URL: mock.url,
      UPSTREAM_OPENAI_BASE_URL: `${mock.url}/v1`,
    });
  }, 120_000);

  afterAll(async () => {
    await stopProcess(gateway.child, 'SIGKILL');
    busWatcher.disconnect();
    await stopProcess(redis, 'SIGKILL');
    await mock.close();
    const pg = new Client({ connectionString: PG_URL });
    await pg.connect();
    await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pg.end();
  });

  /** Sends a request and keeps everything the gateway answered (status line, headers, body). */
  async function send(path: string, init: RequestInit): Promise<Response> {
    const res = await fetch(`${gateway.url}${path}`, init);
    const body = await res.text();
    responses.push(`${res.status} ${JSON.stringify([...res.headers])} ${body}`);
    return new Response(body, { status: res.status, headers: res.headers });
  }

  function json(headers: Record<string, string>, body: unknown): RequestInit {
    return {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    };
  }

  const anthropicHeaders = (key: string): Record<string, string> => ({
    'x-api-key': key,
    'anthropic-version': '2023-06-01',
  });
  const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
  const prompt = `deploy with ${pasted.value} please ${script({ words: 4 })}`;

  it('keeps every canary out of logs, events, the database and responses', async () => {
    const calls: Array<[string, RequestInit, number]> = [
      // Client key as x-api-key and as a bearer, both APIs, streaming and not, same and cross format.
      [
        '/v1/messages',
        json(anthropicHeaders(proxyKey.value), {
          model: 'claude-test',
          max_tokens: 50,
          system: `the key is ${pasted.value}`,
          messages: [{ role: 'user', content: prompt }],
        }),
        200,
      ],
      [
        '/v1/messages',
        json(anthropicHeaders(proxyKey.value), {
          model: 'claude-test',
          max_tokens: 50,
          stream: true,
          metadata: { user_id: pasted.value },
          messages: [{ role: 'user', content: prompt }],
        }),
        200,
      ],
      [
        '/v1/chat/completions',
        json(bearer(proxyKey.value), { model: 'gpt-test', messages: [{ role: 'user', content: prompt }] }),
        200,
      ],
      [
        '/v1/chat/completions',
        json(bearer(proxyKey.value), {
          model: 'claude-test',
          stream: true,
          messages: [{ role: 'user', content: prompt }],
        }),
        200,
      ],
      [
        '/v1/messages/count_tokens',
        json(anthropicHeaders(proxyKey.value), {
          model: 'claude-test',
          messages: [{ role: 'user', content: prompt }],
        }),
        200,
      ],
      // A provider key passed through (AUTH_MODE=both), answered by an upstream 401 and by a success.
      [
        '/v1/messages',
        json(anthropicHeaders(passthroughKey.value), {
          model: 'claude-test',
          max_tokens: 50,
          messages: [{ role: 'user', content: script({ status: 401, errorType: 'authentication_error' }) }],
        }),
        401,
      ],
      [
        '/v1/chat/completions',
        json(bearer(passthroughKey.value), {
          model: 'gpt-test',
          messages: [{ role: 'user', content: prompt }],
        }),
        200,
      ],
      // Invalid JSON and a bad field, with the secret in the broken body.
      [
        '/v1/chat/completions',
        json(bearer(proxyKey.value), `{"model":"gpt-test","messages":[${pasted.value}]}`),
        400,
      ],
      [
        '/v1/messages',
        json(anthropicHeaders(proxyKey.value), { model: pasted.value, max_tokens: 5, messages: [] }),
        404,
      ],
      // An upstream that fails mid-stream.
      [
        '/v1/messages',
        json(anthropicHeaders(proxyKey.value), {
          model: 'claude-test',
          max_tokens: 50,
          stream: true,
          messages: [
            { role: 'user', content: `${pasted.value} ${script({ words: 10, resetAfterChunks: 2 })}` },
          ],
        }),
        200,
      ],
    ];
    for (const [path, init, status] of calls) {
      const res = await send(path, init);
      expect({ path, status: res.status }).toEqual({ path, status });
    }
    // A large request, indented, whose first `user_id` is a secret that a duplicate key overrides: the history keeps
    // the request as parsed, without it (replicas.e2e-spec checks the compiled app, whose writer thread gets bytes).
    const longPrompt = `${'a long conversation '.repeat(2000)}${script({ words: 3 })}`;
    const bigBody =
      `{\n  "model": "claude-test",\n  "max_tokens": 50,\n` +
      `  "metadata": {"user_id": "${pasted.value}", "user_id": "last-wins"},\n` +
      `  "messages": [{"role": "user", "content": ${JSON.stringify(longPrompt)}}]\n}`;
    const big = await send('/v1/messages', json(anthropicHeaders(proxyKey.value), bigBody));
    expect(big.status).toBe(200);
    const bigId = big.headers.get('x-warden-call-id');
    const stored = await waitFor(async () => {
      const res = await send(`/api/calls/${bigId}`, { headers: bearer(adminKey.value) });
      if (res.status !== 200) return undefined;
      const view = (await res.json()) as { call: { originalRequest: unknown } };
      return view.call.originalRequest ?? undefined;
    });
    expect(stored).toEqual(JSON.parse(bigBody));
    expect(JSON.stringify(stored)).toContain('last-wins');
    // Admin surface: a wrong admin key (the client key), the right one on history and the live feed.
    expect((await send('/api/calls', { headers: bearer(proxyKey.value) })).status).toBe(401);
    expect((await send('/api/calls', { headers: bearer(adminKey.value) })).status).toBe(200);
    expect((await send('/v1/models', { headers: bearer(proxyKey.value) })).status).toBe(200);
    expect((await send('/api/policy', { headers: { 'x-api-key': adminKey.value } })).status).toBe(200);

    // The credentials did go where they belong: upstream, in the provider's header.
    const upstreamKeys = mock.requests.map((r) =>
      String(r.headers['x-api-key'] ?? r.headers.authorization ?? ''),
    );
    for (const key of [gatewayAnthropicKey, gatewayOpenaiKey, passthroughKey]) {
      expect(upstreamKeys.some((k) => k.includes(key.value))).toBe(true);
    }

    // Everything is written: stop the process gracefully (events flushed), then search every store.
    const exited = once(gateway.child, 'exit');
    gateway.child.kill('SIGTERM');
    await exited;

    const pg = new Client({ connectionString: PG_URL });
    await pg.connect();
    const rows: string[] = [];
    try {
      const tables = await pg.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
        [schema],
      );
      expect(tables.rows.length).toBeGreaterThan(0);
      for (const { table_name } of tables.rows) {
        const result = await pg.query<{ row: string }>(
          `SELECT t::text AS row FROM "${schema}"."${table_name}" t`,
        );
        rows.push(...result.rows.map((r) => r.row));
      }
    } finally {
      await pg.end();
    }

    const logs = gateway.output();
    // The checks would pass vacuously on empty sources: each must hold what this test sent.
    expect(logs.split('\n').length).toBeGreaterThan(10);
    expect(busMessages.length).toBeGreaterThan(10);
    expect(rows.join('\n')).toContain('deploy with');
    expect(rows.join('\n')).toContain('[redacted]');
    const sources: Record<string, string[]> = {
      logs: [logs],
      events: busMessages,
      database: rows,
      responses,
    };
    const leaks = markers.flatMap((marker) =>
      Object.entries(sources)
        .filter(([, texts]) => texts.some((text) => text.includes(marker)))
        .map(([where]) => `${marker} in ${where}`),
    );
    expect(leaks).toEqual([]);
  }, 120_000);
});
