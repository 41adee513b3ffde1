import type {
  AnthropicContentBlock,
  AnthropicResponse,
  AnthropicStreamEvent,
  AnthropicUsage,
  ContentBlockDeltaEvent,
} from '../anthropic/anthropic.types';
import type { JsonObject } from '../json';
import { ProtocolViolation } from './protocol-violation';

/**
 * Field of an assembled `tool_use` block that keeps the streamed input text when it is not valid JSON (a
 * stream cut by `max_tokens` in the middle of a tool call, a broken upstream); `input` is then `{}`.
 * {@link messageToEvents} streams this text back instead of `input`, so nothing is lost either way.
 */
export const RAW_TOOL_INPUT_FIELD = 'warden_raw_input';

/** Block types ending with this stream their input as `input_json_delta` (`tool_use`, `server_tool_use`, …). */
const TOOL_USE_SUFFIX = 'tool_use';
/** Stop reason given to a message that has none when it is turned into events. */
const DEFAULT_STOP_REASON = 'end_turn';

function isToolUseType(type: unknown): boolean {
  return typeof type === 'string' && type.endsWith(TOOL_USE_SUFFIX);
}

function appendString(target: JsonObject, key: string, suffix: unknown): void {
  if (typeof suffix !== 'string') return;
  const current = target[key];
  target[key] = typeof current === 'string' ? current + suffix : suffix;
}

/**
 * Usage of `later` (a `message_delta`) merged onto `earlier` (the `message_start`): every count of `later`
 * that is not null or absent wins. Returns a new object.
 */
export function mergeAnthropicUsage(
  earlier: AnthropicUsage,
  later: AnthropicUsage | undefined,
): AnthropicUsage {
  const merged: AnthropicUsage = { ...earlier };
  if (later === undefined) return merged;
  for (const key of Object.keys(later)) {
    const value = later[key];
    if (value !== null && value !== undefined) merged[key] = value;
  }
  return merged;
}

/**
 * Builds the complete Anthropic message from a canonical event stream, as a streamed call ends up: text
 * deltas concatenated, thinking with its signature, citations appended, `tool_use` input parsed from the
 * concatenated `partial_json` at the block's stop (invalid JSON: `input: {}` and the text kept under
 * {@link RAW_TOOL_INPUT_FIELD}), stop reason, stop sequence and any other `message_delta.delta` field set on the
 * message, and usage of `message_delta` merged onto that of `message_start`. Unknown fields survive; unknown
 * delta types, `ping`, `message_stop` and `error` change nothing. Used to record streamed calls and to hand
 * whole-message hooks the message of a stream. It checks only what it needs; run `AnthropicStreamValidator`
 * for the full protocol.
 */
export class MessageAssembler {
  private current: AnthropicResponse | undefined = undefined;
  private openBlock: JsonObject | undefined = undefined;
  private openIndex = 0;
  private partialJson: string | undefined = undefined;

  /**
   * The message so far: the live object this assembler keeps updating (copy it to keep a snapshot while
   * pushing more events). The input of a tool block still open is not parsed yet. Throws
   * {@link ProtocolViolation} before `message_start`.
   */
  get message(): AnthropicResponse {
    if (this.current === undefined) throw new ProtocolViolation('no message_start yet');
    return this.current;
  }

  /** Applies the next event to the message. */
  push(ev: AnthropicStreamEvent): void {
    switch (ev.type) {
      case 'message_start':
        if (this.current !== undefined) throw new ProtocolViolation('second message_start');
        this.current = { ...ev.message, content: [], usage: { ...ev.message.usage } };
        return;
      case 'content_block_start': {
        const content = this.message.content;
        if (ev.index !== content.length) {
          throw new ProtocolViolation(
            `content_block_start for index ${ev.index}, expected ${content.length}`,
          );
        }
        const block: AnthropicContentBlock = { ...ev.content_block };
        if (Array.isArray(block.citations)) block.citations = [...(block.citations as unknown[])];
        content.push(block);
        this.openBlock = block;
        this.openIndex = ev.index;
        this.partialJson = isToolUseType(block.type) ? '' : undefined;
        return;
      }
      case 'content_block_delta':
        this.applyDelta(this.requireOpen(ev.type, ev.index), ev);
        return;
      case 'content_block_stop': {
        const block = this.requireOpen(ev.type, ev.index);
        if (this.partialJson !== undefined && this.partialJson !== '') this.setInput(block, this.partialJson);
        this.openBlock = undefined;
        this.partialJson = undefined;
        return;
      }
      case 'message_delta': {
        const message = this.message;
        for (const key of Object.keys(ev.delta)) message[key] = ev.delta[key];
        message.usage = mergeAnthropicUsage(message.usage, ev.usage);
        return;
      }
      default:
        return;
    }
  }

  private requireOpen(type: string, index: number): JsonObject {
    if (this.openBlock === undefined || index !== this.openIndex) {
      throw new ProtocolViolation(`${type} for index ${index} but no such block is open`);
    }
    return this.openBlock;
  }

  private applyDelta(block: JsonObject, ev: ContentBlockDeltaEvent): void {
    const delta = ev.delta;
    switch (delta.type) {
      case 'text_delta':
        appendString(block, 'text', delta.text);
        return;
      case 'thinking_delta':
        appendString(block, 'thinking', delta.thinking);
        return;
      case 'signature_delta':
        appendString(block, 'signature', delta.signature);
        return;
      case 'input_json_delta':
        if (typeof delta.partial_json === 'string')
          this.partialJson = (this.partialJson ?? '') + delta.partial_json;
        return;
      case 'citations_delta':
        if (Array.isArray(block.citations)) (block.citations as unknown[]).push(delta.citation);
        else block.citations = [delta.citation];
        return;
      default:
        return;
    }
  }

  private setInput(block: JsonObject, json: string): void {
    try {
      block.input = JSON.parse(json) as unknown;
    } catch {
      block.input = {};
      block[RAW_TOOL_INPUT_FIELD] = json;
    }
  }
}

/**
 * Turns a complete message into the canonical event sequence that streams it (and that
 * `AnthropicStreamValidator` accepts): `message_start` (empty content, null stop reason, the full usage), per
 * block a start with an empty skeleton, its deltas and a stop (text as one `text_delta`, its citations
 * kept in the block start, thinking as one `thinking_delta` plus one `signature_delta`, a tool
 * `input` as ONE `input_json_delta` of `JSON.stringify(input)`, other blocks whole in their start), then
 * `message_delta` (stop reason, `end_turn` if the message has none; stop sequence; the full usage) and
 * `message_stop`. `MessageAssembler` of the result gives back the message. Used to run stream policies on
 * non-streaming responses.
 */
export function messageToEvents(msg: AnthropicResponse): AnthropicStreamEvent[] {
  const events: AnthropicStreamEvent[] = [
    {
      type: 'message_start',
      message: { ...msg, content: [], stop_reason: null, stop_sequence: null, usage: { ...msg.usage } },
    },
  ];
  msg.content.forEach((block, index) => {
    blockToEvents(block, index, events);
    events.push({ type: 'content_block_stop', index });
  });
  events.push(
    {
      type: 'message_delta',
      delta: {
        stop_reason: msg.stop_reason ?? DEFAULT_STOP_REASON,
        stop_sequence: msg.stop_sequence ?? null,
      },
      usage: { ...msg.usage },
    },
    { type: 'message_stop' },
  );
  return events;
}

function blockToEvents(block: AnthropicContentBlock, index: number, events: AnthropicStreamEvent[]): void {
  if (block.type === 'text' && typeof block.text === 'string') {
    events.push({ type: 'content_block_start', index, content_block: { ...block, text: '' } });
    if (block.text !== '') {
      events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } });
    }
    return;
  }
  if (block.type === 'thinking' && typeof block.thinking === 'string') {
    const { signature, ...rest } = block;
    events.push({
      type: 'content_block_start',
      index,
      content_block: { ...rest, type: 'thinking', thinking: '' },
    });
    if (block.thinking !== '') {
      events.push({
        type: 'content_block_delta',
        index,
        delta: { type: 'thinking_delta', thinking: block.thinking },
      });
    }
    if (typeof signature === 'string') {
      events.push({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature } });
    }
    return;
  }
  if (isToolUseType(block.type) && block.input !== undefined) {
    const { [RAW_TOOL_INPUT_FIELD]: raw, ...rest } = block;
    const json = typeof raw === 'string' ? raw : JSON.stringify(block.input);
    events.push({
      type: 'content_block_start',
      index,
      content_block: { ...rest, type: block.type, input: {} },
    });
    events.push({
      type: 'content_block_delta',
      index,
      delta: { type: 'input_json_delta', partial_json: json },
    });
    return;
  }
  events.push({ type: 'content_block_start', index, content_block: block });
}
