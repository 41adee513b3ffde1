import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockLlm } from '@warden/mock-llm';
import { InvalidConfigException } from '@warden/config';
import { createGatewayApp } from '../src/configure-app';
import {
  GATEWAY_ANTHROPIC_KEY,
  lastUpstreamRequest,
  startTestGateway,
  type TestGateway,
} from './support/harness';

const PROXY_KEY = 'wk-test-proxy-key-0123456789';
const OTHER_KEY = 'wk-test-proxy-key-abcdefghij';

const openaiBody = JSON.stringify({ model: 'mock-small', messages: [{ role: 'user', content: 'hi' }] });
const anthropicBody = JSON.stringify({
  model: 'mock-small',
  max_tokens: 20,
  messages: [{ role: 'user', content: 'hi' }],
});

function post(
  url: string,
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

describe('client authentication', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ PROXY_API_KEYS: `${PROXY_KEY}, ${OTHER_KEY}` });
  });
  afterAll(async () => {
    await gw.close();
  });

  it.each([
    ['Authorization: Bearer', { authorization: `Bearer ${PROXY_KEY}` }],
    ['x-api-key', { 'x-api-key': OTHER_KEY }],
  ])('accepts a proxy key as %s on both APIs', async (_name, headers) => {
    expect((await post(gw.url, '/v1/chat/completions', openaiBody, headers)).status).toBe(200);
    expect((await post(gw.url, '/v1/messages', anthropicBody, headers)).status).toBe(200);
  });

  it.each([
    ['missing', {}, 'Missing API key'],
    ['wrong', { authorization: 'Bearer wk-wrong' }, 'Invalid API key'],
    ['a prefix of a valid key', { 'x-api-key': PROXY_KEY.slice(0, -1) }, 'Invalid API key'],
  ])('refuses a %s key with 401 in each API shape', async (_name, headers, message) => {
    const openai = await post(gw.url, '/v1/chat/completions', openaiBody, headers);
    expect(openai.status).toBe(401);
    expect(await openai.json()).toEqual({
      error: { message, type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
    });
    const anthropic = await post(gw.url, '/v1/messages', anthropicBody, headers);
    expect(anthropic.status).toBe(401);
    expect(await anthropic.json()).toEqual({
      type: 'error',
      error: { type: 'authentication_error', message },
    });
    const models = await fetch(`${gw.url}/v1/models`, { headers });
    expect(models.status).toBe(401);
  });

  it('never forwards the proxy key upstream', async () => {
    await post(
      gw.url,
      '/v1/messages',
      JSON.stringify({ ...JSON.parse(anthropicBody), model: 'claude-test' }),
      {
        'x-api-key': PROXY_KEY,
      },
    );
    const upstream = lastUpstreamRequest(gw);
    expect(upstream.headers['x-api-key']).toBe(GATEWAY_ANTHROPIC_KEY);
    expect(JSON.stringify(upstream.headers)).not.toContain(PROXY_KEY);
  });
});

describe('AUTH_MODE passthrough and both', () => {
  it('passthrough forwards the client credential, proxy key in x-warden-api-key', async () => {
    const gw = await startTestGateway({ PROXY_API_KEYS: PROXY_KEY, AUTH_MODE: 'passthrough' });
    try {
      const body = JSON.stringify({
        model: 'claude-test',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
      });
      const ok = await post(gw.url, '/v1/messages', body, {
        'x-api-key': 'sk-ant-client-own',
        'x-warden-api-key': PROXY_KEY,
      });
      expect(ok.status).toBe(200);
      expect(lastUpstreamRequest(gw).headers['x-api-key']).toBe('sk-ant-client-own');
      const oauth = await post(gw.url, '/v1/messages', body, {
        authorization: 'Bearer oauth-token-123',
        'x-warden-api-key': PROXY_KEY,
      });
      expect(oauth.status).toBe(200);
      expect(lastUpstreamRequest(gw).headers.authorization).toBe('Bearer oauth-token-123');
      const noProxyKey = await post(gw.url, '/v1/messages', body, { 'x-api-key': 'sk-ant-client-own' });
      expect(noProxyKey.status).toBe(401);
      // The model list is the gateway's own answer: the proxy key is enough, no provider credential is needed.
      const models = await fetch(`${gw.url}/v1/models`, { headers: { 'x-warden-api-key': PROXY_KEY } });
      expect(models.status).toBe(200);
      expect((await fetch(`${gw.url}/v1/models`)).status).toBe(401);
      // A proxy key where the provider key goes is refused: forwarded, it would reach the provider.
      const upstreamCalls = gw.mock.stats.requests;
      const leak = await post(gw.url, '/v1/messages', body, {
        'x-api-key': PROXY_KEY,
        'x-warden-api-key': PROXY_KEY,
      });
      expect(leak.status).toBe(401);
      expect(((await leak.json()) as { error: { message: string } }).error.message).toContain(
        'x-warden-api-key',
      );
      expect(gw.mock.stats.requests).toBe(upstreamCalls);
    } finally {
      await gw.close();
    }
  });

  it('both uses the gateway key for a proxy key and passes any other credential through', async () => {
    const gw = await startTestGateway({ PROXY_API_KEYS: PROXY_KEY, AUTH_MODE: 'both' });
    try {
      const body = JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] });
      expect(
        (await post(gw.url, '/v1/chat/completions', body, { authorization: `Bearer ${PROXY_KEY}` })).status,
      ).toBe(200);
      expect(lastUpstreamRequest(gw).headers.authorization).toBe('Bearer sk-gateway-openai-test-key');
      expect(
        (await post(gw.url, '/v1/chat/completions', body, { authorization: 'Bearer sk-own' })).status,
      ).toBe(200);
      expect(lastUpstreamRequest(gw).headers.authorization).toBe('Bearer sk-own');
      expect((await post(gw.url, '/v1/chat/completions', body)).status).toBe(401);
      // The model list is the gateway's own answer: nothing upstream checks a made-up key there.
      const models = (headers: Record<string, string>): Promise<Response> =>
        fetch(`${gw.url}/v1/models`, { headers });
      expect((await models({ 'x-api-key': 'total-garbage' })).status).toBe(401);
      expect((await models({ authorization: `Bearer ${PROXY_KEY}` })).status).toBe(200);
    } finally {
      await gw.close();
    }
  });

  it('both refuses a made-up key for the built-in mock models, which check no credential', async () => {
    const gw = await startTestGateway({ PROXY_API_KEYS: PROXY_KEY, AUTH_MODE: 'both' });
    try {
      const chat = JSON.stringify({ model: 'mock-small', messages: [{ role: 'user', content: 'x' }] });
      const made = await post(gw.url, '/v1/chat/completions', chat, { authorization: 'Bearer made-up' });
      expect(made.status).toBe(401);
      expect(await made.json()).toMatchObject({
        error: { message: 'Invalid API key', code: 'invalid_api_key' },
      });
      const messages = JSON.stringify({
        model: 'mock-small',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
      });
      const anthropic = await post(gw.url, '/v1/messages', messages, { 'x-api-key': 'made-up' });
      expect(anthropic.status).toBe(401);
      expect(await anthropic.json()).toMatchObject({
        type: 'error',
        error: { type: 'authentication_error' },
      });
      const counted = await post(gw.url, '/v1/messages/count_tokens', messages, { 'x-api-key': 'made-up' });
      expect(counted.status).toBe(401);
      // A client key still reaches them.
      expect(
        (await post(gw.url, '/v1/chat/completions', chat, { authorization: `Bearer ${PROXY_KEY}` })).status,
      ).toBe(200);
    } finally {
      await gw.close();
    }
  });

  it('both refuses a made-up key for a routes-file provider that checks none (acceptsAnyCredential)', async () => {
    const mock = await startMockLlm();
    const dir = mkdtempSync(join(tmpdir(), 'warden-routes-'));
    const routes = join(dir, 'routes.yaml');
    writeFileSync(
      routes,
      [
        'providers:',
        '  local:',
        `    openaiBaseUrl: ${mock.url}/v1`,
        '    acceptsAnyCredential: true',
        'routes:',
        '  - { match: "local-*", provider: local }',
      ].join('\n'),
    );
    const gw = await startTestGateway(
      { PROXY_API_KEYS: PROXY_KEY, AUTH_MODE: 'both', ROUTES_CONFIG: routes },
      mock,
    );
    try {
      const body = JSON.stringify({ model: 'local-llama', messages: [{ role: 'user', content: 'x' }] });
      const before = mock.stats.requests;
      expect(
        (await post(gw.url, '/v1/chat/completions', body, { authorization: 'Bearer made-up' })).status,
      ).toBe(401);
      expect(mock.stats.requests).toBe(before);
      expect(
        (await post(gw.url, '/v1/chat/completions', body, { authorization: `Bearer ${PROXY_KEY}` })).status,
      ).toBe(200);
      // A provider that checks credentials gets the client's own, as before.
      const gpt = JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] });
      expect(
        (await post(gw.url, '/v1/chat/completions', gpt, { authorization: 'Bearer sk-own' })).status,
      ).toBe(200);
    } finally {
      await gw.close();
      await mock.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("sends a routes-file provider's key in the header it names (Azure OpenAI's api-key), never a client's", async () => {
    const azureKey = 'azure-resource-key-0123456789';
    const mock = await startMockLlm({ apiKey: azureKey });
    const dir = mkdtempSync(join(tmpdir(), 'warden-routes-'));
    const routes = join(dir, 'routes.yaml');
    writeFileSync(
      routes,
      [
        'providers:',
        '  azure:',
        `    openaiBaseUrl: ${mock.url}/v1?api-version=2024-10-21`,
        '    apiKey: ${AZURE_OPENAI_API_KEY}',
        '    credentialHeader: api-key',
        'routes:',
        '  - { match: "azure-*", provider: azure }',
      ].join('\n'),
    );
    const gw = await startTestGateway(
      { PROXY_API_KEYS: PROXY_KEY, ROUTES_CONFIG: routes, AZURE_OPENAI_API_KEY: azureKey },
      mock,
    );
    try {
      const body = JSON.stringify({ model: 'azure-gpt-4o', messages: [{ role: 'user', content: 'x' }] });
      // The client's key as an OpenAI SDK sends it, then as an Azure OpenAI client does (api-key).
      const clients: Array<Record<string, string>> = [
        { authorization: `Bearer ${PROXY_KEY}` },
        { 'api-key': PROXY_KEY },
      ];
      for (const headers of clients) {
        const res = await post(gw.url, '/v1/chat/completions', body, headers);
        expect(res.status).toBe(200);
        const upstream = lastUpstreamRequest(gw);
        expect(upstream.query).toBe('?api-version=2024-10-21');
        expect(upstream.headers['api-key']).toBe(azureKey);
        expect(upstream.headers).not.toHaveProperty('authorization');
        expect(upstream.headers).not.toHaveProperty('x-api-key');
      }
      // A wrong api-key is a client key like any other: refused here, never sent on.
      const before = mock.stats.requests;
      expect((await post(gw.url, '/v1/chat/completions', body, { 'api-key': OTHER_KEY })).status).toBe(401);
      expect(mock.stats.requests).toBe(before);
    } finally {
      await gw.close();
      await mock.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start in production without client keys, naming the variable', async () => {
    await expect(createGatewayApp({ NODE_ENV: 'production', LOG_LEVEL: 'fatal' })).rejects.toThrow(
      InvalidConfigException,
    );
    await expect(createGatewayApp({ NODE_ENV: 'production', LOG_LEVEL: 'fatal' })).rejects.toThrow(
      /PROXY_API_KEYS/,
    );
  });

  it('refuses to start when POLICY_CONFIG names a file that does not exist (a typo must not drop the policies)', async () => {
    await expect(
      createGatewayApp({
        POLICY_CONFIG: '/nonexistent/polcy.yaml',
        DATABASE_URL: 'sqlite::memory:',
        LOG_LEVEL: 'fatal',
      }),
    ).rejects.toThrow(/\/nonexistent\/polcy\.yaml.*not found/);
  });

  it('fails fast on an invalid variable, naming it', async () => {
    await expect(createGatewayApp({ PORT: 'eighty', LOG_LEVEL: 'fatal' })).rejects.toThrow(
      /PORT \("eighty"\)/,
    );
  });
});

describe('request limits and validation', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ MAX_REQUEST_BYTES: '2048', MAX_MESSAGES: '3', MAX_TOOLS: '2' });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('answers 413 in each API shape for a body over MAX_REQUEST_BYTES', async () => {
    const big = JSON.stringify({
      model: 'mock-small',
      messages: [{ role: 'user', content: 'x'.repeat(4096) }],
    });
    const openai = await post(gw.url, '/v1/chat/completions', big);
    expect(openai.status).toBe(413);
    expect(await openai.json()).toMatchObject({
      error: { type: 'invalid_request_error', code: 'request_too_large' },
    });
    const anthropic = await post(gw.url, '/v1/messages', big);
    expect(anthropic.status).toBe(413);
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
  });

  it('answers 413 for a chunked body that grows past the limit', async () => {
    const chunks = [
      Buffer.from('{"model":"mock-small","messages":[{"role":"user","content":"'),
      Buffer.alloc(4096, 'y'),
    ];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(c);
        controller.close();
      },
    });
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    });
    expect(res.status).toBe(413);
  });

  it.each([
    ['/v1/chat/completions', '{"model": "mock-small", "messages": [', 'invalid_request_error'],
    ['/v1/messages', 'not json at all', 'invalid_request_error'],
  ])('answers 400 for invalid JSON on %s', async (path, body, type) => {
    const res = await post(gw.url, path, body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { type: string; message: string } };
    expect(json.error.type).toBe(type);
    expect(json.error.message).toMatch(/not valid JSON/);
  });

  it.each([
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }] }, 'model'],
    ['/v1/chat/completions', { model: 'mock-small' }, 'messages'],
    ['/v1/messages', { model: 'mock-small', messages: [] }, 'max_tokens'],
    ['/v1/messages', { max_tokens: 5, messages: [] }, 'model'],
  ])('answers 400 naming the missing field on %s', async (path, body, field) => {
    const res = await post(gw.url, path, JSON.stringify(body));
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { message: string; param?: string } };
    expect(json.error.message).toContain(field);
    if (path === '/v1/chat/completions') expect(json.error.param).toBe(field);
  });

  it('answers 400 naming the field and the limit for too many messages or tools', async () => {
    const messages = Array.from({ length: 4 }, (_, i) => ({
      role: i % 2 ? 'assistant' : 'user',
      content: 'x',
    }));
    const many = await post(
      gw.url,
      '/v1/chat/completions',
      JSON.stringify({ model: 'mock-small', messages }),
    );
    expect(many.status).toBe(400);
    expect(await many.json()).toMatchObject({
      error: { param: 'messages', message: expect.stringContaining('MAX_MESSAGES') as unknown },
    });
    const tools = Array.from({ length: 3 }, (_, i) => ({ name: `t${i}`, input_schema: { type: 'object' } }));
    const body = JSON.stringify({
      model: 'mock-small',
      max_tokens: 5,
      tools,
      messages: [{ role: 'user', content: 'x' }],
    });
    const tooMany = await post(gw.url, '/v1/messages', body);
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toMatchObject({
      type: 'error',
      error: { message: expect.stringContaining('MAX_TOOLS') as unknown },
    });
  });

  it('answers 404 in the client shape for a model nothing serves, naming it', async () => {
    const openai = await post(
      gw.url,
      '/v1/chat/completions',
      openaiBody.replace('mock-small', 'llama-unknown'),
    );
    expect(openai.status).toBe(404);
    expect(await openai.json()).toEqual({
      error: {
        message: "The model 'llama-unknown' is not served by this gateway",
        type: 'invalid_request_error',
        param: 'model',
        code: 'model_not_found',
      },
    });
    const anthropic = await post(
      gw.url,
      '/v1/messages',
      anthropicBody.replace('mock-small', 'llama-unknown'),
    );
    expect(anthropic.status).toBe(404);
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });

  it('routes an explicit provider prefix, stripping it upstream', async () => {
    const res = await post(
      gw.url,
      '/v1/chat/completions',
      openaiBody.replace('mock-small', 'openai/my-finetune'),
    );
    expect(res.status).toBe(200);
    expect((lastUpstreamRequest(gw).body as { model: string }).model).toBe('my-finetune');
  });

  it('answers 502 in the client shape when the upstream is unreachable', async () => {
    const down = await startTestGateway({ UPSTREAM_OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    try {
      const res = await post(down.url, '/v1/chat/completions', openaiBody.replace('mock-small', 'gpt-4o'));
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({
        error: { type: 'server_error', code: 'upstream_unreachable' },
      });
    } finally {
      await down.close();
    }
  });
});
