import type { SseFrame } from '@warden/llm';

/** Token counts seen on a call, in Anthropic terms. */
export interface CallUsage {
  inputTokens?: number;
  outputTokens?: number;
}

/**
 * Turns upstream SSE frames into the text written to the client. Every implementation validates what it writes:
 * an invalid sequence throws (a ProtocolViolation) and the caller ends the stream with {@link FrameRelay.fail}.
 */
export interface FrameRelay {
  /** Client text for one upstream frame (possibly empty while a policy holds events). */
  frame(frame: SseFrame): string | Promise<string>;
  /** Client text at upstream end of stream; throws when the stream ended before it was complete. */
  end(): string | Promise<string>;
  /** The in-band error that ends the client's stream cleanly. */
  fail(type: ErrorKind, message: string): string;
  /** Bytes that keep the connection alive without changing the stream (Anthropic `ping`, OpenAI SSE comment). */
  keepAlive(): string;
  /** True once the client's stream is complete (final event or error written). */
  readonly finished: boolean;
  /**
   * Whether policies may hold events back (a chain with response hooks): the client then gets a keep-alive after
   * `STREAM_KEEPALIVE_MS` without a write. A relay without them writes the upstream's stream and nothing else.
   */
  readonly mayHold: boolean;
  /**
   * The message of the error event that ended the stream when it came from the upstream (an Anthropic `error`
   * event, an OpenAI `{error}` chunk, converted or not): the client's stream is complete, the call failed.
   * Undefined otherwise (a failure of the gateway's own is written with {@link FrameRelay.fail}).
   */
  readonly streamError: string | undefined;
  readonly usage: CallUsage;
}

/** Kinds of in-band stream errors. */
export type ErrorKind = 'upstream' | 'timeout' | 'protocol' | 'overloaded' | 'internal';
