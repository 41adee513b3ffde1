import type { AnthropicStreamEvent, JsonObject } from '@warden/llm';
import type { CallContext } from '../call/call-context';

/**
 * Transforms one call's canonical event stream. `push` may hold events back (return fewer) and release them later;
 * results may be synchronous (cheap path) or promised (a judge). `end` flushes what is held at end of stream.
 */
export interface StreamTransform {
  push(event: AnthropicStreamEvent): AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]>;
  end(): AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]>;
}

/**
 * The policy stage of the pipeline (a port: the policy engine provides the real one). When a phase has no hook,
 * the control plane takes the fast path for it: the request's bytes, and same-format response bytes, go through
 * unchanged. Response hooks see the canonical event stream for both streaming and whole responses.
 */
export abstract class PolicyStage {
  /** True when some policy rewrites or inspects requests. */
  abstract readonly hasRequestHooks: boolean;
  /** True when some policy inspects or rewrites responses (streamed or whole). */
  abstract readonly hasResponseHooks: boolean;
  /** Runs the request policies over the client's request, in the client's format. */
  abstract onRequest(ctx: CallContext, request: JsonObject): Promise<JsonObject>;
  /** A fresh transform for one call's response events. */
  abstract createStreamTransform(ctx: CallContext): StreamTransform;
}
