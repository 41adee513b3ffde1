import type {
  AnthropicResponse,
  AnthropicStreamEvent,
  AnthropicStopReason,
  AnthropicUsage,
  JsonObject,
} from '@warden/llm';
import type { PolicyContext } from './policy-context';
import type { PolicyRequest } from './policy-request';

/** A value or a promise of it: hooks answer synchronously on the fast path, asynchronously when they must wait. */
export type MaybePromise<T> = T | Promise<T>;

/** What a request hook decides. Returning nothing forwards the request unchanged. */
export type RequestVerdict =
  /** Forward, possibly rewritten (a body in the client's format). */
  | { action: 'forward'; request?: JsonObject }
  /** Answer the client directly with this assistant text; the upstream is never called. */
  | { action: 'respond'; text: string }
  /** Refuse with an error in the client's API shape. */
  | { action: 'reject'; status: number; message: string };

/** A complete tool call, as the client would receive it. */
export interface ToolCall {
  readonly id: string;
  readonly name: string;
  /** The arguments as parsed JSON (`undefined` when they are not valid JSON). */
  readonly input: unknown;
  /** The arguments exactly as streamed (a JSON text). */
  readonly arguments: string;
}

/** What a tool-call hook decides. Returning nothing passes the call. */
export type ToolCallVerdict =
  | { action: 'pass' }
  /** Replace the tool call by a text block carrying `text` (the agent never runs it). */
  | { action: 'replace'; text: string }
  /** Remove the tool call silently. */
  | { action: 'drop' };

/** The block a text or thinking hook is looking at. */
export interface BlockInfo {
  /** Index of the block in the upstream message. */
  readonly index: number;
  readonly type: 'text' | 'thinking';
}

/** End of message information. */
export interface FinishInfo {
  readonly stopReason: AnthropicStopReason | null;
  readonly usage: AnthropicUsage | undefined;
}

/**
 * A policy: code that inspects, rewrites or blocks requests and responses, while they stream. Every hook is
 * optional and passes through by default. The same code serves both client formats and both upstream formats,
 * streaming or not: responses always arrive as the canonical event stream (Anthropic content blocks), and the
 * non-streaming path runs the same hooks over the whole message.
 *
 * Policies are shared by all calls (instances are frozen after construction): per-call state lives in
 * `ctx.state()`, never on the policy.
 */
export interface Policy {
  /** Instance name: used in events (`policy.<name>.<action>`), metrics and the admin API. */
  readonly name: string;

  /** Runs before the upstream call: rewrite the request, answer it directly, or reject it. */
  onRequest?(ctx: PolicyContext, request: PolicyRequest): MaybePromise<RequestVerdict | void>;

  /** A whole response (non-streaming), or a whole streamed response when this is the only response hook. */
  onResponse?(ctx: PolicyContext, message: AnthropicResponse): MaybePromise<AnthropicResponse | void>;

  /** Raw access: every canonical event in, zero or more out. When present, the block hooks below are not used. */
  onEvent?(ctx: PolicyContext, event: AnthropicStreamEvent): MaybePromise<AnthropicStreamEvent[]>;

  onStreamStart?(ctx: PolicyContext): MaybePromise<void>;
  /** A text delta; returns the text to forward now (may hold back by returning less, even ''). */
  onTextDelta?(ctx: PolicyContext, text: string, block: BlockInfo): MaybePromise<string>;
  /** A text block is complete (`text` is everything received); returns text still to emit before it closes. */
  onTextComplete?(ctx: PolicyContext, text: string, block: BlockInfo): MaybePromise<string | void>;
  onThinkingDelta?(ctx: PolicyContext, thinking: string, block: BlockInfo): MaybePromise<string>;
  onThinkingComplete?(ctx: PolicyContext, thinking: string, block: BlockInfo): MaybePromise<string | void>;
  /** A tool call is streaming (observe only: the call is held until complete when a tool hook exists). */
  onToolCallDelta?(
    ctx: PolicyContext,
    partial: { id: string; name: string; arguments: string },
  ): MaybePromise<void>;
  /** A tool call is complete: pass it, replace it with text, or drop it. Calls are decided concurrently. */
  onToolCallComplete?(ctx: PolicyContext, call: ToolCall): MaybePromise<ToolCallVerdict | void>;
  /** The message is finishing (before `message_delta` is forwarded). */
  onFinish?(ctx: PolicyContext, finish: FinishInfo): MaybePromise<void>;
  /** The message is over: its `message_stop` arrived (it is sent to the client once this hook returns). */
  onStreamEnd?(ctx: PolicyContext): MaybePromise<void>;
}

/** Hooks that make a policy take part in the response phase. */
export const RESPONSE_HOOKS = [
  'onResponse',
  'onEvent',
  'onStreamStart',
  'onTextDelta',
  'onTextComplete',
  'onThinkingDelta',
  'onThinkingComplete',
  'onToolCallDelta',
  'onToolCallComplete',
  'onFinish',
  'onStreamEnd',
] as const satisfies ReadonlyArray<keyof Policy>;

/** True when `policy` has a response-phase hook. */
export function hasResponseHooks(policy: Policy): boolean {
  return RESPONSE_HOOKS.some((hook) => typeof policy[hook] === 'function');
}

/**
 * True when `policy` has a streaming hook (raw or block). Such a policy runs those hooks in both modes, streaming
 * or not; `onResponse` alone is the whole-message mode, also in both modes.
 */
export function hasStreamHooks(policy: Policy): boolean {
  return RESPONSE_HOOKS.some((hook) => hook !== 'onResponse' && typeof policy[hook] === 'function');
}
