import type { IncomingHttpHeaders } from 'node:http';
import type { Span } from '@opentelemetry/api';
import type { JsonObject, WireFormat } from '@warden/llm';
import type { AbortSource, Credential, ResolvedRoute } from '@warden/upstream';

/** The LLM endpoint a call came in on. */
export type CallEndpoint = 'chat' | 'messages';

/** What the ingress hands to the control plane: an authenticated, parsed, routed request. */
export interface IncomingCall {
  readonly clientFormat: WireFormat;
  readonly endpoint: CallEndpoint;
  /** The query string to forward (`?beta=true`), with its `?`, or empty. */
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  /** The request body exactly as received. */
  readonly rawBody: Buffer;
  /** The parsed body. */
  readonly request: JsonObject;
  readonly model: string;
  readonly stream: boolean;
  /** The credential to send upstream (the gateway's own, or the client's with AUTH_MODE passthrough). */
  readonly credential: Credential | undefined;
  /**
   * The caller was let in on `credential` alone, unchecked by the gateway (AUTH_MODE=both, a key that is not a client
   * key): a provider that accepts any credential (the built-in mock) must not serve it.
   */
  readonly credentialUnverified?: true;
  readonly keyId: string | undefined;
  /** From `x-claude-code-session-id` or `x-session-id`; a call without one is its own session. */
  readonly sessionId: string | undefined;
}

/**
 * All state of one call, created when it arrives and dropped with it: nothing global grows per call.
 * `aborts` (and `signal`) fire when the client disconnects or a deadline passes; the upstream request is aborted
 * with it.
 */
export interface CallContext extends IncomingCall {
  readonly callId: string;
  readonly sessionId: string;
  /** The request as the client sent it (policies may rewrite what is forwarded, never this). */
  readonly originalRequest: JsonObject;
  readonly route: ResolvedRoute;
  readonly upstreamFormat: WireFormat;
  /** The call's abort, watched cheaply (the upstream exchange); `aborted` and `reason` tell whether and why. */
  readonly aborts: AbortSource;
  /** The same abort as a standard signal, for policies and Node APIs (created when first read). */
  readonly signal: AbortSignal;
  /** Aborts the call (client gone, deadline, protocol violation); the reason is kept on `aborts` and `signal`. */
  abort(reason: unknown): void;
  /** The call's trace span (no-op unless tracing is configured); ended when the call is over. */
  readonly span: Span;
  /** `performance.now()` when the call arrived. */
  readonly startedAt: number;
}
