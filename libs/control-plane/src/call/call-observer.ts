import type { CallContext } from './call-context';

/**
 * Watches calls go through the pipeline (metrics). A port owned by the control plane and its DI token: the app
 * provides an implementation through `ControlPlaneModule.withObserver(module)`; without one, {@link NOOP_CALL_OBSERVER}.
 *
 * Contract: every method is called on the call's hot path, so it must be synchronous, O(1), allocation-light and
 * must never throw. `callStarted` and `callEnded` are called exactly once per call, in that order; the others at
 * most once per call (`policyEvent` once per policy event), mostly between them: `usage` may come just after
 * `callEnded` (it is read from the response once that is on its way), and so may a late policy event. Durations
 * are milliseconds.
 */
export abstract class CallObserver {
  /** A routed call entered the pipeline. */
  abstract callStarted(call: CallContext): void;
  /** The upstream answered with `status` after `ms` (time to response headers). */
  abstract upstreamResponded(call: CallContext, status: number, ms: number): void;
  /** A streamed call's first token reached the client `ms` after the call arrived. */
  abstract firstToken(call: CallContext, ms: number): void;
  /** Token usage the upstream reported (either may be missing). */
  abstract usage(call: CallContext, inputTokens: number | undefined, outputTokens: number | undefined): void;
  /** A request policy ended the request phase itself: `reject` (an error) or `respond` (its own answer). */
  abstract policyDecision(call: CallContext, policy: string, action: 'reject' | 'respond'): void;
  /** A policy emitted the event `type` (`policy.<name>.<action>`, e.g. `policy.regex-block.blocked`). */
  abstract policyEvent(call: CallContext, type: string): void;
  /** The call is over: `status` is the HTTP status the client got (499 when it went away first). */
  abstract callEnded(call: CallContext, status: number, ms: number): void;
}

/** Status recorded for a call whose client went away before an answer (nginx's convention). */
export const CLIENT_CLOSED_STATUS = 499;

class NoopCallObserver extends CallObserver {
  callStarted(): void {}
  upstreamResponded(): void {}
  firstToken(): void {}
  usage(): void {}
  policyDecision(): void {}
  policyEvent(): void {}
  callEnded(): void {}
}

/** The observer used when the app provides none. */
export const NOOP_CALL_OBSERVER: CallObserver = new NoopCallObserver();
