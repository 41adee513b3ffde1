import { EventEmitter } from 'node:events';
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropicMockProtocol } from './anthropic/anthropic-mock.protocol';
import { MockExchange, type MockExchangeHost, type MockStreamEnding } from './http/mock-exchange';
import type { MockLlmHandle, MockLlmOptions, MockLlmStats, MockRequestRecord } from './mock-llm.types';
import type { MockProtocol, MockReplyContext } from './mock-protocol.types';
import { openAiMockProtocol } from './openai/openai-mock.protocol';
import { buildMockReply, type MockReplyPlan } from './reply/mock-reply.plan';
import { MOCK_JUDGE_MODEL, mockJudgeScript } from './reply/mock-judge.reply';
import { estimateTokens } from './reply/mock-text.util';
import { MockScriptError } from './script/mock-script.error';
import {
  EMPTY_MOCK_SCRIPT,
  MOCK_SCRIPT_HEADER,
  mockScriptFromRequest,
  parseMockScript,
} from './script/mock-script.parser';
import type { MockScript } from './script/mock-script.types';

/** Default bind address. */
export const DEFAULT_MOCK_HOST = '127.0.0.1';
/** Default size of the request ring buffer. */
export const DEFAULT_MAX_RECORDS = 200;
/** Largest request body accepted (real agents send multi-megabyte bodies). */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Models listed by `GET /v1/models` (any other model name is accepted too). */
export const MOCK_MODELS: readonly string[] = Object.freeze(['mock-small', 'mock-large']);

/** Model echoed when a request names none. */
const DEFAULT_MODEL = 'mock-small';
/** Fixed creation time of the listed models (Unix seconds / ISO), for deterministic listings. */
const MODELS_CREATED_SECONDS = 1_735_689_600;
const MODELS_CREATED_ISO = '2025-01-01T00:00:00Z';
const MS_PER_SECOND = 1000;
const STATUS_OK = 200;
const STATUS_BAD_REQUEST = 400;
const STATUS_UNAUTHORIZED = 401;
const STATUS_NOT_FOUND = 404;
const STATUS_TOO_LARGE = 413;
const REQUEST_ID_PREFIX = 'req_mock_';
const MODELS_PATH = '/v1/models';
const MODELS_PATH_PREFIX = '/v1/models/';
const ANTHROPIC_PATH_PREFIX = '/v1/messages';
const BEARER_PREFIX = 'Bearer ';
const HEALTH_BODY = '{"status":"ok"}';
/** Body of a non-streaming `malformedAfterChunks` reply: JSON cut short. */
const MALFORMED_JSON_BODY = '{"broken';

/** Most `scriptId`s whose requests are counted at once (see `failFirst`). */
const MAX_SCRIPT_COUNTERS = 10_000;

/** Reply of requests without a script, computed once. */
const DEFAULT_PLAN = buildMockReply({});

/**
 * Starts the scripted mock LLM (plain `node:http`, both APIs, see the app README) and resolves once it listens.
 * Pass port 0 (the default) to get a free port.
 */
export async function startMockLlm(options: MockLlmOptions = {}): Promise<MockLlmHandle> {
  const mock = new MockLlmServer(options);
  await mock.listen(options.port ?? 0, options.host ?? DEFAULT_MOCK_HOST);
  return mock;
}

/** The server behind a {@link MockLlmHandle}: routing, auth and the request log. */
class MockLlmServer implements MockLlmHandle, MockExchangeHost {
  url = '';
  port = 0;
  readonly requests: MockRequestRecord[] = [];
  readonly events = new EventEmitter();
  readonly stats: MockLlmStats = { requests: 0, completed: 0, aborted: 0 };
  private readonly server: Server;
  private readonly maxRecords: number;
  private seq = 0;
  /** Requests seen per `scriptId` of scripts with `failFirst`, oldest id first. */
  private readonly scriptCounts = new Map<string, number>();

  constructor(private readonly options: MockLlmOptions) {
    this.maxRecords = options.maxRecords ?? DEFAULT_MAX_RECORDS;
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    this.port = address.port;
    const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.url = `http://${hostPart}:${address.port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.close((err) => (err ? reject(err) : resolve()));
      this.server.closeAllConnections();
    });
  }

  settle(record: MockRequestRecord, aborted: boolean): void {
    if (aborted) {
      this.stats.aborted++;
      this.events.emit('aborted', record);
    } else {
      this.stats.completed++;
      this.events.emit('completed', record);
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const exchange = new MockExchange(this, req, res);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('error', ignoreError);
    req.on('end', () => {
      const raw =
        chunks.length === 0
          ? ''
          : (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString('utf8');
      this.dispatch(exchange, raw, size > MAX_BODY_BYTES);
    });
  }

  private dispatch(exchange: MockExchange, raw: string, tooLarge: boolean): void {
    const { req } = exchange;
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    const method = req.method ?? 'GET';
    const body = parseJson(raw);
    const record: MockRequestRecord = {
      id: ++this.seq,
      method,
      path,
      query: query < 0 ? '' : url.slice(query),
      headers: req.headers,
      body: body.ok ? body.value : raw === '' ? undefined : raw,
    };
    this.remember(record);
    exchange.record = record;
    if (exchange.isClosed) {
      this.settle(record, true);
      return;
    }

    const protocol =
      path.startsWith(ANTHROPIC_PATH_PREFIX) || req.headers['anthropic-version'] !== undefined
        ? anthropicMockProtocol
        : openAiMockProtocol;
    const headers: OutgoingHttpHeaders = { [protocol.requestIdHeader]: REQUEST_ID_PREFIX + record.id };

    if (method === 'GET' && path === '/health') {
      exchange.sendJson(STATUS_OK, HEALTH_BODY, headers);
      return;
    }
    if (!this.authorized(req)) {
      this.sendError(exchange, protocol, headers, STATUS_UNAUTHORIZED, undefined);
      return;
    }
    if (tooLarge) {
      this.sendError(
        exchange,
        protocol,
        headers,
        STATUS_TOO_LARGE,
        `request body exceeds ${MAX_BODY_BYTES} bytes`,
      );
      return;
    }

    if (method === 'POST' && path === '/v1/chat/completions') {
      this.complete(exchange, openAiMockProtocol, headers, raw, body);
    } else if (method === 'POST' && path === ANTHROPIC_PATH_PREFIX) {
      this.complete(exchange, anthropicMockProtocol, headers, raw, body);
    } else if (method === 'POST' && path === '/v1/messages/count_tokens') {
      this.countTokens(exchange, headers, raw, body);
    } else if (method === 'GET' && path === MODELS_PATH) {
      exchange.sendJson(STATUS_OK, listModels(protocol === anthropicMockProtocol), headers);
    } else if (
      method === 'GET' &&
      path.startsWith(MODELS_PATH_PREFIX) &&
      path.length > MODELS_PATH_PREFIX.length
    ) {
      const id = decodePathSegment(path.slice(MODELS_PATH_PREFIX.length));
      exchange.sendJson(
        STATUS_OK,
        JSON.stringify(describeModel(id, protocol === anthropicMockProtocol)),
        headers,
      );
    } else {
      const message = `Invalid URL (${method} ${path})`;
      this.sendError(exchange, protocol, headers, STATUS_NOT_FOUND, message);
    }
  }

  /** `POST /v1/chat/completions` and `POST /v1/messages`: a scripted reply, error or fault. */
  private complete(
    exchange: MockExchange,
    protocol: MockProtocol,
    headers: OutgoingHttpHeaders,
    raw: string,
    body: JsonResult,
  ): void {
    const request = this.checkedBody(exchange, protocol, headers, body);
    if (request === undefined) return;
    const scripted = this.script(exchange, protocol, headers, request, true);
    if (scripted === undefined) return;
    const script = this.afterFailures(scripted);

    const ttftMs = script.ttftMs ?? 0;
    if (script.status !== undefined) {
      const status = script.status;
      if (script.retryAfter !== undefined) headers['retry-after'] = String(script.retryAfter);
      exchange.after(ttftMs, () =>
        this.sendError(exchange, protocol, headers, status, script.errorMessage, script.errorType),
      );
      return;
    }

    const plan = isMockJudgeModel(request.model)
      ? buildMockReply(mockJudgeScript(script, request))
      : script === EMPTY_MOCK_SCRIPT
        ? DEFAULT_PLAN
        : buildMockReply(script);
    const streamOptions = request.stream_options;
    const ctx: MockReplyContext = {
      seq: exchange.record?.id ?? 0,
      model: typeof request.model === 'string' ? request.model : DEFAULT_MODEL,
      inputTokens: plan.inputTokens ?? estimateTokens(raw.length),
      created: Math.floor(Date.now() / MS_PER_SECOND),
      includeUsage: isRecord(streamOptions) && streamOptions.include_usage === true,
    };

    if (request.stream === true) this.streamReply(exchange, protocol, headers, script, plan, ctx);
    else exchange.after(ttftMs, () => this.sendReply(exchange, protocol, headers, script, plan, ctx));
  }

  private sendReply(
    exchange: MockExchange,
    protocol: MockProtocol,
    headers: OutgoingHttpHeaders,
    script: MockScript,
    plan: MockReplyPlan,
    ctx: MockReplyContext,
  ): void {
    if (script.resetAfterChunks !== undefined) {
      exchange.resetSocket();
    } else if (script.errorAfterChunks !== undefined) {
      const status = protocol.inBandErrorStatus(script.errorType);
      this.sendError(exchange, protocol, headers, status, script.errorMessage, script.errorType);
    } else if (script.malformedAfterChunks !== undefined) {
      exchange.sendJson(STATUS_OK, MALFORMED_JSON_BODY, headers);
    } else {
      exchange.sendJson(STATUS_OK, protocol.message(plan, ctx), headers);
    }
  }

  private streamReply(
    exchange: MockExchange,
    protocol: MockProtocol,
    headers: OutgoingHttpHeaders,
    script: MockScript,
    plan: MockReplyPlan,
    ctx: MockReplyContext,
  ): void {
    const { frames, cuts } = protocol.frames(plan, ctx);
    let sent: readonly string[] = frames;
    let ending: MockStreamEnding = 'end';
    const fault = script.resetAfterChunks ?? script.errorAfterChunks ?? script.malformedAfterChunks;
    if (fault !== undefined) {
      const cut = cuts[Math.min(fault, cuts.length - 1)] ?? frames.length;
      const kept = frames.slice(0, cut);
      if (script.resetAfterChunks !== undefined) ending = 'reset';
      else if (script.errorAfterChunks !== undefined)
        kept.push(protocol.inBandError(script.errorType, script.errorMessage));
      else kept.push(protocol.malformedFrame);
      sent = kept;
    }
    const ttftMs = script.ttftMs ?? 0;
    const chunkDelayMs = script.chunkDelayMs ?? 0;
    // With a TTFT delay the client sees the stream open first; otherwise headers and frames leave in one write.
    exchange.openStream(headers, ttftMs > 0);
    exchange.after(ttftMs, () => exchange.stream(sent, chunkDelayMs, ending));
  }

  /**
   * The script with its error and faults removed once its `scriptId` has failed `failFirst` times. The counts are
   * kept per server, at most {@link MAX_SCRIPT_COUNTERS} ids (the oldest are forgotten).
   */
  private afterFailures(script: MockScript): MockScript {
    const id = script.scriptId;
    if (script.failFirst === undefined || id === undefined) return script;
    const seen = (this.scriptCounts.get(id) ?? 0) + 1;
    this.scriptCounts.delete(id);
    this.scriptCounts.set(id, seen);
    if (this.scriptCounts.size > MAX_SCRIPT_COUNTERS) {
      const oldest = this.scriptCounts.keys().next().value;
      if (oldest !== undefined) this.scriptCounts.delete(oldest);
    }
    if (seen <= script.failFirst) return script;
    const {
      status: _status,
      retryAfter: _retryAfter,
      errorType: _errorType,
      errorMessage: _errorMessage,
      resetAfterChunks: _reset,
      errorAfterChunks: _error,
      malformedAfterChunks: _malformed,
      ...healthy
    } = script;
    return healthy;
  }

  /** `POST /v1/messages/count_tokens`: `ceil(body chars / 4)`; honours the header script's `status` only. */
  private countTokens(
    exchange: MockExchange,
    headers: OutgoingHttpHeaders,
    raw: string,
    body: JsonResult,
  ): void {
    const protocol = anthropicMockProtocol;
    const request = this.checkedBody(exchange, protocol, headers, body, validateCountTokens);
    if (request === undefined) return;
    const script = this.script(exchange, protocol, headers, request, false);
    if (script === undefined) return;
    if (script.status !== undefined) {
      this.sendError(exchange, protocol, headers, script.status, script.errorMessage, script.errorType);
      return;
    }
    exchange.sendJson(STATUS_OK, `{"input_tokens":${estimateTokens(raw.length)}}`, headers);
  }

  /** The JSON object body, or `undefined` after answering 400. */
  private checkedBody(
    exchange: MockExchange,
    protocol: MockProtocol,
    headers: OutgoingHttpHeaders,
    body: JsonResult,
    validate: (body: Record<string, unknown>) => string | undefined = protocol.validate,
  ): Record<string, unknown> | undefined {
    if (!body.ok || !isRecord(body.value)) {
      const message = body.ok ? 'request body must be a JSON object' : `invalid JSON body: ${body.error}`;
      this.sendError(exchange, protocol, headers, STATUS_BAD_REQUEST, message);
      return undefined;
    }
    const invalid = validate(body.value);
    if (invalid !== undefined) {
      this.sendError(exchange, protocol, headers, STATUS_BAD_REQUEST, invalid);
      return undefined;
    }
    return body.value;
  }

  /** The request's script, or `undefined` after answering 400 for an invalid one. */
  private script(
    exchange: MockExchange,
    protocol: MockProtocol,
    headers: OutgoingHttpHeaders,
    request: Record<string, unknown>,
    fromMessages: boolean,
  ): MockScript | undefined {
    const header = exchange.req.headers[MOCK_SCRIPT_HEADER];
    try {
      if (fromMessages) return mockScriptFromRequest(header, request);
      return typeof header === 'string' && header !== '' ? parseMockScript(header) : EMPTY_MOCK_SCRIPT;
    } catch (err) {
      if (!(err instanceof MockScriptError)) throw err;
      this.sendError(exchange, protocol, headers, STATUS_BAD_REQUEST, err.message);
      return undefined;
    }
  }

  private sendError(
    exchange: MockExchange,
    protocol: MockProtocol,
    headers: OutgoingHttpHeaders,
    status: number,
    message: string | undefined,
    type?: string,
  ): void {
    exchange.sendJson(status, protocol.errorBody({ status, type, message }), headers);
  }

  private authorized(req: IncomingMessage): boolean {
    const key = this.options.apiKey;
    if (key === undefined || key === '') return true;
    if (req.headers['x-api-key'] === key || req.headers['api-key'] === key) return true;
    const auth = req.headers.authorization;
    return auth !== undefined && auth.startsWith(BEARER_PREFIX) && auth.slice(BEARER_PREFIX.length) === key;
  }

  private remember(record: MockRequestRecord): void {
    this.stats.requests++;
    this.requests.push(record);
    if (this.requests.length > this.maxRecords)
      this.requests.splice(0, this.requests.length - this.maxRecords);
    this.events.emit('request', record);
  }
}

/** Outcome of parsing a request body. */
type JsonResult = { ok: true; value: unknown } | { ok: false; error: string };

function parseJson(raw: string): JsonResult {
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** `count_tokens` takes a Messages request without `max_tokens`. */
function validateCountTokens(body: Record<string, unknown>): string | undefined {
  if (typeof body.model !== 'string') return 'model: Field required';
  if (!Array.isArray(body.messages)) return 'messages: Field required';
  return undefined;
}

/** `mock-judge` answers as a deterministic judge (see `reply/mock-judge.reply.ts`). */
function isMockJudgeModel(model: unknown): boolean {
  return model === MOCK_JUDGE_MODEL;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** `GET /v1/models` in the OpenAI shape, or the Anthropic one when the request carries `anthropic-version`. */
function listModels(anthropic: boolean): string {
  const data = MOCK_MODELS.map((id) => describeModel(id, anthropic));
  if (!anthropic) return JSON.stringify({ object: 'list', data });
  return JSON.stringify({
    data,
    has_more: false,
    first_id: MOCK_MODELS[0],
    last_id: MOCK_MODELS[MOCK_MODELS.length - 1],
  });
}

function describeModel(id: string, anthropic: boolean): object {
  if (!anthropic) return { id, object: 'model', created: MODELS_CREATED_SECONDS, owned_by: 'mock' };
  const displayName = id
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join(' ');
  return { type: 'model', id, display_name: displayName, created_at: MODELS_CREATED_ISO };
}

/** Request stream errors (client resets) are handled through the response's `close` event. */
function ignoreError(): void {}
