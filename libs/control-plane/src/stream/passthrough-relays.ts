import {
  AnthropicStreamValidator,
  isJsonObject,
  OPENAI_DONE_FRAME,
  OpenAIStreamValidator,
  ProtocolViolation,
  type AnthropicStreamEvent,
  type OpenAIChunk,
  terminatedRaw,
  type SseFrame,
} from '@warden/llm';
import type { CallRecorder } from '../call/call-recorder';
import type { CallUsage, ErrorKind, FrameRelay } from './frame-relay';
import { errorMessageOf, parseFrameJson, trackAnthropicUsage } from './json-frame';
import {
  ANTHROPIC_KEEPALIVE,
  anthropicErrorFrame,
  OPENAI_KEEPALIVE,
  openaiErrorFrames,
} from './stream-errors';

/**
 * Same-format Anthropic stream with no response policy: each frame is validated and its original bytes are
 * forwarded, so thinking signatures, unknown event fields and `ping`s reach the client untouched.
 */
export class AnthropicPassthroughRelay implements FrameRelay {
  private readonly validator = new AnthropicStreamValidator();
  readonly usage: CallUsage = {};
  streamError: string | undefined = undefined;
  /** The upstream's bytes only: no policy holds anything, no keep-alive is added. */
  readonly mayHold = false;

  constructor(private readonly recorder?: CallRecorder) {}

  get finished(): boolean {
    return this.validator.finished;
  }

  frame(frame: SseFrame): string {
    if (frame.data === '') return '';
    const event = parseFrameJson(frame.data) as AnthropicStreamEvent;
    this.validator.check(event);
    if (event.type === 'error') this.streamError = errorMessageOf(event);
    trackAnthropicUsage(event, this.usage);
    this.recorder?.upstreamEvent(event, frame.data.length);
    return terminatedRaw(frame);
  }

  end(): string {
    if (!this.validator.finished) throw new ProtocolViolation('upstream stream ended before message_stop');
    return '';
  }

  fail(kind: ErrorKind, message: string): string {
    return anthropicErrorFrame(kind, message);
  }

  keepAlive(): string {
    return ANTHROPIC_KEEPALIVE;
  }
}

/** Same-format OpenAI stream with no response policy: validated, forwarded byte for byte, `[DONE]` guaranteed. */
export class OpenAIPassthroughRelay implements FrameRelay {
  private readonly validator = new OpenAIStreamValidator();
  readonly usage: CallUsage = {};
  streamError: string | undefined = undefined;
  /** The upstream's bytes only: no policy holds anything, no keep-alive is added. */
  readonly mayHold = false;

  constructor(private readonly recorder?: CallRecorder) {}

  get finished(): boolean {
    return this.validator.finished;
  }

  frame(frame: SseFrame): string {
    if (frame.data === '[DONE]') {
      this.validator.done();
      return terminatedRaw(frame);
    }
    if (frame.data === '') return '';
    const chunk = parseFrameJson(frame.data);
    this.validator.check(chunk);
    if (isJsonObject(chunk)) {
      if (isJsonObject(chunk.error) && chunk.choices === undefined) {
        this.streamError = errorMessageOf(chunk);
        return terminatedRaw(frame) + OPENAI_DONE_FRAME;
      }
      this.recorder?.upstreamChunk(chunk as OpenAIChunk, frame.data.length);
      const usage = chunk.usage;
      if (isJsonObject(usage)) {
        if (typeof usage.prompt_tokens === 'number') this.usage.inputTokens = usage.prompt_tokens;
        if (typeof usage.completion_tokens === 'number') this.usage.outputTokens = usage.completion_tokens;
      }
    }
    return terminatedRaw(frame);
  }

  end(): string {
    if (!this.validator.finished && this.streamError === undefined) {
      throw new ProtocolViolation('upstream stream ended before [DONE]');
    }
    return '';
  }

  fail(kind: ErrorKind, message: string): string {
    return openaiErrorFrames(kind, message);
  }

  keepAlive(): string {
    return OPENAI_KEEPALIVE;
  }
}
