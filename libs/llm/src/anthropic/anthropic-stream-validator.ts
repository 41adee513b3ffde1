import type { AnthropicStreamEvent, ContentBlockDeltaEvent } from './anthropic.types';
import { ProtocolViolation } from '../canonical/protocol-violation';
import { isJsonObject } from '../json';

/** Where the stream is. */
type Phase = 'before-start' | 'content' | 'after-message-delta' | 'finished';

const NO_BLOCK = -1;
const TOOL_USE_SUFFIX = 'tool_use';

/**
 * Block types each known delta type may target. `input_json_delta` goes to any `*tool_use` block
 * (`tool_use`, `server_tool_use`, `mcp_tool_use`). Delta types not listed here are accepted for any block,
 * so that delta types added by the provider later pass.
 */
function deltaFitsBlock(deltaType: string, blockType: string): boolean {
  switch (deltaType) {
    case 'text_delta':
    case 'citations_delta':
      return blockType === 'text';
    case 'thinking_delta':
    case 'signature_delta':
      return blockType === 'thinking';
    case 'input_json_delta':
      return blockType.endsWith(TOOL_USE_SUFFIX);
    default:
      return true;
  }
}

/**
 * Guards a canonical (Anthropic) event stream, one event at a time, and throws {@link ProtocolViolation} at
 * the first event that breaks the protocol: `message_start` first and once (with empty content); blocks
 * started at indices 0, 1, 2… one at a time; deltas only for the open block and of a type that fits it;
 * `content_block_stop` for the open block; one `message_delta`, with a `stop_reason`, when no block is open;
 * `message_stop` last, after `message_delta`. `ping` may come anywhere before the end; `error` may come
 * anywhere before the end and ends the stream. Nothing is accepted once the stream is finished. Event types
 * this code does not know are accepted between `message_start` and the end (the provider may add some).
 */
export class AnthropicStreamValidator {
  private phase: Phase = 'before-start';
  private nextIndex = 0;
  private openIndex = NO_BLOCK;
  private openType = '';

  /** True once `message_stop` or `error` has been seen: the stream is complete and nothing else may follow. */
  get finished(): boolean {
    return this.phase === 'finished';
  }

  /** Checks the next event; throws {@link ProtocolViolation} if it may not come here. */
  check(ev: AnthropicStreamEvent): void {
    const type = (ev as { type?: unknown }).type;
    if (this.phase === 'finished') {
      throw new ProtocolViolation(`${String(type)} after the end of the stream`);
    }
    switch (ev.type) {
      case 'ping':
        return;
      case 'error':
        this.phase = 'finished';
        return;
      case 'message_start':
        if (this.phase !== 'before-start') throw new ProtocolViolation('second message_start');
        if (
          !isJsonObject(ev.message) ||
          !Array.isArray(ev.message.content) ||
          ev.message.content.length > 0
        ) {
          throw new ProtocolViolation('message_start must carry a message with empty content');
        }
        this.phase = 'content';
        return;
      default:
        break;
    }
    if (this.phase === 'before-start') throw new ProtocolViolation(`${String(type)} before message_start`);
    switch (ev.type) {
      case 'content_block_start':
        this.checkInContent(ev.type);
        if (this.openIndex !== NO_BLOCK) {
          throw new ProtocolViolation(
            `content_block_start for index ${ev.index} but block ${this.openIndex} is open`,
          );
        }
        if (ev.index !== this.nextIndex) {
          throw new ProtocolViolation(
            `content_block_start for index ${ev.index}, expected ${this.nextIndex}`,
          );
        }
        if (!isJsonObject(ev.content_block) || typeof ev.content_block.type !== 'string') {
          throw new ProtocolViolation(`content_block_start ${ev.index} without a typed content_block`);
        }
        this.openIndex = ev.index;
        this.openType = ev.content_block.type;
        this.nextIndex++;
        return;
      case 'content_block_delta':
        this.checkDelta(ev);
        return;
      case 'content_block_stop':
        this.checkInContent(ev.type);
        this.checkOpen(ev.type, ev.index);
        this.openIndex = NO_BLOCK;
        return;
      case 'message_delta':
        this.checkInContent(ev.type);
        if (this.openIndex !== NO_BLOCK) {
          throw new ProtocolViolation(`message_delta while block ${this.openIndex} is open`);
        }
        if (!isJsonObject(ev.delta) || typeof ev.delta.stop_reason !== 'string') {
          throw new ProtocolViolation('message_delta without a stop_reason');
        }
        this.phase = 'after-message-delta';
        return;
      case 'message_stop':
        if (this.phase !== 'after-message-delta')
          throw new ProtocolViolation('message_stop before message_delta');
        this.phase = 'finished';
        return;
      default:
        // An event type added by the provider after this was written: accepted.
        return;
    }
  }

  private checkDelta(ev: ContentBlockDeltaEvent): void {
    this.checkInContent(ev.type);
    this.checkOpen(ev.type, ev.index);
    const deltaType = isJsonObject(ev.delta) ? ev.delta.type : undefined;
    if (typeof deltaType !== 'string') {
      throw new ProtocolViolation(`content_block_delta for index ${ev.index} without a delta type`);
    }
    if (!deltaFitsBlock(deltaType, this.openType)) {
      throw new ProtocolViolation(`${deltaType} for block ${ev.index} of type ${this.openType}`);
    }
  }

  private checkInContent(type: string): void {
    if (this.phase === 'after-message-delta') throw new ProtocolViolation(`${type} after message_delta`);
  }

  private checkOpen(type: string, index: number): void {
    if (this.openIndex === NO_BLOCK)
      throw new ProtocolViolation(`${type} for index ${index} but no block is open`);
    if (index !== this.openIndex) {
      throw new ProtocolViolation(`${type} for index ${index} but block ${this.openIndex} is open`);
    }
  }
}
