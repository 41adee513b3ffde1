import type { IncomingHttpHeaders } from 'node:http';
import type { Span } from '@opentelemetry/api';
import type { JsonObject, WireFormat } from '@warden/llm';
import type { Credential, ResolvedRoute } from '@warden/upstream';
import { CallAbort } from './call-abort';
import type { CallContext, CallEndpoint, IncomingCall } from './call-context';

/** What the control plane decided about a call before serving it. */
export interface CallSetup {
  readonly callId: string;
  readonly route: ResolvedRoute;
  readonly upstreamFormat: WireFormat;
  readonly credential: Credential | undefined;
  readonly span: Span;
}

/**
 * The {@link CallContext} of a call being served. A class rather than an object literal: one fixed shape, the
 * signal getter and `abort` on the prototype instead of two closures per call.
 */
export class ServedCall implements CallContext {
  readonly clientFormat: WireFormat;
  readonly endpoint: CallEndpoint;
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: Buffer;
  readonly request: JsonObject;
  readonly model: string;
  readonly stream: boolean;
  readonly keyId: string | undefined;
  readonly callId: string;
  readonly sessionId: string;
  readonly originalRequest: JsonObject;
  readonly route: ResolvedRoute;
  readonly upstreamFormat: WireFormat;
  readonly credential: Credential | undefined;
  readonly span: Span;
  readonly startedAt: number;
  readonly aborts = new CallAbort();

  constructor(call: IncomingCall, setup: CallSetup) {
    this.clientFormat = call.clientFormat;
    this.endpoint = call.endpoint;
    this.query = call.query;
    this.headers = call.headers;
    this.rawBody = call.rawBody;
    this.request = call.request;
    this.model = call.model;
    this.stream = call.stream;
    this.keyId = call.keyId;
    this.callId = setup.callId;
    this.sessionId = call.sessionId ?? setup.callId;
    this.originalRequest = call.request;
    this.route = setup.route;
    this.upstreamFormat = setup.upstreamFormat;
    this.credential = setup.credential;
    this.span = setup.span;
    this.startedAt = performance.now();
  }

  get signal(): AbortSignal {
    return this.aborts.signal;
  }

  abort(reason: unknown): void {
    this.aborts.abort(reason);
  }
}
