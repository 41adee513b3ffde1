import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { LLM_ROUTE_TABLE } from '../src/llm/llm-routes';
import { startTestGateway, type TestGateway } from './support/harness';

/** The parts of an OpenAPI document this test reads. */
interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, SecurityScheme> };
}
interface Operation {
  summary?: string;
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<
    string,
    { description: string; headers?: Record<string, unknown>; content?: Record<string, { schema?: Schema }> }
  >;
}
interface Schema {
  $ref?: string;
  type?: string | string[];
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  additionalProperties?: boolean | Schema;
  enum?: unknown[];
  description?: string;
}
interface SecurityScheme {
  type: string;
  scheme?: string;
  in?: string;
  name?: string;
}

/** One route: upper-case method and an OpenAPI-style path (`{param}`). */
type Route = `${string} ${string}`;

/** The documentation's own routes (Swagger UI, its assets and the document): served, not documented. */
const DOCS_PREFIX = '/docs';
const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/** An Express 5 router layer, as far as this test reads it. */
interface RouterLayer {
  route?: { path: string | string[]; methods: Record<string, boolean | undefined> };
}

function isRouterLayer(value: unknown): value is RouterLayer {
  return typeof value === 'object' && value !== null;
}

/** `/v1/models/:id` → `/v1/models/{id}`. */
function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * Every route the app serves: the routes registered on the Express router (Nest controllers, plus anything
 * registered on Express directly), and the LLM routes `LlmRoutes` serves ahead of Express.
 */
function servedRoutes(gateway: TestGateway): Set<Route> {
  const express: unknown = gateway.app.getHttpAdapter().getInstance();
  const stack: unknown = (express as { router?: { stack?: unknown } }).router?.stack;
  if (!Array.isArray(stack)) throw new Error('the Express 5 router stack was not found');
  const routes = new Set<Route>();
  for (const layer of stack) {
    if (!isRouterLayer(layer) || layer.route === undefined) continue;
    const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
    for (const path of paths) {
      if (path === DOCS_PREFIX || path.startsWith(`${DOCS_PREFIX}/`)) continue;
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (on === true && method !== '_all') routes.add(`${method.toUpperCase()} ${openApiPath(path)}`);
      }
    }
  }
  for (const { method, path } of LLM_ROUTE_TABLE) routes.add(`${method} ${path}`);
  return routes;
}

function documentedRoutes(document: OpenApiDocument): Map<Route, Operation> {
  const routes = new Map<Route, Operation>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (HTTP_METHODS.has(method)) routes.set(`${method.toUpperCase()} ${path}`, operation);
    }
  }
  return routes;
}

/** Why `operation` does not count as documented (the scanner's bare output for an undecorated route), if so. */
function undocumented(operation: Operation): string | undefined {
  if ((operation.summary ?? '').trim() === '') return 'no summary';
  if ((operation.tags ?? []).length === 0) return 'no tag';
  const responses = Object.entries(operation.responses);
  if (responses.length === 0) return 'no response';
  const bare = responses
    .filter(([, response]) => response.description.trim() === '')
    .map(([status]) => status);
  if (bare.length > 0) return `undescribed response(s) ${bare.join(', ')}`;
  return undefined;
}

function resolve(document: OpenApiDocument, schema: Schema): Schema {
  if (schema.$ref === undefined) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  const target = document.components.schemas[name];
  if (target === undefined) throw new Error(`unresolved $ref ${schema.$ref}`);
  return resolve(document, target);
}

/** Every `$ref` anywhere in `node`. */
function collectRefs(node: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(node)) for (const item of node) collectRefs(item, into);
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') into.add(value);
      else collectRefs(value, into);
    }
  }
  return into;
}

/**
 * The paths (`a.b[0].c`) where `value` misses a field its documented `schema` requires, or has a scalar of
 * another type; descends through objects and arrays (not through anyOf alternatives).
 */
function contractViolations(document: OpenApiDocument, schema: Schema, value: unknown, at = '$'): string[] {
  const resolved = resolve(document, schema);
  const types = resolved.type === undefined ? [] : [resolved.type].flat();
  const problems: string[] = [];
  if (types.includes('object')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: not an object`];
    const record = value as Record<string, unknown>;
    for (const key of resolved.required ?? []) if (!(key in record)) problems.push(`${at}.${key}: missing`);
    for (const [key, property] of Object.entries(resolved.properties ?? {})) {
      if (record[key] !== undefined && record[key] !== null) {
        problems.push(...contractViolations(document, property, record[key], `${at}.${key}`));
      }
    }
  } else if (types.includes('array')) {
    if (!Array.isArray(value)) return [`${at}: not an array`];
    if (resolved.items !== undefined) {
      value.forEach((item, i) =>
        problems.push(...contractViolations(document, resolved.items ?? {}, item, `${at}[${i}]`)),
      );
    }
  } else if (types.includes('string') && typeof value !== 'string') problems.push(`${at}: not a string`);
  else if (types.includes('integer') && !Number.isInteger(value)) problems.push(`${at}: not an integer`);
  else if (types.includes('boolean') && typeof value !== 'boolean') problems.push(`${at}: not a boolean`);
  return problems;
}

function jsonSchemaOf(operation: Operation | undefined, status: string): Schema {
  const schema = operation?.responses[status]?.content?.['application/json']?.schema;
  if (schema === undefined) throw new Error(`no application/json schema for ${status}`);
  return schema;
}

describe('OpenAPI document and Swagger UI', () => {
  let gateway: TestGateway;
  let document: OpenApiDocument;
  let documented: Map<Route, Operation>;

  beforeAll(async () => {
    gateway = await startTestGateway();
    const res = await fetch(`${gateway.url}/docs/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    document = (await res.json()) as OpenApiDocument;
    documented = documentedRoutes(document);
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('is an OpenAPI 3.x document with the auth schemes', () => {
    expect(document.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(document.info.title).toBeTruthy();
    const schemes = Object.values(document.components.securitySchemes);
    const has = (expected: SecurityScheme): boolean =>
      schemes.some((s) => Object.entries(expected).every(([k, v]) => s[k as keyof SecurityScheme] === v));
    expect(has({ type: 'http', scheme: 'bearer' })).toBe(true);
    expect(has({ type: 'apiKey', in: 'header', name: 'x-api-key' })).toBe(true);
    expect(has({ type: 'apiKey', in: 'header', name: 'x-warden-api-key' })).toBe(true);
    expect(has({ type: 'apiKey', in: 'cookie', name: 'warden_session' })).toBe(true);
    // Client key (Bearer and x-api-key), admin key, UI session cookie, metrics token.
    expect(Object.keys(document.components.securitySchemes)).toEqual(
      expect.arrayContaining(['clientBearer', 'clientApiKey', 'adminBearer', 'uiSession', 'metricsToken']),
    );
  });

  it('resolves every $ref and every security requirement', () => {
    for (const ref of collectRefs(document, new Set())) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(document.components.schemas).toHaveProperty([ref.replace('#/components/schemas/', '')]);
    }
    for (const [route, operation] of documented) {
      for (const requirement of operation.security ?? []) {
        for (const name of Object.keys(requirement)) {
          expect(`${route}: ${name} ${name in document.components.securitySchemes}`).toBe(
            `${route}: ${name} true`,
          );
        }
      }
    }
  });

  it('declares each path parameter of each path template, and no other', () => {
    for (const [route, operation] of documented) {
      const template = [...route.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const declared = (operation.parameters ?? []).filter((p) => p.in === 'path');
      const names = declared.map((p) => p.name).sort();
      expect(`${route}: ${names.join(',')}`).toBe(`${route}: ${template.join(',')}`);
      for (const parameter of declared) expect(parameter.required).toBe(true);
    }
  });

  it('documents every route the app serves, and no other', () => {
    const served = servedRoutes(gateway);
    // Sanity: the enumeration sees controller routes, parameterised routes and the LLM routes.
    for (const route of ['GET /api/policy', 'GET /v1/models/{id}', 'GET /health/live', 'POST /v1/messages']) {
      expect(served.has(route as Route)).toBe(true);
    }
    const missing = [...served].filter((route) => !documented.has(route)).sort();
    const extra = [...documented.keys()].filter((route) => !served.has(route)).sort();
    expect({ missing, extra }).toEqual({ missing: [], extra: [] });
  });

  it('describes each documented route (summary, tag, described responses)', () => {
    const bare = [...documented]
      .map(([route, operation]) => [route, undocumented(operation)] as const)
      .filter(([, why]) => why !== undefined)
      .map(([route, why]) => `${route}: ${why ?? ''}`);
    expect(bare).toEqual([]);
  });

  it('secures the LLM, models and admin routes with the right schemes', () => {
    const schemesOf = (route: Route): string[] =>
      (documented.get(route)?.security ?? []).flatMap((requirement) => Object.keys(requirement)).sort();
    for (const route of ['POST /v1/chat/completions', 'POST /v1/messages', 'GET /v1/models'] as const) {
      expect(schemesOf(route)).toEqual(
        expect.arrayContaining(['clientApiKey', 'clientAzureKey', 'clientBearer']),
      );
    }
    for (const route of [
      'GET /api/policy',
      'PUT /api/policy',
      'GET /api/calls',
      'GET /api/events/stream',
    ] as const) {
      expect(schemesOf(route)).toEqual(expect.arrayContaining(['adminBearer', 'uiSession']));
    }
    expect(schemesOf('GET /metrics')).toEqual(['metricsToken']);
    // The login itself and the probes are open.
    expect(schemesOf('POST /api/auth/login')).toEqual([]);
    expect(schemesOf('GET /health/live')).toEqual([]);
  });

  it('describes both LLM APIs: request and response schemas, streaming and every gateway status', () => {
    const chat = documented.get('POST /v1/chat/completions');
    const messages = documented.get('POST /v1/messages');
    const count = documented.get('POST /v1/messages/count_tokens');
    for (const [operation, error] of [
      [chat, 'OpenAIError'],
      [messages, 'AnthropicError'],
      [count, 'AnthropicError'],
    ] as const) {
      expect(operation?.requestBody?.content['application/json']?.schema.$ref).toMatch(/Request$/);
      for (const status of ['400', '401', '404', '413', '429', '502', '503', '504']) {
        expect(jsonSchemaOf(operation, status).$ref).toBe(`#/components/schemas/${error}`);
      }
    }
    for (const operation of [chat, messages]) {
      expect(operation?.responses['200']?.content).toHaveProperty(['text/event-stream']);
    }
    const chatRequest = resolve(document, document.components.schemas.OpenAIChatRequest ?? {});
    expect(chatRequest.additionalProperties).toBe(true);
    expect(Object.keys(chatRequest.properties ?? {})).toEqual(
      expect.arrayContaining(['model', 'messages', 'tools', 'tool_choice', 'stream', 'max_tokens']),
    );
    const messagesRequest = resolve(document, document.components.schemas.AnthropicMessagesRequest ?? {});
    expect(messagesRequest.required).toEqual(expect.arrayContaining(['model', 'messages', 'max_tokens']));
    expect(Object.keys(messagesRequest.properties ?? {})).toEqual(
      expect.arrayContaining(['system', 'tools', 'tool_choice', 'thinking', 'stream']),
    );
  });

  it('matches what the gateway answers: responses, usage and error shapes of both APIs', async () => {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused-on-loopback', maxRetries: 0 });
    const { data: completion, response } = await openai.chat.completions
      .create({ model: 'mock-small', messages: [{ role: 'user', content: 'hello' }] })
      .withResponse();
    const chat = documented.get('POST /v1/chat/completions');
    const headers = Object.keys(chat?.responses['200']?.headers ?? {});
    expect(headers).toContain('x-warden-call-id');
    for (const header of headers) expect(response.headers.get(header)).toBeTruthy();
    expect(completion.usage).toBeDefined();
    expect(contractViolations(document, jsonSchemaOf(chat, '200'), completion)).toEqual([]);

    const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'unused-on-loopback', maxRetries: 0 });
    const message = await anthropic.messages.create({
      model: 'mock-small',
      max_tokens: 32,
      messages: [{ role: 'user', content: 'hello' }],
    });
    const messages = documented.get('POST /v1/messages');
    expect(contractViolations(document, jsonSchemaOf(messages, '200'), message)).toEqual([]);

    const badChat = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [] }),
    });
    expect(badChat.status).toBe(400);
    expect(contractViolations(document, jsonSchemaOf(chat, '400'), await badChat.json())).toEqual([]);
    const badMessage = await fetch(`${gateway.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-small', messages: [] }),
    });
    expect(badMessage.status).toBe(400);
    expect(contractViolations(document, jsonSchemaOf(messages, '400'), await badMessage.json())).toEqual([]);

    // Streams: every chunk / event matches its documented schema, in the documented order.
    const chunks = await openai.chat.completions.create({
      model: 'mock-small',
      messages: [{ role: 'user', content: 'hello' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunkSchema = { $ref: '#/components/schemas/OpenAIChatChunk' };
    let chunkCount = 0;
    for await (const chunk of chunks) {
      chunkCount += 1;
      expect(contractViolations(document, chunkSchema, chunk)).toEqual([]);
    }
    expect(chunkCount).toBeGreaterThan(1);
    const events = await anthropic.messages.create({
      model: 'mock-small',
      max_tokens: 32,
      messages: [{ role: 'user', content: 'hello' }],
      stream: true,
    });
    const eventSchema = { $ref: '#/components/schemas/AnthropicStreamEvent' };
    const types: string[] = [];
    for await (const event of events) {
      types.push(event.type);
      expect(contractViolations(document, eventSchema, event)).toEqual([]);
    }
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    const eventTypes = (resolve(document, eventSchema).properties?.type?.enum ?? []) as string[];
    for (const type of new Set(types)) expect(eventTypes).toContain(type);

    // The contract check itself catches a wrong shape.
    expect(
      contractViolations(document, jsonSchemaOf(messages, '400'), { error: { message: 'x' } }),
    ).not.toEqual([]);
  });

  it('matches what the admin, health and metrics routes answer', async () => {
    const active: unknown = await (await fetch(`${gateway.url}/api/policy`)).json();
    expect(
      contractViolations(document, jsonSchemaOf(documented.get('GET /api/policy'), '200'), active),
    ).toEqual([]);
    const calls: unknown = await (await fetch(`${gateway.url}/api/calls?limit=5`)).json();
    expect(
      contractViolations(document, jsonSchemaOf(documented.get('GET /api/calls'), '200'), calls),
    ).toEqual([]);
    const session: unknown = await (await fetch(`${gateway.url}/api/auth/session`)).json();
    const sessionOp = documented.get('GET /api/auth/session');
    expect(contractViolations(document, jsonSchemaOf(sessionOp, '200'), session)).toEqual([]);
    for (const path of ['/health', '/health/live', '/health/ready'] as const) {
      const res = await fetch(`${gateway.url}${path}`);
      const body: unknown = await res.json();
      const schema = jsonSchemaOf(documented.get(`GET ${path}`), String(res.status));
      expect(contractViolations(document, schema, body)).toEqual([]);
    }
    const metrics = await fetch(`${gateway.url}/metrics`);
    await metrics.text();
    const metricsTypes = Object.keys(
      documented.get('GET /metrics')?.responses[String(metrics.status)]?.content ?? {},
    );
    expect(metricsTypes).toContain(metrics.headers.get('content-type')?.split(';')[0]);
  });

  it('serves Swagger UI as HTML that works under the CSP of /docs', async () => {
    const res = await fetch(`${gateway.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('<div id="swagger-ui">');
    // Every script is a file (no inline script), and each one is served.
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes = '', body = ''] of scripts) {
      expect(body.trim()).toBe('');
      const src = /src="([^"]+)"/.exec(attributes)?.[1];
      expect(src).toBeDefined();
      const script = await fetch(new URL(src ?? '', res.url));
      expect(script.status).toBe(200);
      expect((await script.text()).length).toBeGreaterThan(0);
    }
    const csp = res.headers.get('content-security-policy');
    if (csp !== null) {
      const directive = (name: string): string =>
        csp
          .split(';')
          .map((d) => d.trim())
          .find((d) => d.startsWith(`${name} `)) ?? '';
      const scriptSrc = directive('script-src') || directive('default-src');
      expect(scriptSrc).toContain("'self'");
      expect(scriptSrc).not.toContain("'unsafe-inline'");
      // The page has inline <style> blocks: the CSP of /docs must allow them.
      if (/<style>/.test(html))
        expect(directive('style-src') || directive('default-src')).toContain("'unsafe-inline'");
    }
  });
});

describe('DOCS_ENABLED=false', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({ DOCS_ENABLED: 'false' });
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('serves neither Swagger UI nor the document', async () => {
    expect((await fetch(`${gateway.url}/docs`)).status).toBe(404);
    expect((await fetch(`${gateway.url}/docs/openapi.json`)).status).toBe(404);
    expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
  });
});
