import type {
  AnthropicStreamEvent,
  AnthropicUsage,
  ContentBlockDeltaEvent,
  ContentBlockStartEvent,
  ErrorEvent,
  MessageDeltaEvent,
  MessageStartEvent,
} from '../anthropic/anthropic.types';
import { mergeAnthropicUsage } from '../canonical/message-assembler';
import { ProtocolViolation } from '../canonical/protocol-violation';
import { anthropicStopToOpenAI, anthropicUsageToOpenAI } from '../convert/stop-reason';
import { openAIErrorTypeForAnthropic } from '../convert/error-type';
import { chatCompletionIdOf } from '../convert/response-conversion';
import { isJsonObject } from '../json';
import type {
  OpenAIChunk,
  OpenAIChunkDelta,
  OpenAIErrorBody,
  OpenAIFinishReason,
  OpenAIUsage,
} from './openai.types';

/** Options of {@link OpenAIStreamEncoder}. */
export interface OpenAIStreamEncoderOptions {
  /** The client asked for `stream_options.include_usage`: end with a usage-only chunk. */
  includeUsage: boolean;
  /** Model name to report; defaults to the message's. */
  model?: string;
  /** Chunk id to report, verbatim; defaults to the message id, prefixed with `chatcmpl-` if it lacks it. */
  id?: string;
  /**
   * The message is an OpenAI upstream's (decoded for policies): report its id verbatim, as the chunks the client
   * gets as they came carry it.
   */
  upstreamId?: boolean;
  /** `created` (Unix seconds) to report; defaults to the message's `created` field, else now. */
  created?: number;
  /**
   * The usage an OpenAI upstream reported for the message, as it came (see OpenAIStreamDecoder.reportedUsage):
   * the usage chunk is that object itself, details and unknown fields included, when its token counts are the
   * ones the canonical events carry (policies left them as they were); else the counts of the events.
   */
  upstreamUsage?: () => OpenAIUsage | undefined;
}

const MS_PER_SECOND = 1000;
const NO_BLOCK = -1;
const NO_TOOL = -1;
/** Finish reason sent when the canonical stream has no stop reason. */
const DEFAULT_FINISH_REASON: OpenAIFinishReason = 'stop';

/**
 * Encodes the canonical (Anthropic) event stream as OpenAI Chat Completions chunks, one event at a time
 * (the caller serialises them with `encodeOpenAIChunk` and writes `OPENAI_DONE_FRAME` after `message_stop`).
 *
 * - `message_start` -> a chunk with `delta: { role: 'assistant', content: '' }`.
 * - text (`text_delta`, or text in a block start) -> content chunks.
 * - `tool_use` block k (0-based count of tool blocks) -> `tool_calls[{ index: k, id, type, function: { name,
 *   arguments: '' } }]`, then each `input_json_delta` as an arguments fragment; a non-empty `input` already in
 *   the block start (a non-streamed tool call) is sent as one fragment; a call that got no arguments by its
 *   `content_block_stop` gets `{}` (as OpenAI sends for a function without parameters, and what clients parse).
 * - Dropped, as Chat Completions has no field for them: thinking, signatures, redacted thinking, citations,
 *   server tool blocks and other block types; `ping`; `message_stop`.
 * - `message_delta` -> an empty-delta chunk with the mapped `finish_reason`, then (with `includeUsage`) a
 *   `choices: []` chunk with the usage of `message_start` merged with that of `message_delta`.
 * - `error` is not a chunk: `encode` throws {@link ProtocolViolation}; use {@link OpenAIStreamEncoder.encodeError}.
 */
export class OpenAIStreamEncoder {
  private id = '';
  private model = '';
  private created = 0;
  private systemFingerprint: string | null | undefined = undefined;
  private serviceTier: string | undefined = undefined;
  private started = false;
  private startUsage: AnthropicUsage = {};
  private toolCount = 0;
  private openBlock = NO_BLOCK;
  private openTool = NO_TOOL;
  /** Whether the open tool call has sent any arguments yet. */
  private toolArguments = false;

  constructor(private readonly options: OpenAIStreamEncoderOptions) {}

  /** Encodes one canonical event; returns the chunks to send (often one, possibly none). */
  encode(ev: AnthropicStreamEvent): OpenAIChunk[] {
    switch (ev.type) {
      case 'message_start':
        return this.start(ev);
      case 'content_block_start':
        return this.blockStart(ev);
      case 'content_block_delta':
        return this.blockDelta(ev);
      case 'content_block_stop':
        return this.blockStop();
      case 'message_delta':
        return this.finish(ev);
      case 'error':
        throw new ProtocolViolation('error events are not chunks: encode them with encodeError');
      default:
        // ping, message_stop, and event types unknown here: nothing to send.
        return [];
    }
  }

  /**
   * The in-band OpenAI error body for a canonical `error` event (to send as one `data:` frame, then end the
   * stream), with the type and code an upstream HTTP error of that type gets ({@link openAIErrorTypeForAnthropic}).
   */
  encodeError(ev: ErrorEvent): OpenAIErrorBody {
    const mapped = openAIErrorTypeForAnthropic(ev.error.type);
    return { error: { message: ev.error.message, type: mapped.type, param: null, code: mapped.code } };
  }

  private start(ev: MessageStartEvent): OpenAIChunk[] {
    if (this.started) throw new ProtocolViolation('second message_start');
    this.started = true;
    const message = ev.message;
    this.id =
      this.options.id ?? (this.options.upstreamId === true ? message.id : chatCompletionIdOf(message.id));
    this.model = this.options.model ?? message.model;
    this.created =
      this.options.created ??
      (typeof message.created === 'number' ? message.created : Math.floor(Date.now() / MS_PER_SECOND));
    const fingerprint = message.system_fingerprint;
    if (typeof fingerprint === 'string' || fingerprint === null) this.systemFingerprint = fingerprint;
    if (typeof message.service_tier === 'string') this.serviceTier = message.service_tier;
    this.startUsage = isJsonObject(message.usage) ? message.usage : {};
    return [this.chunk({ role: 'assistant', content: '' }, null)];
  }

  private blockStart(ev: ContentBlockStartEvent): OpenAIChunk[] {
    this.requireStarted(ev.type);
    this.openBlock = ev.index;
    this.openTool = NO_TOOL;
    const block = ev.content_block;
    if (block.type === 'text') {
      const text = block.text;
      return typeof text === 'string' && text !== '' ? [this.chunk({ content: text }, null)] : [];
    }
    if (block.type !== 'tool_use') return [];
    const index = this.toolCount++;
    this.openTool = index;
    const chunks = [
      this.chunk(
        {
          tool_calls: [
            {
              index,
              id: String(block.id),
              type: 'function',
              function: { name: String(block.name), arguments: '' },
            },
          ],
        },
        null,
      ),
    ];
    this.toolArguments = false;
    const input = block.input;
    if (isJsonObject(input) && Object.keys(input).length > 0)
      chunks.push(this.argumentsChunk(JSON.stringify(input)));
    return chunks;
  }

  /** Closes the open block; a tool call that got no arguments gets `{}`, as OpenAI sends for a call without any. */
  private blockStop(): OpenAIChunk[] {
    const chunks = this.openTool !== NO_TOOL && !this.toolArguments ? [this.argumentsChunk('{}')] : [];
    this.openBlock = NO_BLOCK;
    this.openTool = NO_TOOL;
    return chunks;
  }

  private blockDelta(ev: ContentBlockDeltaEvent): OpenAIChunk[] {
    if (ev.index !== this.openBlock) {
      throw new ProtocolViolation(
        `content_block_delta for index ${ev.index} but block ${this.openBlock} is open`,
      );
    }
    const delta = ev.delta;
    if (delta.type === 'text_delta') {
      const text = delta.text;
      return typeof text === 'string' && text !== '' ? [this.chunk({ content: text }, null)] : [];
    }
    if (delta.type === 'input_json_delta' && this.openTool !== NO_TOOL) {
      const partial = delta.partial_json;
      return typeof partial === 'string' && partial !== '' ? [this.argumentsChunk(partial)] : [];
    }
    return [];
  }

  private finish(ev: MessageDeltaEvent): OpenAIChunk[] {
    this.requireStarted(ev.type);
    const finishReason = anthropicStopToOpenAI(ev.delta.stop_reason) ?? DEFAULT_FINISH_REASON;
    const chunks = [this.chunk({}, finishReason)];
    if (this.options.includeUsage) {
      const counted = anthropicUsageToOpenAI(mergeAnthropicUsage(this.startUsage, ev.usage));
      const reported = this.options.upstreamUsage?.();
      const usage = reported !== undefined && sameCounts(reported, counted) ? reported : counted;
      chunks.push(
        this.withExtras({
          id: this.id,
          object: 'chat.completion.chunk',
          created: this.created,
          model: this.model,
          choices: [],
          usage,
        }),
      );
    }
    return chunks;
  }

  private argumentsChunk(fragment: string): OpenAIChunk {
    this.toolArguments = true;
    return this.chunk({ tool_calls: [{ index: this.openTool, function: { arguments: fragment } }] }, null);
  }

  private chunk(delta: OpenAIChunkDelta, finishReason: OpenAIFinishReason | null): OpenAIChunk {
    return this.withExtras({
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    });
  }

  /** The chunk with the message's `system_fingerprint` and `service_tier` (an OpenAI upstream's), as it has them. */
  private withExtras(chunk: OpenAIChunk): OpenAIChunk {
    if (this.systemFingerprint !== undefined) chunk.system_fingerprint = this.systemFingerprint;
    if (this.serviceTier !== undefined) chunk.service_tier = this.serviceTier;
    return chunk;
  }

  private requireStarted(type: string): void {
    if (!this.started) throw new ProtocolViolation(`${type} before message_start`);
  }
}

/** Whether two usages have the same prompt, completion and total counts. */
function sameCounts(a: OpenAIUsage, b: OpenAIUsage): boolean {
  return (
    a.prompt_tokens === b.prompt_tokens &&
    a.completion_tokens === b.completion_tokens &&
    a.total_tokens === b.total_tokens
  );
}
