import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import type { WireFormat } from '@warden/llm';
import type { Provider } from '../routing/provider';
import type { UpstreamRetry } from '../resilience/upstream-retry';
import type { UpstreamTimeouts } from '../upstream.config';
import { toUpstreamException } from './upstream.exception';

/** The endpoint of a call, relative to the provider's base URL for the format. */
export type UpstreamEndpoint = 'chat' | 'messages' | 'count-tokens';

const PATHS: Record<WireFormat, Partial<Record<UpstreamEndpoint, string>>> = {
  openai: { chat: '/chat/completions' },
  anthropic: { messages: '/v1/messages', 'count-tokens': '/v1/messages/count_tokens' },
};

/** Idle keep-alive sockets are kept this long (providers close theirs after about a minute). */
const KEEP_ALIVE_TIMEOUT_MS = 30_000;

/** One upstream request. */
export interface UpstreamRequest {
  readonly provider: Provider;
  readonly format: WireFormat;
  readonly endpoint: UpstreamEndpoint;
  /** Query string to append, with its leading `?` (Claude Code's `?beta=true`), or empty. */
  readonly query: string;
  readonly headers: OutgoingHttpHeaders;
  readonly body: string | Buffer;
  /** Fired when the client goes away or a deadline passes: the upstream request is aborted at once. */
  readonly signal: AbortSignal;
  readonly timeouts: UpstreamTimeouts;
  /** When the whole call must be over (`performance.now()` clock): no retry is started that would end later. */
  readonly deadlineAt?: number;
  /** Told of each retry before its delay (span events, for instance). */
  readonly onRetry?: (retry: UpstreamRetry) => void;
}

/** An upstream response whose body has not been read yet: read it at the client's pace. */
export interface UpstreamResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Readable;
}

/**
 * Sends requests to upstream providers over keep-alive pools (one undici Agent per origin and connect timeout),
 * so no DNS or TLS setup happens per call. Transport failures become {@link UpstreamException}s.
 */
export class UpstreamClient {
  private readonly agents = new Map<string, Agent>();

  /** Sends `req` and resolves once the response headers arrived. */
  async send(req: UpstreamRequest): Promise<UpstreamResponse> {
    const base = req.provider.baseUrls[req.format];
    const path = PATHS[req.format][req.endpoint];
    if (base === undefined || path === undefined) {
      throw new Error(`Provider ${req.provider.name} has no ${req.format} ${req.endpoint} endpoint`);
    }
    const url = `${base}${path}${req.query}`;
    try {
      const res = await request(url, {
        method: 'POST',
        headers: req.headers as Record<string, string>,
        body: req.body,
        signal: req.signal,
        dispatcher: this.agentFor(base, req.timeouts.connectMs),
        headersTimeout: req.timeouts.firstTokenMs,
        bodyTimeout: req.timeouts.idleMs,
      });
      return { status: res.statusCode, headers: res.headers, body: res.body };
    } catch (error) {
      throw toUpstreamException(error, req.provider.name, req.signal);
    }
  }

  /** Closes every pool (graceful shutdown). */
  async close(): Promise<void> {
    const agents = [...this.agents.values()];
    this.agents.clear();
    await Promise.all(agents.map((a) => a.close()));
  }

  private agentFor(base: string, connectMs: number): Agent {
    const key = `${base}|${connectMs}`;
    let agent = this.agents.get(key);
    if (agent === undefined) {
      agent = new Agent({ connect: { timeout: connectMs }, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS });
      this.agents.set(key, agent);
    }
    return agent;
  }
}
