import {
  AnthropicStreamValidator,
  encodeAnthropicEvent,
  encodeOpenAIChunk,
  isJsonObject,
  OPENAI_DONE_FRAME,
  OpenAIStreamDecoder,
  OpenAIStreamEncoder,
  OpenAIStreamValidator,
  ProtocolViolation,
  type AnthropicStreamEvent,
  type OpenAIChunk,
  type OpenAIUsage,
  type SseFrame,
  type WireFormat,
} from '@warden/llm';
import { isPromise, PASS_THROUGH, type StreamTransform } from '@warden/policy';
import type { CallRecorder } from '../call/call-recorder';
import type { CallUsage, ErrorKind, FrameRelay } from './frame-relay';
import { errorMessageOf, parseFrameJson, trackAnthropicUsage } from './json-frame';
import {
  ANTHROPIC_KEEPALIVE,
  anthropicErrorFrame,
  OPENAI_KEEPALIVE,
  openaiErrorFrames,
} from './stream-errors';
import { convertUpstreamError } from '../errors/error-bodies';

/** Upstream frames -> canonical events. */
interface EventSource {
  frame(frame: SseFrame): AnthropicStreamEvent[];
  end(): AnthropicStreamEvent[];
  /** Whether the token counts of the events are the upstream's (not zeros made up for a stream without usage). */
  readonly usageReported: boolean;
  /**
   * Whether the last frame was an OpenAI chunk of plain content (one choice, text or refusal or the role, no tool
   * call, no finish reason, no usage): one an OpenAI client may get as it came when the policies pass its events.
   */
  readonly plainChunk: boolean;
}

/** Canonical events -> validated client text. */
export interface EventSink {
  write(event: AnthropicStreamEvent): string;
  fail(kind: ErrorKind, message: string): string;
  keepAlive(): string;
  readonly finished: boolean;
  /** The message of an `error` event written (see FrameRelay.streamError); not set by `fail`. */
  readonly streamError: string | undefined;
}

/** The validated encoder of canonical events into the client's SSE. */
export function createClientSink(format: WireFormat, usage: CallUsage, includeUsage: boolean): EventSink {
  return format === 'anthropic' ? new AnthropicSink(usage) : new OpenAISink(usage, includeUsage);
}

class AnthropicEventSource implements EventSource {
  /** The events are the upstream's own: a count they lack stays unknown. */
  readonly usageReported = true;
  readonly plainChunk = false;

  frame(frame: SseFrame): AnthropicStreamEvent[] {
    if (frame.data === '') return [];
    return [parseFrameJson(frame.data) as AnthropicStreamEvent];
  }

  end(): AnthropicStreamEvent[] {
    return [];
  }
}

class OpenAIChunkSource implements EventSource {
  private readonly decoder = new OpenAIStreamDecoder();
  private done = false;
  plainChunk = false;
  /** The usage the upstream reported, as it came (see OpenAIStreamDecoder.reportedUsage). */
  readonly reportedUsage = (): OpenAIUsage | undefined => this.decoder.reportedUsage;

  get usageReported(): boolean {
    return this.decoder.usageReported;
  }

  frame(frame: SseFrame): AnthropicStreamEvent[] {
    this.plainChunk = false;
    if (frame.data === '[DONE]') {
      this.done = true;
      return this.decoder.finish();
    }
    if (frame.data === '') return [];
    const chunk = parseFrameJson(frame.data);
    this.plainChunk = isPlainContentChunk(chunk);
    if (isJsonObject(chunk) && isJsonObject(chunk.error) && chunk.choices === undefined) {
      const converted = convertUpstreamError(chunk, 500, 'openai', 'anthropic');
      this.done = true;
      return [converted as AnthropicStreamEvent];
    }
    return this.decoder.push(chunk as OpenAIChunk);
  }

  end(): AnthropicStreamEvent[] {
    if (this.done) return [];
    this.done = true;
    return this.decoder.finish();
  }
}

class AnthropicSink implements EventSink {
  private readonly validator = new AnthropicStreamValidator();
  streamError: string | undefined = undefined;

  constructor(private readonly usage: CallUsage) {}

  get finished(): boolean {
    return this.validator.finished;
  }

  write(event: AnthropicStreamEvent): string {
    this.validator.check(event);
    if (event.type === 'error') this.streamError = errorMessageOf(event);
    trackAnthropicUsage(event, this.usage);
    return encodeAnthropicEvent(event);
  }

  fail(kind: ErrorKind, message: string): string {
    return anthropicErrorFrame(kind, message);
  }

  keepAlive(): string {
    return ANTHROPIC_KEEPALIVE;
  }
}

class OpenAISink implements EventSink {
  private readonly encoder: OpenAIStreamEncoder;
  private readonly validator = new OpenAIStreamValidator();
  private errored = false;
  streamError: string | undefined = undefined;

  /**
   * `upstreamUsage`: the events are an OpenAI upstream's, decoded for policies (the id is reported as it came, and
   * so is the usage when its counts pass unchanged; see OpenAIStreamEncoderOptions).
   */
  constructor(
    private readonly usage: CallUsage,
    includeUsage: boolean,
    upstreamUsage?: () => OpenAIUsage | undefined,
  ) {
    this.encoder = new OpenAIStreamEncoder({
      includeUsage,
      ...(upstreamUsage === undefined ? {} : { upstreamId: true, upstreamUsage }),
    });
  }

  get finished(): boolean {
    return this.validator.finished || this.errored;
  }

  write(event: AnthropicStreamEvent): string {
    trackAnthropicUsage(event, this.usage);
    if (event.type === 'error') {
      this.errored = true;
      this.streamError = errorMessageOf(event);
      return encodeOpenAIChunk(this.encoder.encodeError(event)) + OPENAI_DONE_FRAME;
    }
    if (event.type === 'message_stop') {
      this.validator.done();
      return OPENAI_DONE_FRAME;
    }
    let out = '';
    for (const chunk of this.encoder.encode(event)) {
      this.validator.check(chunk);
      out += encodeOpenAIChunk(chunk);
    }
    return out;
  }

  fail(kind: ErrorKind, message: string): string {
    this.errored = true;
    return openaiErrorFrames(kind, message);
  }

  keepAlive(): string {
    return OPENAI_KEEPALIVE;
  }
}

/**
 * Decodes upstream frames into canonical events, runs them through the call's stream transform (policies), and
 * encodes them in the client's format behind a validator. Synchronous unless a transform answers with a promise.
 */
export class TranscodingRelay implements FrameRelay {
  private readonly source: EventSource;
  private readonly sink: EventSink;
  private readonly recorder: CallRecorder | undefined;
  /** Client-side events differ from upstream ones only when policies transform the stream. */
  private readonly recordClient: boolean;
  /** The token counts of the events the client got. */
  private readonly counted: CallUsage = {};
  /** OpenAI to OpenAI: a chunk whose events the policies pass as they are goes to the client as it came. */
  private readonly rawWhenUnchanged: boolean;

  constructor(
    upstreamFormat: WireFormat,
    clientFormat: WireFormat,
    private readonly transform: StreamTransform,
    options: { includeUsage: boolean; recorder?: CallRecorder },
  ) {
    this.recorder = options.recorder;
    this.recordClient = transform !== PASS_THROUGH;
    const openAISource = upstreamFormat === 'openai' ? new OpenAIChunkSource() : undefined;
    this.source = openAISource ?? new AnthropicEventSource();
    this.rawWhenUnchanged = openAISource !== undefined && clientFormat === 'openai';
    // OpenAI to OpenAI, chunks may go as they came: the encoded ones must carry the same id, the upstream's, and
    // the usage chunk the upstream's usage.
    this.sink =
      clientFormat === 'anthropic'
        ? new AnthropicSink(this.counted)
        : new OpenAISink(
            this.counted,
            options.includeUsage,
            this.rawWhenUnchanged ? openAISource?.reportedUsage : undefined,
          );
  }

  /** The call's token counts: none when an OpenAI upstream reported none (its client still got zeros). */
  get usage(): CallUsage {
    return this.source.usageReported ? this.counted : {};
  }

  get finished(): boolean {
    return this.sink.finished;
  }

  get mayHold(): boolean {
    return this.transform !== PASS_THROUGH;
  }

  get streamError(): string | undefined {
    return this.sink.streamError;
  }

  frame(frame: SseFrame): string | Promise<string> {
    const events = this.source.frame(frame);
    if (this.recorder !== undefined)
      for (const e of events) this.recorder.upstreamEvent(e, frame.data.length);
    if (!this.rawWhenUnchanged || !this.source.plainChunk) return this.run(events, '', 0);
    // The sink still encodes the events (its state follows the stream); the client gets the chunk as it came
    // (logprobs, refusal, unknown fields) when the policies released exactly its content, at once.
    const released: AnthropicStreamEvent[] = [];
    const out = this.run(events, '', 0, released);
    return typeof out === 'string' && frame.unterminated !== true && sameContent(events, released)
      ? frame.raw
      : out;
  }

  end(): string | Promise<string> {
    const last = this.source.end();
    if (this.recorder !== undefined) for (const e of last) this.recorder.upstreamEvent(e, 0);
    const tail = this.run(last, '', 0);
    const flush = (text: string): string | Promise<string> => {
      const held = this.transform.end();
      return isPromise(held) ? held.then((events) => this.finish(text, events)) : this.finish(text, held);
    };
    return isPromise(tail) ? tail.then(flush) : flush(tail);
  }

  fail(kind: ErrorKind, message: string): string {
    return this.sink.fail(kind, message);
  }

  keepAlive(): string {
    return this.sink.keepAlive();
  }

  private finish(text: string, held: AnthropicStreamEvent[]): string {
    const out = text + this.writeAll(held);
    if (!this.sink.finished)
      throw new ProtocolViolation('upstream stream ended before the message was complete');
    return out;
  }

  /** Runs `events` from `from` through the transform; what it releases is written, and added to `released`. */
  private run(
    events: AnthropicStreamEvent[],
    prefix: string,
    from: number,
    released?: AnthropicStreamEvent[],
  ): string | Promise<string> {
    let out = prefix;
    for (let i = from; i < events.length; i++) {
      const event = events[i] as AnthropicStreamEvent;
      if (event.type === 'error') {
        out += this.sink.write(event);
        continue;
      }
      const result = this.transform.push(event);
      if (isPromise(result)) {
        return result.then((later) => this.run(events, out + this.writeAll(later), i + 1));
      }
      if (released !== undefined) for (const e of result) released.push(e);
      out += this.writeAll(result);
    }
    return out;
  }

  private writeAll(events: AnthropicStreamEvent[]): string {
    let out = '';
    for (const event of events) {
      out += this.sink.write(event);
      if (this.recordClient) this.recorder?.clientEvent(event);
    }
    return out;
  }
}

/**
 * Whether an OpenAI chunk holds plain content only: exactly one choice (index 0) whose delta carries the role or
 * text, without a refusal, tool calls (their indices are the encoder's to number), a finish reason or usage (the
 * encoder writes those once, at the end, from what the policies decided).
 */
function isPlainContentChunk(chunk: unknown): boolean {
  if (!isJsonObject(chunk) || !Array.isArray(chunk.choices) || chunk.choices.length !== 1) return false;
  if (chunk.usage !== undefined && chunk.usage !== null) return false;
  const choice: unknown = chunk.choices[0];
  if (!isJsonObject(choice) || choice.index !== 0) return false;
  if (choice.finish_reason !== undefined && choice.finish_reason !== null) return false;
  const delta = choice.delta;
  if (!isJsonObject(delta)) return false;
  for (const field of ['tool_calls', 'function_call'])
    if (delta[field] !== undefined && delta[field] !== null) return false;
  // A refusal becomes text in the canonical model, and its first chunk after content closes a block (encoded): as
  // it came, the rest would reach the client as a refusal and that chunk as content.
  return typeof delta.refusal !== 'string' || delta.refusal === '';
}

/**
 * Whether the policies released exactly the content of a chunk's events: the same events, in order, of the kinds
 * a plain chunk makes (the message start, text block starts and deltas), with the same text. Block indices may
 * differ: an OpenAI chunk has none for text. A chunk that closes a block is encoded (the encoder may owe the client
 * something there, such as the `{}` arguments of a tool call that got none).
 */
function sameContent(
  input: readonly AnthropicStreamEvent[],
  output: readonly AnthropicStreamEvent[],
): boolean {
  if (input.length === 0 || input.length !== output.length) return false;
  for (let i = 0; i < input.length; i++) {
    const a = input[i] as AnthropicStreamEvent;
    const b = output[i] as AnthropicStreamEvent;
    if (a.type !== b.type) return false;
    switch (a.type) {
      case 'message_start':
        break;
      case 'content_block_start': {
        const blockA = a.content_block;
        const blockB = (b as typeof a).content_block;
        if (blockA.type !== 'text' || blockB.type !== 'text' || blockA.text !== blockB.text) return false;
        break;
      }
      case 'content_block_delta': {
        const deltaA = a.delta;
        const deltaB = (b as typeof a).delta;
        if (deltaA.type !== 'text_delta' || deltaB.type !== 'text_delta' || deltaA.text !== deltaB.text)
          return false;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}
