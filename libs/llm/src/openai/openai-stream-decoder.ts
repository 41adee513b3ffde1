import type {
  AnthropicResponse,
  AnthropicStopReason,
  AnthropicStreamEvent,
  AnthropicUsage,
} from '../anthropic/anthropic.types';
import { ProtocolViolation } from '../canonical/protocol-violation';
import { openAIFinishToAnthropic, openAIUsageToAnthropic } from '../convert/stop-reason';
import { isJsonObject } from '../json';
import type { OpenAIChunk, OpenAIToolCallDelta, OpenAIUsage } from './openai.types';

/** One OpenAI tool call (an index of `delta.tool_calls`) on its way to becoming a `tool_use` block. */
interface ToolCallState {
  readonly id: string;
  readonly name: string;
  /** Argument fragments received while the call could not be streamed (another block was open). */
  bufferedArguments: string;
  closed: boolean;
}

/** The open block: a text block of content, one of refusal text (a block of its own, as when not streamed), a tool. */
type OpenBlock = 'none' | 'text' | 'refusal' | 'tool';

/** The only choice a Chat Completions stream may carry here (`n > 1` has no Anthropic equivalent). */
const SUPPORTED_CHOICE_INDEX = 0;
/**
 * Most characters of tool-call arguments held back while another tool call streams (see Ordering): a bound of the
 * decoder's own, whatever bounds the stream (frame size, timeouts) a caller sets. 16 Mi characters.
 */
export const MAX_BUFFERED_ARGUMENTS_CHARS = 16 * 1024 * 1024;

/**
 * Transcodes an OpenAI Chat Completions chunk stream into the canonical (Anthropic) event stream, one chunk
 * at a time. The events it returns always satisfy `AnthropicStreamValidator`.
 *
 * - The first chunk opens the message (`message_start`: the chunk's `id` and `model`, empty content, zero
 *   usage; `created`, `system_fingerprint` and `service_tier` kept as extra fields of the message).
 * - `delta.content` becomes a text block (opened at the first non-empty text); `delta.refusal` a text block of its
 *   own, as the non-streaming conversion gives it.
 * - `delta.tool_calls[i]` become `tool_use` blocks (`id` and `function.name` required in the first delta of an
 *   index; `arguments` fragments become `input_json_delta`s).
 *
 * Ordering. Anthropic blocks cannot interleave, OpenAI tool calls can, so: the first tool call streams live
 * in its block; fragments of any other tool call that arrive while a tool block is open are buffered, and each
 * buffered call is emitted (start, one delta with all its arguments, stop), in order of first appearance, as
 * soon as the open block closes. A tool block closes at `finish_reason`, at {@link OpenAIStreamDecoder.finish},
 * or when text arrives: text after tool calls closes the tool block, flushes the buffered calls, then opens a
 * new text block; a tool call after text closes the text block. A fragment for a tool call whose block has
 * already closed is a {@link ProtocolViolation} (it cannot be represented), as is content after
 * `finish_reason` or a choice other than index 0.
 *
 * `finish_reason` is remembered (mapped to a stop reason) and closes the open block; `usage` (on the
 * usage-only chunk or any other) is remembered; {@link OpenAIStreamDecoder.finish} emits `message_delta` and
 * `message_stop`.
 */
export class OpenAIStreamDecoder {
  private started = false;
  private ended = false;
  private nextIndex = 0;
  private open: OpenBlock = 'none';
  private openIndex = 0;
  /** The tool call streaming in the open block, when the open block is a tool block. */
  private openCall: ToolCallState | undefined = undefined;
  private readonly tools = new Map<number, ToolCallState>();
  private readonly buffered: ToolCallState[] = [];
  /** Characters of arguments in `buffered`. */
  private bufferedChars = 0;
  private finishSeen = false;
  private stopReason: AnthropicStopReason | null = null;
  private usage: AnthropicUsage | undefined = undefined;
  private openAIUsage: OpenAIUsage | undefined = undefined;

  /**
   * Whether the upstream reported its usage (a chunk with `usage`). Without it the events carry zero token counts,
   * which the Anthropic protocol requires, and which are not counts.
   */
  get usageReported(): boolean {
    return this.usage !== undefined;
  }

  /**
   * The last `usage` the upstream reported, as it came (with the details the canonical usage has no field for:
   * `completion_tokens_details.reasoning_tokens`, audio and prediction tokens): for an OpenAI client of an OpenAI
   * upstream, whose usage chunk can then be the upstream's own (see OpenAIStreamEncoderOptions.upstreamUsage).
   */
  get reportedUsage(): OpenAIUsage | undefined {
    return this.openAIUsage;
  }

  /** Transcodes one chunk; returns the canonical events it completes (possibly none). */
  push(chunk: OpenAIChunk): AnthropicStreamEvent[] {
    if (this.ended) throw new ProtocolViolation('chunk after the end of the stream');
    if (!Array.isArray(chunk.choices)) throw new ProtocolViolation('chunk without a choices array');
    const out: AnthropicStreamEvent[] = [];
    if (!this.started) {
      this.started = true;
      out.push({ type: 'message_start', message: this.startMessage(chunk) });
    }
    for (const choice of chunk.choices) {
      if (choice.index !== SUPPORTED_CHOICE_INDEX) {
        throw new ProtocolViolation(`chunk for choice ${choice.index}: only one choice is supported`);
      }
      const delta = choice.delta;
      if (isJsonObject(delta)) {
        if (typeof delta.content === 'string' && delta.content !== '') this.text(delta.content, 'text', out);
        if (typeof delta.refusal === 'string' && delta.refusal !== '')
          this.text(delta.refusal, 'refusal', out);
        const calls = delta.tool_calls;
        if (Array.isArray(calls)) for (const call of calls) this.toolCall(call, out);
      }
      const finish = choice.finish_reason;
      if (finish !== null && finish !== undefined && !this.finishSeen) {
        this.finishSeen = true;
        this.stopReason = openAIFinishToAnthropic(finish);
        this.closeOpen(out);
        this.flushBuffered(out);
      }
    }
    if (isJsonObject(chunk.usage)) {
      this.openAIUsage = chunk.usage;
      this.usage = openAIUsageToAnthropic(chunk.usage);
    }
    return out;
  }

  /**
   * Ends the stream (at `[DONE]` or a clean end of the body): closes what is open, flushes buffered tool calls,
   * and emits `message_delta` (mapped stop reason, `stop_sequence: null`, usage from the usage chunk, or
   * `{ output_tokens: 0 }` without one) and `message_stop`. Throws {@link ProtocolViolation} if no
   * `finish_reason` was seen: the upstream stream was cut short.
   */
  finish(): AnthropicStreamEvent[] {
    if (this.ended) throw new ProtocolViolation('stream finished twice');
    if (!this.finishSeen || this.stopReason === null) {
      throw new ProtocolViolation('stream ended without finish_reason');
    }
    this.ended = true;
    const out: AnthropicStreamEvent[] = [];
    this.closeOpen(out);
    this.flushBuffered(out);
    out.push(
      {
        type: 'message_delta',
        delta: { stop_reason: this.stopReason, stop_sequence: null },
        usage: this.usage ?? { output_tokens: 0 },
      },
      { type: 'message_stop' },
    );
    return out;
  }

  private startMessage(chunk: OpenAIChunk): AnthropicResponse {
    const message: AnthropicResponse = {
      id: chunk.id,
      type: 'message',
      role: 'assistant',
      model: chunk.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    };
    if (chunk.created !== undefined) message.created = chunk.created;
    if (chunk.system_fingerprint !== undefined) message.system_fingerprint = chunk.system_fingerprint;
    if (typeof chunk.service_tier === 'string') message.service_tier = chunk.service_tier;
    return message;
  }

  private checkNotFinished(): void {
    if (this.finishSeen) throw new ProtocolViolation('content after finish_reason');
  }

  private text(text: string, kind: 'text' | 'refusal', out: AnthropicStreamEvent[]): void {
    this.checkNotFinished();
    if (this.open !== kind) {
      this.closeOpen(out);
      this.flushBuffered(out);
      this.openIndex = this.nextIndex++;
      this.open = kind;
      out.push({
        type: 'content_block_start',
        index: this.openIndex,
        content_block: { type: 'text', text: '' },
      });
    }
    out.push({ type: 'content_block_delta', index: this.openIndex, delta: { type: 'text_delta', text } });
  }

  private toolCall(call: OpenAIToolCallDelta, out: AnthropicStreamEvent[]): void {
    this.checkNotFinished();
    const fragment = call.function?.arguments;
    const args = typeof fragment === 'string' ? fragment : '';
    let state = this.tools.get(call.index);
    if (state === undefined) {
      const id = call.id;
      const name = call.function?.name;
      if (typeof id !== 'string' || id === '' || typeof name !== 'string' || name === '') {
        throw new ProtocolViolation(`tool call ${call.index} first appears without id and function.name`);
      }
      state = { id, name, bufferedArguments: '', closed: false };
      this.tools.set(call.index, state);
      if (this.open === 'tool') {
        this.buffer(state, args);
        this.buffered.push(state);
        return;
      }
      this.closeOpen(out);
      this.openTool(state, out);
      this.open = 'tool';
      this.openCall = state;
    } else if (state.closed) {
      throw new ProtocolViolation(`arguments for tool call ${call.index} after its block was closed`);
    } else if (state !== this.openCall) {
      this.buffer(state, args);
      return;
    }
    if (args !== '') {
      out.push({
        type: 'content_block_delta',
        index: this.openIndex,
        delta: { type: 'input_json_delta', partial_json: args },
      });
    }
  }

  /** Holds back arguments of a tool call that cannot stream yet, within {@link MAX_BUFFERED_ARGUMENTS_CHARS}. */
  private buffer(state: ToolCallState, args: string): void {
    this.bufferedChars += args.length;
    if (this.bufferedChars > MAX_BUFFERED_ARGUMENTS_CHARS) {
      throw new ProtocolViolation(
        `parallel tool calls hold back more than ${MAX_BUFFERED_ARGUMENTS_CHARS} characters of arguments`,
      );
    }
    state.bufferedArguments += args;
  }

  private openTool(state: ToolCallState, out: AnthropicStreamEvent[]): void {
    this.openIndex = this.nextIndex++;
    out.push({
      type: 'content_block_start',
      index: this.openIndex,
      content_block: { type: 'tool_use', id: state.id, name: state.name, input: {} },
    });
  }

  private closeOpen(out: AnthropicStreamEvent[]): void {
    if (this.open === 'none') return;
    out.push({ type: 'content_block_stop', index: this.openIndex });
    if (this.openCall !== undefined) {
      this.openCall.closed = true;
      this.openCall = undefined;
    }
    this.open = 'none';
  }

  private flushBuffered(out: AnthropicStreamEvent[]): void {
    if (this.buffered.length === 0) return;
    for (const state of this.buffered) {
      this.openTool(state, out);
      if (state.bufferedArguments !== '') {
        out.push({
          type: 'content_block_delta',
          index: this.openIndex,
          delta: { type: 'input_json_delta', partial_json: state.bufferedArguments },
        });
        state.bufferedArguments = '';
      }
      out.push({ type: 'content_block_stop', index: this.openIndex });
      state.closed = true;
    }
    this.buffered.length = 0;
    this.bufferedChars = 0;
  }
}
