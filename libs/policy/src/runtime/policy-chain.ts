import type { Span } from '@opentelemetry/api';
import {
  messageToEvents,
  MessageAssembler,
  type AnthropicResponse,
  type AnthropicStreamEvent,
  type JsonObject,
} from '@warden/llm';
import { hasResponseHooks, hasStreamHooks, type Policy, type RequestVerdict } from '../core/policy';
import { CallPolicyContext, type CallInfo, type PolicyEventSink } from '../core/policy-context';
import type { PolicyRequest } from '../core/policy-request';
import { HookTransform, WholeMessageTransform } from './hook-transform';
import { PolicyFailure } from './policy-errors';
import { endPolicySpan, startPolicySpan, tracedStream } from './policy-spans';
import type { PolicyTimings } from './policy-timings';
import { isPromise, PASS_THROUGH, type StreamTransform } from './stream-transform';

/** Outcome of the request phase. */
export type RequestOutcome =
  | { action: 'forward'; request: JsonObject; rewritten: boolean }
  | { action: 'respond'; text: string; policy: string }
  | { action: 'reject'; status: number; message: string; policy: string };

/** Settings shared by every call of a chain. */
export interface ChainOptions {
  readonly maxBufferBytes: number;
  readonly timings: PolicyTimings;
}

/**
 * An immutable, ordered list of policies. Each call takes the chain that is current when it starts ({@link begin})
 * and keeps it to the end, so a hot swap never changes a call in flight.
 */
export class PolicyChain {
  readonly hasRequestHooks: boolean;
  readonly hasResponseHooks: boolean;

  constructor(
    readonly policies: readonly Policy[],
    private readonly options: ChainOptions,
  ) {
    this.hasRequestHooks = policies.some((p) => p.onRequest !== undefined);
    this.hasResponseHooks = policies.some(hasResponseHooks);
  }

  /** Starts one call's run of the chain. */
  begin(call: CallInfo, sink: PolicyEventSink): ChainRun {
    return new ChainRun(this, call, sink, this.options);
  }
}

/** One call's pass through a chain: the per-call contexts live here and are dropped with it. */
export class ChainRun {
  private readonly contexts: CallPolicyContext[];
  /** Milliseconds spent in each policy on this call (recorded on the call's span when it ends). */
  private readonly spent = new Map<string, number>();
  /** The request as the request policies have left it so far (PolicyContext.request). */
  private request: JsonObject;

  constructor(
    readonly chain: PolicyChain,
    private readonly call: CallInfo,
    sink: PolicyEventSink,
    private readonly options: ChainOptions,
  ) {
    this.request = call.originalRequest;
    const current = (): JsonObject => this.request;
    this.contexts = chain.policies.map((p) => new CallPolicyContext(call, p.name, sink, current));
  }

  /** Time spent in each policy so far on this call, in ms. */
  spentMs(): ReadonlyMap<string, number> {
    return this.spent;
  }

  private observe(policy: string, ms: number): void {
    this.options.timings.observe(policy, ms);
    this.spent.set(policy, (this.spent.get(policy) ?? 0) + ms);
  }

  /** Runs the request hooks in order; the first `respond` or `reject` ends the phase. */
  async onRequest(request: PolicyRequest): Promise<RequestOutcome> {
    let body = request.body;
    this.request = body;
    for (const [i, policy] of this.chain.policies.entries()) {
      const hook = policy.onRequest;
      if (hook === undefined) continue;
      const started = performance.now();
      const span = startPolicySpan(this.call.span, policy.name, 'request');
      let verdict: RequestVerdict | void;
      try {
        verdict = await hook.call(policy, this.contexts[i] as CallPolicyContext, {
          format: request.format,
          body,
        });
      } catch (error) {
        endPolicySpan(span, error);
        throw new PolicyFailure(policy.name, 'onRequest', error);
      } finally {
        this.observe(policy.name, performance.now() - started);
      }
      if (span.isRecording()) span.setAttribute('warden.policy.action', verdict?.action ?? 'forward');
      endPolicySpan(span);
      if (verdict === undefined || verdict.action === 'forward') {
        if (verdict?.request !== undefined) {
          body = verdict.request;
          this.request = body;
        }
        continue;
      }
      return { ...verdict, policy: policy.name };
    }
    return { action: 'forward', request: body, rewritten: body !== request.body };
  }

  /**
   * The composed stream transform of every policy with response hooks, each timed, and traced as one
   * `warden.policy.<name>.stream` span under `parent` (the stream's span; the call's by default).
   */
  streamTransform(parent: Span = this.call.span): StreamTransform {
    const stages: StreamTransform[] = [];
    for (const [i, policy] of this.chain.policies.entries()) {
      if (!hasResponseHooks(policy)) continue;
      const ctx = this.contexts[i] as CallPolicyContext;
      const stage = timed(policy.name, this.transformFor(policy, ctx), (name, ms) => this.observe(name, ms));
      stages.push(tracedStream(policy.name, stage, parent, this.call.signal));
    }
    if (stages.length === 0) return PASS_THROUGH;
    return stages.length === 1 ? (stages[0] as StreamTransform) : new ComposedTransform(stages);
  }

  /** Runs the response hooks over a whole (non-streaming) message: `onResponse` where defined, else the stream hooks. */
  async transformMessage(message: AnthropicResponse): Promise<AnthropicResponse> {
    let current = message;
    for (const [i, policy] of this.chain.policies.entries()) {
      if (!hasResponseHooks(policy)) continue;
      const ctx = this.contexts[i] as CallPolicyContext;
      const started = performance.now();
      const span = startPolicySpan(this.call.span, policy.name, 'response');
      try {
        if (!hasStreamHooks(policy) && policy.onResponse !== undefined) {
          const copy = structuredClone(current);
          current = (await policy.onResponse(ctx, copy)) ?? copy;
        } else {
          current = await assemble(this.transformFor(policy, ctx), messageToEvents(current));
        }
      } catch (error) {
        endPolicySpan(span, error);
        throw error instanceof PolicyFailure ? error : new PolicyFailure(policy.name, 'onResponse', error);
      } finally {
        this.observe(policy.name, performance.now() - started);
      }
      endPolicySpan(span);
    }
    return current;
  }

  private transformFor(policy: Policy, ctx: CallPolicyContext): StreamTransform {
    const onEvent = policy.onEvent;
    if (onEvent !== undefined) {
      const push = (
        event: AnthropicStreamEvent,
      ): AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]> => {
        let out: AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]>;
        try {
          out = onEvent.call(policy, ctx, event);
        } catch (error) {
          throw new PolicyFailure(policy.name, 'onEvent', error);
        }
        return isPromise(out)
          ? out.catch((error: unknown) => {
              throw new PolicyFailure(policy.name, 'onEvent', error);
            })
          : out;
      };
      return { push, end: () => [] };
    }
    if (!hasStreamHooks(policy) && policy.onResponse !== undefined) {
      return new WholeMessageTransform(policy, ctx, this.options.maxBufferBytes);
    }
    return new HookTransform(policy, ctx, this.options.maxBufferBytes);
  }
}

async function assemble(
  transform: StreamTransform,
  events: AnthropicStreamEvent[],
): Promise<AnthropicResponse> {
  const assembler = new MessageAssembler();
  for (const event of events) for (const out of await transform.push(event)) assembler.push(out);
  for (const out of await transform.end()) assembler.push(out);
  return assembler.message;
}

/** Measures each push/end of one policy's transform (until resolution when it waits). */
function timed(
  name: string,
  inner: StreamTransform,
  observe: (name: string, ms: number) => void,
): StreamTransform {
  const measure = (fn: () => AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]>) => {
    const started = performance.now();
    const out = fn();
    if (!isPromise(out)) {
      observe(name, performance.now() - started);
      return out;
    }
    return out.finally(() => observe(name, performance.now() - started));
  };
  return { push: (event) => measure(() => inner.push(event)), end: () => measure(() => inner.end()) };
}

/** Feeds each stage's output into the next; synchronous until a stage answers with a promise. */
class ComposedTransform implements StreamTransform {
  constructor(private readonly stages: StreamTransform[]) {}

  push(event: AnthropicStreamEvent): AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]> {
    return this.through(0, [event]);
  }

  end(): AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]> {
    return this.endFrom(0, []);
  }

  /** Pushes `events` through stages[from..]. */
  private through(
    from: number,
    events: AnthropicStreamEvent[],
  ): AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]> {
    let current = events;
    for (let s = from; s < this.stages.length; s++) {
      const stage = this.stages[s] as StreamTransform;
      const next: AnthropicStreamEvent[] = [];
      for (let e = 0; e < current.length; e++) {
        const out = stage.push(current[e] as AnthropicStreamEvent);
        if (isPromise(out)) {
          const rest = current.slice(e + 1);
          return out.then(async (resolved) => {
            next.push(...resolved);
            for (const later of rest) next.push(...(await stage.push(later)));
            return this.through(s + 1, next);
          });
        }
        next.push(...out);
      }
      current = next;
    }
    return current;
  }

  /** Ends stage `s` (its held events go through the later stages), then the next one. */
  private endFrom(
    s: number,
    collected: AnthropicStreamEvent[],
  ): AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]> {
    if (s >= this.stages.length) return collected;
    const stage = this.stages[s] as StreamTransform;
    const held = stage.end();
    const continueWith = (events: AnthropicStreamEvent[]) => {
      const passed = this.through(s + 1, events);
      return isPromise(passed)
        ? passed.then((out) => this.endFrom(s + 1, [...collected, ...out]))
        : this.endFrom(s + 1, [...collected, ...passed]);
    };
    return isPromise(held) ? held.then(continueWith) : continueWith(held);
  }
}
