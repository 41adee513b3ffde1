import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { Agent, type Dispatcher } from 'undici';
import type { WireFormat } from '@warden/llm';
import type { Provider } from '../routing/provider';
import type { UpstreamRetry } from '../resilience/upstream-retry';
import type { UpstreamTimeouts } from '../upstream.config';
import type { AbortSource } from './abort-source';
import { UpstreamBody } from './upstream-body';
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
  /** Fires when the client goes away or a deadline passes: the upstream request is aborted at once. */
  readonly signal: AbortSource;
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
  readonly body: UpstreamBody;
  /** When the request that got this response was sent (`performance.now()`); absent for answers made locally. */
  readonly sentAt?: number;
}

/** A provider base URL split the way a dispatch wants it. */
interface Target {
  readonly origin: string;
  /** The base URL's path without a trailing slash (`/v1`, or empty). */
  readonly prefix: string;
  /**
   * The base URL's query string with its `?` (`?api-version=...`), or empty: sent with every
   * request, before the client's own parameters.
   */
  readonly query: string;
}

/**
 * Sends requests to upstream providers over keep-alive pools (one undici Agent per origin and connect timeout),
 * so no DNS or TLS setup happens per call. Transport failures become {@link UpstreamException}s.
 *
 * Requests go through undici's `dispatch` with a handler of our own ({@link Exchange}) rather than its `request`
 * API: no response stream, no promise chain per chunk, no abort listener kept by undici. On the gateway's hot path
 * that halves the client's CPU per call.
 */
export class UpstreamClient {
  private readonly agents = new Map<string, Agent>();
  private readonly targets = new Map<string, Target>();

  /** Sends `req` and resolves once the response headers arrived. */
  send(req: UpstreamRequest): Promise<UpstreamResponse> {
    const base = req.provider.baseUrls[req.format];
    const path = PATHS[req.format][req.endpoint];
    if (base === undefined || path === undefined) {
      return Promise.reject(
        new Error(`Provider ${req.provider.name} has no ${req.format} ${req.endpoint} endpoint`),
      );
    }
    if (req.signal.aborted) {
      return Promise.reject(toUpstreamException(req.signal.reason, req.provider.name, req.signal));
    }
    const target = this.targetOf(base);
    const dispatcher = this.agentFor(base, req.timeouts.connectMs);
    return new Promise<UpstreamResponse>((resolve, reject) => {
      const exchange = new Exchange(req, resolve, reject);
      try {
        dispatcher.dispatch(
          {
            origin: target.origin,
            path: `${target.prefix}${path}${joinQueries(target.query, req.query)}`,
            method: 'POST',
            headers: req.headers as Record<string, string>,
            body: req.body,
            headersTimeout: req.timeouts.firstTokenMs,
            bodyTimeout: req.timeouts.idleMs,
          },
          exchange,
        );
      } catch (error) {
        exchange.onResponseError(undefined, error);
      }
    });
  }

  /** Closes every pool (graceful shutdown). */
  async close(): Promise<void> {
    const agents = [...this.agents.values()];
    this.agents.clear();
    await Promise.all(agents.map((a) => a.close()));
  }

  private targetOf(base: string): Target {
    let target = this.targets.get(base);
    if (target === undefined) {
      const url = new URL(base);
      target = {
        origin: url.origin,
        prefix: url.pathname.replace(/\/+$/, ''),
        query: url.search.length > 1 ? url.search : '',
      };
      this.targets.set(base, target);
    }
    return target;
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

/** Two query strings (each empty or starting with `?`) as one: the base URL's parameters, then the client's. */
export function joinQueries(base: string, client: string): string {
  if (client.length <= 1) return base;
  if (base === '') return client;
  return `${base}&${client.slice(1)}`;
}

/**
 * One request/response exchange with an upstream (an undici dispatch handler). Settles the `send` promise with
 * the response head, then feeds the body; the call's signal aborts it at any point (a request still queued for a
 * connection is refused at once and never sent).
 */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private body: UpstreamBody | undefined;
  private settled = false;
  private finished = false;
  private readonly unsubscribe: () => void;
  private readonly sentAt = performance.now();

  constructor(
    private readonly req: UpstreamRequest,
    private readonly resolve: (response: UpstreamResponse) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.unsubscribe = req.signal.onAbort(this.onAbort);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.req.signal.aborted) controller.abort(abortError(this.req.signal));
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    if (statusCode < 200 || this.settled) return; // 1xx: informational, the real head follows
    const body = new UpstreamBody();
    body.attach(controller);
    this.body = body;
    this.settled = true;
    this.resolve({ status: statusCode, headers, body, sentAt: this.sentAt });
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.body?.push(chunk);
  }

  onResponseEnd(): void {
    this.finish();
    this.body?.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: unknown): void {
    this.finish();
    if (!this.settled) {
      this.settled = true;
      this.reject(toUpstreamException(error, this.req.provider.name, this.req.signal));
    } else this.body?.fail(error);
  }

  /** The call's signal fired: stop the exchange wherever it is. */
  private readonly onAbort = (): void => {
    const reason = abortError(this.req.signal);
    if (this.controller !== undefined) this.controller.abort(reason);
    // Not connected yet (queued): refuse now; the dispatcher drops it when its turn comes (onRequestStart).
    else this.onResponseError(undefined, reason);
  };

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.unsubscribe();
  }
}

/** The error an abort is reported with to undici (the abort's reason itself when it is an Error). */
function abortError(signal: AbortSource): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('upstream call aborted');
}
