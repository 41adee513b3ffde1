import type { MockReplyPlan } from './reply/mock-reply.plan';

/** Per-request values a protocol needs to render a reply. */
export interface MockReplyContext {
  /** Sequence number of the request (also its record id), used in the message / completion id. */
  readonly seq: number;
  /** Model echoed back (the request's `model`). */
  readonly model: string;
  /** Prompt tokens reported in usage. */
  readonly inputTokens: number;
  /** Unix seconds for OpenAI `created`. */
  readonly created: number;
  /** OpenAI `stream_options.include_usage`. */
  readonly includeUsage: boolean;
}

/** The frames of a streamed reply, with the positions where a fault may be injected. */
export interface MockFrameSequence {
  /** Complete SSE frames, each ending with a blank line. */
  readonly frames: readonly string[];
  /**
   * `cuts[n]` is the index of the first frame NOT sent when a fault is injected after n content deltas:
   * `cuts[0]` is the end of the preamble, `cuts[k]` the frame after the k-th delta. Faults after more deltas than
   * there are use the last cut.
   */
  readonly cuts: readonly number[];
}

/** Resolved error shape: HTTP status, the API's error type and message. */
export interface MockErrorSpec {
  readonly status: number;
  readonly type: string | undefined;
  readonly message: string | undefined;
}

/** What differs between the two APIs: request checks and the bytes of replies, streams and errors. */
export interface MockProtocol {
  /** Header carrying the request id (`request-id` or `x-request-id`). */
  readonly requestIdHeader: string;
  /** A 400 message when the body misses a field the real API requires, else `undefined`. */
  readonly validate: (body: Record<string, unknown>) => string | undefined;
  /** Non-streaming reply body (JSON). */
  message(plan: MockReplyPlan, ctx: MockReplyContext): string;
  /** Streamed reply frames. */
  frames(plan: MockReplyPlan, ctx: MockReplyContext): MockFrameSequence;
  /** Error body (JSON) in the API's shape; the type and message default from the status. */
  errorBody(error: MockErrorSpec): string;
  /** In-band error frame ending a stream. */
  inBandError(type: string | undefined, message: string | undefined): string;
  /** HTTP status standing for an in-band error of this type on a non-streaming request. */
  inBandErrorStatus(type: string | undefined): number;
  /** A frame whose JSON is cut short. */
  readonly malformedFrame: string;
}
