import type { Span } from '@opentelemetry/api';
import type { JsonObject, WireFormat } from '@warden/llm';

/** Facts about one call, shared by every policy of the chain. */
export interface CallInfo {
  readonly callId: string;
  readonly sessionId: string;
  readonly keyId: string | undefined;
  readonly clientFormat: WireFormat;
  readonly upstreamFormat: WireFormat;
  /** The model the client asked for. */
  readonly model: string;
  readonly stream: boolean;
  /** The request as the client sent it (client format). Never mutated. */
  readonly originalRequest: JsonObject;
  /** Fires when the client goes away or the call is aborted: stop waiting (judges pass it to their fetch). */
  readonly signal: AbortSignal;
  /** The call's trace span (a no-op unless tracing is configured); each policy's time is recorded on it. */
  readonly span: Span;
}

/** Receives policy events: `type` is `policy.<name>.<action>`. */
export type PolicyEventSink = (type: string, data: JsonObject) => void;

/**
 * What a hook receives: the call, the policy's own per-call state, and `emit` for policy events. One instance per
 * (call, policy); dropped with the call.
 */
export interface PolicyContext extends CallInfo {
  /**
   * The request as it stands (client format): in the request phase, as the policies before this one left it (what
   * `onRequest` receives); in the response phase, as it was forwarded upstream, after every request policy.
   */
  readonly request: JsonObject;
  /** The policy's per-call scratch state, created by `init` on first use. */
  state<T>(init: () => T): T;
  /** Publishes `policy.<policy name>.<action>` with `data`. */
  emit(action: string, data: JsonObject): void;
}

/** The per-(call, policy) context. */
export class CallPolicyContext implements PolicyContext {
  private stateValue: unknown;
  private hasState = false;

  readonly callId: string;
  readonly sessionId: string;
  readonly keyId: string | undefined;
  readonly clientFormat: WireFormat;
  readonly upstreamFormat: WireFormat;
  readonly model: string;
  readonly stream: boolean;
  readonly originalRequest: JsonObject;
  readonly span: Span;

  constructor(
    private readonly call: CallInfo,
    private readonly policyName: string,
    private readonly sink: PolicyEventSink,
    /** The request as it stands (see {@link PolicyContext.request}); the original one when no policy rewrites it. */
    private readonly currentRequest: () => JsonObject = () => call.originalRequest,
  ) {
    this.callId = call.callId;
    this.sessionId = call.sessionId;
    this.keyId = call.keyId;
    this.clientFormat = call.clientFormat;
    this.upstreamFormat = call.upstreamFormat;
    this.model = call.model;
    this.stream = call.stream;
    this.originalRequest = call.originalRequest;
    this.span = call.span;
  }

  get request(): JsonObject {
    return this.currentRequest();
  }

  /** Read from the call when a policy asks: a call's signal may be created on first use. */
  get signal(): AbortSignal {
    return this.call.signal;
  }

  state<T>(init: () => T): T {
    if (!this.hasState) {
      this.stateValue = init();
      this.hasState = true;
    }
    return this.stateValue as T;
  }

  emit(action: string, data: JsonObject): void {
    this.sink(`policy.${this.policyName}.${action}`, data);
  }
}
