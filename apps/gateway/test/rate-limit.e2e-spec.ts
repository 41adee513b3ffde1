import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { script, startTestGateway, type TestGateway } from './support/harness';
import { freePort, startRedis, stopProcess } from './support/processes';
import { waitFor } from './support/wait';

/** The id the gateway gives a client key (ClientAuthService): the first 12 hex characters of its SHA-256. */
function keyIdOf(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

function newKey(name: string): string {
  return `sk-warden-${name}-${randomBytes(6).toString('hex')}`;
}

async function startPrivateRedis(port: number): Promise<{ process: ChildProcess; client: Redis }> {
  const child = startRedis(port);
  const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
  await waitFor(async () => ((await client.ping().catch(() => undefined)) === 'PONG' ? true : undefined));
  return { process: child, client };
}

function chat(url: string, key: string, extra: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({
      model: 'gpt-test',
      messages: [{ role: 'user', content: script({ words: 2 }) }],
      ...extra,
    }),
  });
}

function limitHeaders(res: Response): Record<string, string | null> {
  return {
    limit: res.headers.get('x-ratelimit-limit'),
    remaining: res.headers.get('x-ratelimit-remaining'),
    reset: res.headers.get('x-ratelimit-reset'),
  };
}

describe('rate limiting (token bucket in Redis)', () => {
  const openaiKey = newKey('openai');
  const anthropicKey = newKey('anthropic');
  const streamKey = newKey('stream');
  const retryKey = newKey('retry');
  const vipKey = newKey('vip');
  const prefix = `test:rl:${randomBytes(4).toString('hex')}:`;
  let redis: { process: ChildProcess; client: Redis };
  let gw: TestGateway;

  beforeAll(async () => {
    redis = await startPrivateRedis(await freePort());
    gw = await startTestGateway({
      PROXY_API_KEYS: [openaiKey, anthropicKey, streamKey, retryKey, vipKey].join(','),
      ADMIN_API_KEY: 'admin-key-for-rate-limit-tests',
      REDIS_URL: `redis://127.0.0.1:${redis.client.options.port}`,
      // One token every 2 s: a few quick calls stay well inside one interval, even on a busy machine.
      RATE_LIMIT_RPM: '30',
      RATE_LIMIT_BURST: '3',
      RATE_LIMIT_OVERRIDES: `${keyIdOf(vipKey)}=12:6`,
      RATE_LIMIT_REDIS_PREFIX: prefix,
    });
  });
  afterAll(async () => {
    await gw.close();
    redis.client.disconnect();
    await stopProcess(redis.process, 'SIGKILL');
  });

  it('sets X-RateLimit headers on successful calls, streaming included, and keeps buckets in Redis', async () => {
    const first = await chat(gw.url, streamKey);
    expect(first.status).toBe(200);
    await first.text();
    // 3 tokens, one spent; full again one interval (2 s) later.
    expect(limitHeaders(first)).toEqual({ limit: '3', remaining: '2', reset: '2' });
    const stream = await chat(gw.url, streamKey, { stream: true });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    expect(limitHeaders(stream)).toMatchObject({ limit: '3', remaining: '1' });
    expect(['3', '4']).toContain(stream.headers.get('x-ratelimit-reset'));
    expect(await stream.text()).toContain('[DONE]');
    expect(await redis.client.exists(`${prefix}llm:key:${keyIdOf(streamKey)}`)).toBe(1);
  });

  it('answers an OpenAI client with 429 in the OpenAI error shape, Retry-After and the headers', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: openaiKey, maxRetries: 0 });
    const ask = (): Promise<unknown> =>
      client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });
    for (let i = 0; i < 3; i++) await ask();
    const error = await ask().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(429);
    expect(apiError.type).toBe('rate_limit_error');
    expect(apiError.code).toBe('rate_limit_exceeded');
    expect(['1', '2']).toContain(apiError.headers?.get('retry-after'));
    expect(apiError.headers?.get('x-ratelimit-limit')).toBe('3');
    expect(apiError.headers?.get('x-ratelimit-remaining')).toBe('0');

    const raw = await chat(gw.url, openaiKey);
    expect(raw.status).toBe(429);
    const body = (await raw.json()) as { error: Record<string, unknown> };
    expect(body).toEqual({
      error: {
        message: expect.stringContaining('30 requests per minute') as unknown,
        type: 'rate_limit_error',
        param: null,
        code: 'rate_limit_exceeded',
      },
    });
  });

  it('answers an Anthropic client with 429 in the Anthropic error shape', async () => {
    const client = new Anthropic({ baseURL: gw.url, apiKey: anthropicKey, maxRetries: 0 });
    const ask = (): Promise<unknown> =>
      client.messages.create({
        model: 'claude-test',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      });
    for (let i = 0; i < 3; i++) await ask();
    const error = await ask().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Anthropic.APIError);
    const apiError = error as InstanceType<typeof Anthropic.APIError>;
    expect(apiError.status).toBe(429);
    expect(apiError.error).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: expect.stringMatching(/retry in [12] s$/) as unknown },
    });
    expect(['1', '2']).toContain(apiError.headers?.get('retry-after'));
  });

  it('admits the client again once Retry-After has passed', async () => {
    let rejected: Response | undefined;
    for (let i = 0; i < 4 && rejected === undefined; i++) {
      const res = await chat(gw.url, retryKey);
      await res.text();
      if (res.status === 429) rejected = res;
    }
    expect(rejected?.status).toBe(429);
    const wait = Number(rejected?.headers.get('retry-after'));
    expect(Number.isInteger(wait) && wait >= 1).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    const again = await chat(gw.url, retryKey);
    expect(again.status).toBe(200);
    await again.text();
  });

  it("applies a key's override instead of the default", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await chat(gw.url, vipKey);
      await res.text();
      statuses.push(res.status);
      if (i === 0) expect(limitHeaders(res)).toEqual({ limit: '6', remaining: '5', reset: '5' });
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429]);
  });

  it('limits a Nest admin route by client address, in the API error shape, and never the health probes', async () => {
    const admin = { authorization: 'Bearer admin-key-for-rate-limit-tests' };
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await fetch(`${gw.url}/api/policy`, { headers: admin });
      statuses.push(last.status);
      if (i === 0) expect(limitHeaders(last)).toEqual({ limit: '3', remaining: '2', reset: '2' });
      if (i < 3) await last.text();
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(['1', '2']).toContain(last?.headers.get('retry-after'));
    expect(limitHeaders(last as Response)).toMatchObject({ limit: '3', remaining: '0' });
    expect(['5', '6']).toContain(last?.headers.get('x-ratelimit-reset'));
    expect(await last?.json()).toMatchObject({
      error: { type: 'rate_limit_error', code: 'rate_limit_exceeded' },
    });
    expect(await redis.client.exists(`${prefix}api:ip:127.0.0.1`)).toBe(1);
    for (let i = 0; i < 5; i++) {
      const health = await fetch(`${gw.url}/health/live`);
      expect(health.status).toBe(200);
      expect(health.headers.get('x-ratelimit-limit')).toBeNull();
      await health.text();
    }
  });

  it('counts rejected requests by route kind in /metrics', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const count = (route: string): number =>
      Number(
        new RegExp(`^warden_rate_limited_total\\{route="${route}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0,
      );
    expect(count('chat')).toBeGreaterThanOrEqual(3);
    expect(count('messages')).toBe(1);
    expect(count('api')).toBe(1);
    expect(count('count_tokens')).toBe(0);
  });
});

describe('rate limiting across two gateways sharing Redis', () => {
  const key = newKey('shared');
  let redis: { process: ChildProcess; client: Redis };
  const gateways: TestGateway[] = [];

  beforeAll(async () => {
    redis = await startPrivateRedis(await freePort());
    for (let i = 0; i < 2; i++) {
      gateways.push(
        await startTestGateway({
          PROXY_API_KEYS: key,
          REDIS_URL: `redis://127.0.0.1:${redis.client.options.port}`,
          // One token a minute: only the burst can be admitted during the test.
          RATE_LIMIT_RPM: '1',
          RATE_LIMIT_BURST: '4',
        }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    redis.client.disconnect();
    await stopProcess(redis.process, 'SIGKILL');
  });

  it('admits the limit in total, not per instance', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const res = await chat((gateways[i % 2] as TestGateway).url, key);
        await res.text();
        return { gateway: i % 2, status: res.status };
      }),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(4);
    expect(results.filter((r) => r.status === 429)).toHaveLength(8);
    const rejectedPerGateway = await Promise.all(
      gateways.map(async (g) => {
        const text = await (await fetch(`${g.url}/metrics`)).text();
        return Number(/^warden_rate_limited_total\{route="chat"\} (\d+)$/m.exec(text)?.[1] ?? 0);
      }),
    );
    expect(rejectedPerGateway[0]! + rejectedPerGateway[1]!).toBe(8);
  });
});

describe('rate limiting when Redis goes away', () => {
  const key = newKey('fallback');
  let port: number;
  let redis: { process: ChildProcess; client: Redis } | undefined;
  let gw: TestGateway;
  const prefix = 'test:rl:fallback:';

  beforeAll(async () => {
    port = await freePort();
    redis = await startPrivateRedis(port);
    gw = await startTestGateway({
      PROXY_API_KEYS: key,
      REDIS_URL: `redis://127.0.0.1:${port}`,
      // One token every 10 s: the burst of 2 is all a client gets during the test.
      RATE_LIMIT_RPM: '6',
      RATE_LIMIT_BURST: '2',
      RATE_LIMIT_REDIS_PREFIX: prefix,
    });
  });
  afterAll(async () => {
    await gw.close();
    redis?.client.disconnect();
    await stopProcess(redis?.process, 'SIGKILL');
  });

  it('keeps serving with per-replica memory limits, then shares buckets again when Redis is back', async () => {
    const before = await chat(gw.url, key);
    expect(before.status).toBe(200);
    await before.text();
    expect(await redis?.client.exists(`${prefix}llm:key:${keyIdOf(key)}`)).toBe(1);

    redis?.client.disconnect();
    await stopProcess(redis?.process, 'SIGKILL');
    redis = undefined;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await chat(gw.url, key);
      await res.text();
      statuses.push(res.status);
    }
    // Served (no 5xx, no hang), and still limited: the memory bucket holds 2 tokens.
    expect(statuses).toEqual([200, 200, 429]);

    redis = await startPrivateRedis(port);
    const client = redis.client;
    await waitFor(async () => {
      const res = await chat(gw.url, key);
      await res.text();
      return (await client.exists(`${prefix}llm:key:${keyIdOf(key)}`)) === 1 ? true : undefined;
    }, 15_000);
  });
});

describe('per-address limits behind a trusted proxy (TRUST_PROXY)', () => {
  /** Two calls "from" each forwarded address; burst 1, so the second call of an address is refused. */
  async function statuses(gw: TestGateway, forwardedFor: string): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
        body: JSON.stringify({
          model: 'gpt-test',
          messages: [{ role: 'user', content: script({ words: 1 }) }],
        }),
      });
      await res.text();
      out.push(res.status);
    }
    return out;
  }

  it('limits each forwarded client separately only when the proxy is trusted', async () => {
    // No client keys: loopback clients are served and limited per address.
    const limits = { RATE_LIMIT_RPM: '60', RATE_LIMIT_BURST: '1' };
    const trusting = await startTestGateway({ ...limits, TRUST_PROXY: '127.0.0.1' });
    const untrusting = await startTestGateway(limits, trusting.mock);
    try {
      expect(await statuses(trusting, '198.51.100.1')).toEqual([200, 429]);
      expect(await statuses(trusting, '198.51.100.2')).toEqual([200, 429]);
      // A client cannot escape its bucket by prepending a forged hop: the proxy's own hop is what counts.
      expect(await statuses(trusting, '203.0.113.50, 198.51.100.1')).toEqual([429, 429]);
      // Untrusted peer: the header is ignored, every call shares the peer's bucket.
      expect(await statuses(untrusting, '198.51.100.1')).toEqual([200, 429]);
      expect(await statuses(untrusting, '198.51.100.2')).toEqual([429, 429]);
    } finally {
      await untrusting.close();
      await trusting.close();
    }
  });
});
