import { EventPublisher, type WardenEvent } from '@warden/events';
import { script, sseFrames, startTestGateway, type TestGateway } from './support/harness';
import { TEST_PLUGIN_DIR, writePolicyConfig } from './support/test-plugins';

const ADMIN_KEY = 'wk-admin-key-for-tests-0001';

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

describe('policy admin API', () => {
  let gw: TestGateway;
  const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };

  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      POLICY_PLUGIN_DIR: TEST_PLUGIN_DIR,
      POLICY_CONFIG: writePolicyConfig([{ type: 'noop' }]),
    });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('requires the admin key', async () => {
    expect((await fetch(`${gw.url}/api/policy`)).status).toBe(401);
    expect((await fetch(`${gw.url}/api/policy`, { headers: { 'x-api-key': 'wrong' } })).status).toBe(401);
    expect((await fetch(`${gw.url}/api/policy`, { headers: { 'x-api-key': ADMIN_KEY } })).status).toBe(200);
  });

  it('shows the active chain and every type with its options schema', async () => {
    const active = await json(await fetch(`${gw.url}/api/policy`, { headers: admin }));
    expect(active).toMatchObject({ policies: [{ name: 'noop' }], version: 1 });
    const { types } = (await json(await fetch(`${gw.url}/api/policy/types`, { headers: admin }))) as {
      types: Array<{ name: string; optionsSchema: { type?: string } }>;
    };
    const names = types.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['noop', 'test-faults']));
    expect(types.find((t) => t.name === 'test-faults')?.optionsSchema.type).toBe('object');
  });

  it('refuses an invalid chain with a 400 naming the policy and the option, and keeps the old one', async () => {
    const res = await fetch(`${gw.url}/api/policy`, {
      method: 'PUT',
      headers: admin,
      body: JSON.stringify({
        policies: [{ type: 'noop' }, { type: 'test-faults', options: { holdMs: 'soon' } }],
      }),
    });
    expect(res.status).toBe(400);
    const body = (await json(res)) as { error: { message: string } };
    expect(body.error.message).toContain('policies.1 (test-faults)');
    expect(body.error.message).toContain('holdMs');
    const unknown = await fetch(`${gw.url}/api/policy`, {
      method: 'PUT',
      headers: admin,
      body: JSON.stringify({ policies: [{ type: 'does-not-exist' }] }),
    });
    expect(unknown.status).toBe(400);
    expect(((await json(unknown)) as { error: { message: string } }).error.message).toContain(
      'unknown policy type',
    );
    expect((await json(await fetch(`${gw.url}/api/policy`, { headers: admin }))).version).toBe(1);
  });

  it('swaps the chain atomically: new calls use it, a call in flight keeps the chain it started with', async () => {
    // In flight: a stream whose tool call the current chain (noop) passes straight through.
    const inFlight = fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'claude-test',
        max_tokens: 100,
        stream: true,
        messages: [{ role: 'user', content: script({ words: 30, chunkDelayMs: 10 }) }],
      }),
    });
    const started = await inFlight;
    const swapped = new Promise<WardenEvent>((resolve) => {
      const stop = gw.app.get(EventPublisher).subscribe((event) => {
        if (event.type !== 'policy.config.updated') return;
        stop();
        resolve(event);
      });
    });
    const swap = await fetch(`${gw.url}/api/policy`, {
      method: 'PUT',
      headers: admin,
      body: JSON.stringify({ policies: [{ type: 'test-faults', options: { holdMs: 0 } }] }),
    });
    expect(swap.status).toBe(200);
    expect(await swapped).toMatchObject({ type: 'policy.config.updated', data: { version: 2 } });
    expect(await json(swap)).toMatchObject({ version: 2, policies: [{ name: 'test-faults' }] });
    // The old call completes normally, untouched by the new chain.
    const frames = sseFrames(await started.text());
    expect(frames.at(-1)?.event).toBe('message_stop');
    // A new call goes through the new chain: its request hook refuses FAIL_REQUEST.
    const refused = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'FAIL_REQUEST' }] }),
    });
    expect(refused.status).toBe(500);
    expect(await refused.json()).toMatchObject({ error: { type: 'server_error' } });
  });
});

describe('policy swaps under load', () => {
  let gw: TestGateway;
  const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
  const fruit = (replace: string): unknown => ({
    policies: [{ type: 'string-replace', options: { rules: [{ match: 'apple', replace }] } }],
  });

  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      POLICY_CONFIG: writePolicyConfig([{ type: 'noop' }]),
    });
  });
  afterAll(async () => {
    await gw.close();
  });

  /** One streamed call: its status, whether the stream ended cleanly, and the words of its text. */
  async function streamedCall(): Promise<{ status: number; clean: boolean; words: string[] }> {
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'claude-test',
        max_tokens: 100,
        stream: true,
        messages: [{ role: 'user', content: script({ text: 'apple '.repeat(12).trim(), chunkDelayMs: 1 }) }],
      }),
    });
    const frames = sseFrames(await res.text());
    const text = frames
      .filter((f) => f.event === 'content_block_delta')
      .map((f) => (JSON.parse(f.data) as { delta: { text?: string } }).delta.text ?? '')
      .join('');
    const clean = frames.at(-1)?.event === 'message_stop' && !frames.some((f) => f.event === 'error');
    return { status: res.status, clean, words: text.split(/\s+/).filter(Boolean) };
  }

  it('fails no call while the chain is swapped again and again, and each call keeps the chain it started with', async () => {
    let swapping = true;
    const results: Array<{ status: number; clean: boolean; words: string[] }> = [];
    const clients = Array.from({ length: 8 }, async () => {
      while (swapping) results.push(await streamedCall());
    });
    const statuses: number[] = [];
    try {
      for (let i = 0; i < 30; i++) {
        const swap = await fetch(`${gw.url}/api/policy`, {
          method: 'PUT',
          headers: admin,
          body: JSON.stringify(fruit(i % 2 === 0 ? 'kiwi' : 'pear')),
        });
        statuses.push(swap.status);
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    } finally {
      // The clients stop whatever happened, so that none outlives the test.
      swapping = false;
      await Promise.all(clients);
    }
    expect(statuses).toEqual(Array.from({ length: 30 }, () => 200));
    expect(results.length).toBeGreaterThan(50);
    for (const result of results) {
      expect(result).toMatchObject({ status: 200, clean: true });
      expect(result.words).toHaveLength(12);
      // One chain from start to end: every word replaced the same way (or none, before the first swap).
      expect(new Set(result.words).size).toBe(1);
    }
    const seen = new Set(results.map((r) => r.words[0]));
    expect([...seen].every((w) => w === 'apple' || w === 'kiwi' || w === 'pear')).toBe(true);
    expect(seen.has('kiwi') && seen.has('pear')).toBe(true);
  }, 60_000);
});

describe('policies while streaming', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({
      POLICY_PLUGIN_DIR: TEST_PLUGIN_DIR,
      POLICY_CONFIG: writePolicyConfig([{ type: 'test-faults', options: { holdMs: 1000 } }]),
      STREAM_KEEPALIVE_MS: '100',
    });
  });
  afterAll(async () => {
    await gw.close();
  });

  const slowTool = script({ text: 'Running it.', tools: [{ name: 'slow_tool', arguments: { path: '.' } }] });

  it('keeps an Anthropic stream alive with ping while a policy holds a tool call', async () => {
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'claude-test',
        max_tokens: 100,
        stream: true,
        messages: [{ role: 'user', content: slowTool }],
      }),
    });
    const frames = sseFrames(await res.text());
    const pings = frames.filter((f) => f.event === 'ping').length;
    expect(pings).toBeGreaterThanOrEqual(3);
    expect(frames.some((f) => f.data.includes('"slow_tool"'))).toBe(true);
    expect(frames.at(-1)?.event).toBe('message_stop');
  });

  it('keeps an OpenAI stream alive with SSE comments while a policy holds a tool call', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-test',
        stream: true,
        messages: [{ role: 'user', content: slowTool }],
      }),
    });
    const text = await res.text();
    expect(text.split(': keep-alive').length - 1).toBeGreaterThanOrEqual(3);
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(text).toContain('slow_tool');
  });

  it('ends the stream with the protocol error event when a stream policy fails', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-test',
        stream: true,
        messages: [{ role: 'user', content: script({ text: 'x FAIL_STREAM y' }) }],
      }),
    });
    const frames = sseFrames(await res.text());
    expect(frames.at(-1)?.data).toBe('[DONE]');
    expect(JSON.parse(frames.at(-2)?.data ?? '{}')).toMatchObject({
      error: { type: 'server_error', message: expect.stringContaining('test-faults') as unknown },
    });
  });

  it('answers a failing request policy with a 5xx in the Anthropic shape', async () => {
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'claude-test',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'FAIL_REQUEST' }],
      }),
    });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'api_error' } });
  });
});

describe('bounded policy buffers', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({
      POLICY_PLUGIN_DIR: TEST_PLUGIN_DIR,
      POLICY_CONFIG: writePolicyConfig([{ type: 'test-faults' }]),
      MAX_STREAM_BUFFER_BYTES: '2048',
    });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('ends the stream cleanly with an error naming the limit when a held tool call outgrows it', async () => {
    const events: WardenEvent[] = [];
    const stop = gw.app.get(EventPublisher).subscribe((e) => events.push(e));
    const tools = [{ name: 'write_file', arguments: { path: 'big.txt', content: 'x'.repeat(10_000) } }];
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'claude-test',
        max_tokens: 100,
        stream: true,
        messages: [{ role: 'user', content: script({ text: 'Writing.', tools }) }],
      }),
    });
    const frames = sseFrames(await res.text());
    const last = frames.at(-1);
    expect(last?.event).toBe('error');
    expect(last?.data).toContain('MAX_STREAM_BUFFER_BYTES');
    expect(frames.some((f) => f.data.includes('xxxxxxxx'))).toBe(false);
    for (let i = 0; i < 1000 && !events.some((e) => e.type === 'call.failed'); i++) {
      await new Promise<void>((r) => setImmediate(r));
    }
    stop();
    expect(events.find((e) => e.type === 'call.failed')?.data.error).toContain('MAX_STREAM_BUFFER_BYTES');
  });
});
