import { Agent, request, type Dispatcher } from 'undici';
import { credentialHeaderValue, isJsonObject, type CredentialHeader, type JsonObject } from '@warden/llm';
import { JudgeError } from './judge.error';

/** The API a judge endpoint speaks. */
export type JudgeFormat = 'openai' | 'anthropic';

/** Where and how to reach a judge model. */
export interface JudgeClientConfig {
  /** OpenAI: the base including `/v1` (`https://api.openai.com/v1`); Anthropic: the origin (`https://api.anthropic.com`). */
  readonly baseUrl: string;
  readonly format: JudgeFormat;
  readonly model: string;
  /** Sent as `Authorization: Bearer` (OpenAI) or `x-api-key` (Anthropic), or in `apiKeyHeader`; omitted when empty. */
  readonly apiKey?: string | undefined;
  /** The header the key goes in, when not the format's own. */
  readonly apiKeyHeader?: CredentialHeader | undefined;
  /** Whole-call deadline (connect, answer and body). */
  readonly timeoutMs: number;
  /** Reply token budget (default {@link DEFAULT_JUDGE_MAX_TOKENS}). */
  readonly maxTokens?: number | undefined;
}

/** Reply token budget when none is configured: a verdict is a short JSON object. */
export const DEFAULT_JUDGE_MAX_TOKENS = 256;
/** Anthropic API version header value. */
export const ANTHROPIC_VERSION = '2023-06-01';
/** Largest judge reply body read (bytes); a larger one is an invalid reply. */
export const MAX_JUDGE_REPLY_BYTES = 1024 * 1024;
/** Pools kept at most (one per judge origin); the oldest is closed beyond that. */
export const MAX_JUDGE_AGENTS = 16;
/** Idle keep-alive sockets are kept this long. */
const KEEP_ALIVE_TIMEOUT_MS = 30_000;
/** Characters of a provider's error message quoted in a {@link JudgeError}. */
const MAX_ERROR_DETAIL_CHARS = 200;
/** Candidate `{` positions tried by {@link parseJudgeJson} before giving up (bounds the work on hostile text). */
const MAX_OBJECT_CANDIDATES = 64;
/** Sampling temperature of judge calls: verdicts should be reproducible. */
const JUDGE_TEMPERATURE = 0;
const HTTP_OK_MIN = 200;
const HTTP_OK_MAX = 299;
const REDACTED = '***';

/** Keep-alive pools by origin, shared by every judge client of the process (bounded, insertion-ordered). */
const agents = new Map<string, Agent>();

function agentFor(origin: string): Agent {
  let agent = agents.get(origin);
  if (agent !== undefined) return agent;
  agent = new Agent({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS });
  agents.set(origin, agent);
  if (agents.size > MAX_JUDGE_AGENTS) {
    const [oldest, evicted] = agents.entries().next().value as [string, Agent];
    agents.delete(oldest);
    // Graceful: requests in flight on the evicted pool finish first.
    evicted.close().catch(() => undefined);
  }
  return agent;
}

/** Closes every judge connection pool (graceful shutdown, tests). */
export async function closeJudgeAgents(): Promise<void> {
  const all = [...agents.values()];
  agents.clear();
  await Promise.all(all.map((agent) => agent.close()));
}

/**
 * A minimal non-streaming client for judge models over OpenAI Chat Completions or Anthropic Messages: one system
 * prompt, one user message, the reply's text. Failures are {@link JudgeError}s whose messages never carry the key.
 */
export class JudgeClient {
  private readonly url: string;
  private readonly origin: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly config: JudgeClientConfig) {
    // The endpoint's path goes after the base URL's path; its query string (`?api-version=...`) stays at the end.
    const url = new URL(config.baseUrl);
    const base = url.pathname.replace(/\/+$/, '');
    if (config.format === 'openai') url.pathname = `${base}/chat/completions`;
    else url.pathname = base.endsWith('/v1') ? `${base}/messages` : `${base}/v1/messages`;
    this.url = url.toString();
    this.origin = url.origin;
    const key = config.apiKey ?? '';
    this.headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (config.format === 'anthropic') this.headers['anthropic-version'] = ANTHROPIC_VERSION;
    if (key !== '') {
      const header = config.apiKeyHeader ?? (config.format === 'anthropic' ? 'x-api-key' : 'authorization');
      this.headers[header] = credentialHeaderValue(header, key);
    }
  }

  /**
   * Sends one completion request and resolves with the reply text. Rejects with a {@link JudgeError} on a non-2xx
   * status, a transport failure, a reply without text, after `timeoutMs`, or as soon as `signal` fires.
   */
  async complete(system: string, user: string, signal: AbortSignal): Promise<string> {
    if (signal.aborted) throw new JudgeError('aborted', 'judge call aborted');
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    const both = AbortSignal.any([signal, timeout]);
    try {
      const res = await request(this.url, {
        method: 'POST',
        headers: this.headers,
        body: JSON.stringify(this.body(system, user)),
        dispatcher: agentFor(this.origin),
        signal: both,
      });
      const text = await readBody(res.body);
      if (res.statusCode < HTTP_OK_MIN || res.statusCode > HTTP_OK_MAX) {
        const detail = errorDetail(text);
        const suffix = detail === '' ? '' : `: ${this.redact(detail)}`;
        throw new JudgeError('http', `judge answered HTTP ${res.statusCode}${suffix}`, res.statusCode);
      }
      return this.replyText(text);
    } catch (error) {
      if (error instanceof JudgeError) throw error;
      if (signal.aborted) throw new JudgeError('aborted', 'judge call aborted');
      if (timeout.aborted) {
        throw new JudgeError('timeout', `judge did not answer within ${this.config.timeoutMs} ms`);
      }
      const message = error instanceof Error ? error.message : String(error);
      throw new JudgeError('network', `judge request failed: ${this.redact(message)}`);
    }
  }

  private body(system: string, user: string): JsonObject {
    const maxTokens = this.config.maxTokens ?? DEFAULT_JUDGE_MAX_TOKENS;
    if (this.config.format === 'anthropic') {
      return {
        model: this.config.model,
        system,
        messages: [{ role: 'user', content: user }],
        max_tokens: maxTokens,
        temperature: JUDGE_TEMPERATURE,
      };
    }
    return {
      model: this.config.model,
      messages: [
        { role: 'system', content: system },
        { role: 'user', content: user },
      ],
      max_tokens: maxTokens,
      temperature: JUDGE_TEMPERATURE,
      stream: false,
    };
  }

  private replyText(raw: string): string {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new JudgeError('invalid-reply', 'judge reply is not JSON');
    }
    const text = this.config.format === 'anthropic' ? anthropicText(body) : openAiText(body);
    if (text.trim() === '') throw new JudgeError('invalid-reply', 'judge reply has no text');
    return text;
  }

  private redact(text: string): string {
    const key = this.config.apiKey ?? '';
    return key === '' ? text : text.split(key).join(REDACTED);
  }
}

/** Reads a response body as UTF-8, up to {@link MAX_JUDGE_REPLY_BYTES}. */
async function readBody(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JUDGE_REPLY_BYTES) {
      body.destroy();
      throw new JudgeError('invalid-reply', `judge reply exceeds ${MAX_JUDGE_REPLY_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The provider's error message of an error body (either API's shape), shortened; '' when there is none. */
function errorDetail(raw: string): string {
  let message: unknown;
  try {
    const body: unknown = JSON.parse(raw);
    const error = isJsonObject(body) ? body.error : undefined;
    message = isJsonObject(error) ? error.message : undefined;
  } catch {
    message = undefined;
  }
  return typeof message === 'string' ? message.slice(0, MAX_ERROR_DETAIL_CHARS) : '';
}

/** `choices[0].message.content` (a string or text parts) of a Chat Completions reply. */
function openAiText(body: unknown): string {
  const choices = isJsonObject(body) ? body.choices : undefined;
  const first: unknown = Array.isArray(choices) ? choices[0] : undefined;
  const message = isJsonObject(first) ? first.message : undefined;
  if (!isJsonObject(message)) throw new JudgeError('invalid-reply', 'judge reply has no message');
  const content = message.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return textOfBlocks(content);
  if (typeof message.refusal === 'string') throw new JudgeError('invalid-reply', 'judge refused to answer');
  return '';
}

/** The text blocks of a Messages reply, joined. */
function anthropicText(body: unknown): string {
  const content = isJsonObject(body) ? body.content : undefined;
  if (!Array.isArray(content)) throw new JudgeError('invalid-reply', 'judge reply has no content');
  return textOfBlocks(content);
}

function textOfBlocks(blocks: unknown[]): string {
  return blocks
    .map((block) => (isJsonObject(block) && typeof block.text === 'string' ? block.text : ''))
    .join('');
}

/**
 * The first JSON object of a model's reply, tolerating what models wrap around it: Markdown fences (```json …
 * ```), prose before and after. Candidates are the balanced `{…}` spans (strings and escapes respected), tried in
 * order until one parses as an object.
 * @throws JudgeError (`invalid-reply`) when the text holds no JSON object.
 */
export function parseJudgeJson(text: string): unknown {
  const body = stripFences(text.trim());
  const direct = tryParseObject(body);
  if (direct !== undefined) return direct;
  let start = body.indexOf('{');
  for (let tries = 0; start >= 0 && tries < MAX_OBJECT_CANDIDATES; tries++) {
    const end = balancedEnd(body, start);
    if (end < 0) {
      // Unbalanced from here; a later `{` may still open a complete object.
      start = body.indexOf('{', start + 1);
      continue;
    }
    const found = tryParseObject(body.slice(start, end + 1));
    if (found !== undefined) return found;
    start = body.indexOf('{', start + 1);
  }
  throw new JudgeError('invalid-reply', 'judge reply holds no JSON object');
}

/** The text inside a leading Markdown fence (with or without a language tag), or the text itself. */
function stripFences(text: string): string {
  const match = /^```[\w-]*[^\S\n]*\n?([\s\S]*?)\n?```\s*$/.exec(text);
  return match?.[1] === undefined ? text : match[1].trim();
}

function tryParseObject(text: string): JsonObject | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Index of the `}` closing the `{` at `start` (JSON strings and escapes respected), or -1. */
function balancedEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}
