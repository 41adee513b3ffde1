import {
  MessageAssembler,
  messageToEvents,
  type AnthropicContentBlock,
  type AnthropicStopReason,
  type AnthropicStreamEvent,
  type ContentBlockStartEvent,
  type MessageDeltaEvent,
} from '@warden/llm';
import type { BlockInfo, Policy, ToolCall, ToolCallVerdict } from '../core/policy';
import type { PolicyContext } from '../core/policy-context';
import { PolicyFailure, StreamBufferExceeded } from './policy-errors';
import type { StreamTransform } from './stream-transform';

/** A block held back until the end of the message, with its output events (indices assigned at release). */
type Held =
  | { kind: 'events'; events: AnthropicStreamEvent[] }
  | { kind: 'tool'; call: ToolCall; start: ContentBlockStartEvent; verdict: Promise<ToolCallVerdict | void> };

/** The block currently open upstream. */
interface OpenBlock {
  inIndex: number;
  kind: 'text' | 'thinking' | 'tool' | 'other';
  /** Output index once the block start was written (live blocks). */
  outIndex: number | undefined;
  start: ContentBlockStartEvent;
  received: string;
  /** Characters of `received` already emitted (text and thinking blocks). */
  emitted: number;
  /** Output events of a block that is being held (after the first held tool call). */
  held: AnthropicStreamEvent[] | undefined;
  toolId: string;
  toolName: string;
}

/** What sets a replacement apart from the text before it for an OpenAI client (see replacementText). */
const REPLACEMENT_SEPARATOR = '\n\n';

function textBlockDelta(index: number, type: 'text' | 'thinking', value: string): AnthropicStreamEvent {
  return type === 'text'
    ? { type: 'content_block_delta', index, delta: { type: 'text_delta', text: value } }
    : { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: value } };
}

function parseArguments(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Runs one policy's block hooks (the streaming DSL) over one call's canonical events and keeps the output a valid
 * Anthropic stream: output block indices are renumbered 0..n, an empty rewritten block is never opened, tool calls
 * are held until complete and decided concurrently when the policy has tool hooks, everything after the first held
 * tool call waits for the end of the message so that text blocks (kept ones and replacements) precede tool_use
 * blocks, and `tool_use` becomes `end_turn` when no tool call remains.
 */
export class HookTransform implements StreamTransform {
  private nextIndex = 0;
  private open: OpenBlock | undefined;
  private readonly held: Held[] = [];
  private holding = false;
  private heldBytes = 0;
  /** A text block was output in this message (see {@link replacementText}). */
  private textOut = false;
  private readonly holdTools: boolean;
  private readonly textHooks: boolean;
  private readonly thinkingHooks: boolean;

  constructor(
    private readonly policy: Policy,
    private readonly ctx: PolicyContext,
    private readonly maxBufferBytes: number,
  ) {
    this.holdTools = policy.onToolCallComplete !== undefined || policy.onToolCallDelta !== undefined;
    this.textHooks = policy.onTextDelta !== undefined || policy.onTextComplete !== undefined;
    this.thinkingHooks = policy.onThinkingDelta !== undefined || policy.onThinkingComplete !== undefined;
  }

  push(event: AnthropicStreamEvent): AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]> {
    switch (event.type) {
      case 'message_start':
        return this.policy.onStreamStart
          ? this.call('onStreamStart', async () => this.policy.onStreamStart?.(this.ctx)).then(() => [event])
          : [event];
      case 'content_block_start':
        return this.blockStart(event);
      case 'content_block_delta':
        return this.blockDelta(event);
      case 'content_block_stop':
        return this.blockStop();
      case 'message_delta':
        return this.finish(event);
      case 'message_stop':
        return this.policy.onStreamEnd
          ? this.call('onStreamEnd', async () => this.policy.onStreamEnd?.(this.ctx)).then(() => [event])
          : [event];
      default:
        return [event];
    }
  }

  end(): AnthropicStreamEvent[] {
    return [];
  }

  private kindOf(start: ContentBlockStartEvent): OpenBlock['kind'] {
    const type = start.content_block.type;
    if (type === 'text' && this.textHooks) return 'text';
    if (type === 'thinking' && this.thinkingHooks) return 'thinking';
    if (type === 'tool_use' && this.holdTools) return 'tool';
    return 'other';
  }

  private blockStart(
    event: ContentBlockStartEvent,
  ): AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]> {
    const kind = this.kindOf(event);
    const block: OpenBlock = {
      inIndex: event.index,
      kind,
      outIndex: undefined,
      start: event,
      received: '',
      emitted: 0,
      held: this.holding && kind !== 'tool' ? [] : undefined,
      toolId: '',
      toolName: '',
    };
    this.open = block;
    if (kind === 'tool') {
      this.holding = true;
      const content = event.content_block as { id?: unknown; name?: unknown; input?: unknown };
      block.toolId = typeof content.id === 'string' ? content.id : '';
      block.toolName = typeof content.name === 'string' ? content.name : '';
      const input = content.input;
      if (
        input !== undefined &&
        !(typeof input === 'object' && input !== null && Object.keys(input).length === 0)
      ) {
        block.received = JSON.stringify(input);
      }
      return [];
    }
    if (kind === 'text' || kind === 'thinking') {
      // A start that already carries text (rare) goes through the hooks like a first delta.
      const initial = (event.content_block as { text?: unknown; thinking?: unknown })[kind];
      if (typeof initial !== 'string' || initial === '') return [];
      const delta =
        kind === 'text'
          ? { type: 'text_delta', text: initial }
          : { type: 'thinking_delta', thinking: initial };
      return this.blockDelta({ type: 'content_block_delta', index: event.index, delta });
    }
    // A block no hook of this policy looks at: forwarded as it comes (or held with the rest).
    return this.emitStart(block, { ...event });
  }

  private emitStart(block: OpenBlock, start: ContentBlockStartEvent): AnthropicStreamEvent[] {
    if (block.held !== undefined) {
      block.held.push(start);
      this.count(JSON.stringify(start).length);
      return [];
    }
    block.outIndex = this.nextIndex++;
    if (start.content_block.type === 'text') this.textOut = true;
    return [{ ...start, index: block.outIndex }];
  }

  private emitDelta(block: OpenBlock, event: AnthropicStreamEvent): AnthropicStreamEvent[] {
    if (block.held !== undefined) {
      block.held.push(event);
      this.count(JSON.stringify(event).length);
      return [];
    }
    return [{ ...event, index: block.outIndex } as AnthropicStreamEvent];
  }

  private blockDelta(
    event: Extract<AnthropicStreamEvent, { type: 'content_block_delta' }>,
  ): AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]> {
    const block = this.open;
    if (block === undefined) return [event];
    const delta = event.delta as { type: string; text?: unknown; thinking?: unknown; partial_json?: unknown };
    if (block.kind === 'tool') {
      if (typeof delta.partial_json === 'string') {
        block.received += delta.partial_json;
        this.count(delta.partial_json.length);
      }
      const hook = this.policy.onToolCallDelta;
      if (hook === undefined) return [];
      const partial = { id: block.toolId, name: block.toolName, arguments: block.received };
      return this.call('onToolCallDelta', async () => hook.call(this.policy, this.ctx, partial)).then(
        () => [],
      );
    }
    if (
      (block.kind === 'text' && delta.type === 'text_delta') ||
      (block.kind === 'thinking' && delta.type === 'thinking_delta')
    ) {
      const value = (block.kind === 'text' ? delta.text : delta.thinking) as string;
      block.received += value;
      const hook = block.kind === 'text' ? this.policy.onTextDelta : this.policy.onThinkingDelta;
      if (hook === undefined) return this.emitText(block, value);
      const info: BlockInfo = { index: block.inIndex, type: block.kind };
      const name = block.kind === 'text' ? 'onTextDelta' : 'onThinkingDelta';
      const out = this.invoke(name, () => hook.call(this.policy, this.ctx, value, info));
      if (typeof out === 'string') return this.emitText(block, out);
      return this.call(name, () => out).then((text) => this.emitText(block, text));
    }
    if (block.kind === 'text' || block.kind === 'thinking') {
      // signature or citation deltas of a rewritten block: they need the block open.
      return [...this.ensureStarted(block), ...this.emitDelta(block, event)];
    }
    return this.emitDelta(block, event);
  }

  /** Opens a rewritten text/thinking block on its first output. */
  private ensureStarted(block: OpenBlock): AnthropicStreamEvent[] {
    if (block.outIndex !== undefined || (block.held !== undefined && block.held.length > 0)) return [];
    const content = block.start.content_block;
    const empty = block.kind === 'text' ? { ...content, text: '' } : { ...content, thinking: '' };
    return this.emitStart(block, { ...block.start, content_block: empty });
  }

  private emitText(block: OpenBlock, text: string): AnthropicStreamEvent[] {
    block.emitted += text.length;
    // Text a policy holds back (received but not yet emitted) counts against the buffer bound too.
    if (block.received.length - block.emitted > this.maxBufferBytes) {
      throw new StreamBufferExceeded(this.policy.name, this.maxBufferBytes);
    }
    if (text === '') return [];
    const start = this.ensureStarted(block);
    return [...start, ...this.emitDelta(block, textBlockDelta(0, block.kind as 'text' | 'thinking', text))];
  }

  private blockStop(): AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]> {
    const block = this.open;
    this.open = undefined;
    if (block === undefined) return [];
    if (block.kind === 'tool') return this.toolComplete(block);
    if (block.kind === 'text' || block.kind === 'thinking') {
      const hook = block.kind === 'text' ? this.policy.onTextComplete : this.policy.onThinkingComplete;
      const close = (tail: string | void): AnthropicStreamEvent[] => {
        const out = typeof tail === 'string' ? this.emitText(block, tail) : [];
        return [...out, ...this.close(block)];
      };
      if (hook === undefined) return close(undefined);
      const info: BlockInfo = { index: block.inIndex, type: block.kind };
      const name = block.kind === 'text' ? 'onTextComplete' : 'onThinkingComplete';
      const tail = this.invoke(name, () => hook.call(this.policy, this.ctx, block.received, info));
      if (typeof tail === 'string' || tail === undefined) return close(tail);
      return this.call(name, () => tail).then(close);
    }
    return this.close(block);
  }

  /** Closes a block: a stop event when it was opened; a held block becomes one held entry. */
  private close(block: OpenBlock): AnthropicStreamEvent[] {
    const stop: AnthropicStreamEvent = { type: 'content_block_stop', index: 0 };
    if (block.held !== undefined) {
      if (block.held.length > 0) this.held.push({ kind: 'events', events: [...block.held, stop] });
      return [];
    }
    if (block.outIndex === undefined) return [];
    return [{ ...stop, index: block.outIndex }];
  }

  private toolComplete(block: OpenBlock): AnthropicStreamEvent[] {
    const call: ToolCall = {
      id: block.toolId,
      name: block.toolName,
      arguments: block.received,
      input: parseArguments(block.received),
    };
    const hook = this.policy.onToolCallComplete;
    const verdict =
      hook === undefined
        ? Promise.resolve(undefined)
        : this.call('onToolCallComplete', async () => hook.call(this.policy, this.ctx, call));
    // Decided concurrently; awaited at the end of the message. The no-op catch keeps an early rejection handled.
    verdict.catch(() => undefined);
    this.held.push({ kind: 'tool', call, start: block.start, verdict });
    return [];
  }

  private async finish(event: MessageDeltaEvent): Promise<AnthropicStreamEvent[]> {
    const out: AnthropicStreamEvent[] = [];
    const tools: Array<{ call: ToolCall; start: ContentBlockStartEvent }> = [];
    let toolsSeen = 0;
    for (const entry of this.held) {
      if (entry.kind === 'events') {
        out.push(...this.release(entry.events));
        continue;
      }
      toolsSeen++;
      const verdict = await entry.verdict;
      if (verdict === undefined || verdict.action === 'pass') tools.push(entry);
      else if (verdict.action === 'replace' && verdict.text !== '') {
        out.push(
          ...this.release([
            { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
            textBlockDelta(0, 'text', this.replacementText(verdict.text)),
            { type: 'content_block_stop', index: 0 },
          ]),
        );
      }
    }
    for (const { call, start } of tools) {
      const index = this.nextIndex++;
      out.push({
        ...start,
        index,
        content_block: { ...start.content_block, input: {} } as AnthropicContentBlock,
      });
      if (call.arguments !== '') {
        out.push({
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: call.arguments },
        });
      }
      out.push({ type: 'content_block_stop', index });
    }
    this.held.length = 0;
    this.holding = false;
    let delta = event;
    const stopReason: AnthropicStopReason | null = event.delta.stop_reason;
    if (toolsSeen > 0 && tools.length === 0 && stopReason === 'tool_use') {
      delta = { ...event, delta: { ...event.delta, stop_reason: 'end_turn' } };
    }
    const onFinish = this.policy.onFinish;
    if (onFinish !== undefined) {
      const finish = { stopReason: delta.delta.stop_reason, usage: delta.usage };
      await this.call('onFinish', async () => onFinish.call(this.policy, this.ctx, finish));
    }
    out.push(delta);
    return out;
  }

  /** Gives held block events their output index. */
  private release(events: AnthropicStreamEvent[]): AnthropicStreamEvent[] {
    const index = this.nextIndex++;
    if (events[0]?.type === 'content_block_start' && events[0].content_block.type === 'text')
      this.textOut = true;
    return events.map((e) => ({ ...e, index }));
  }

  /**
   * The text that stands for a replaced tool call. An OpenAI client gets a message's text blocks as one content
   * string, run together (text blocks split by citations must join as they were); a replacement is not part of the
   * text before it, so it is set apart by a blank line. An Anthropic client sees it as a block of its own.
   */
  private replacementText(text: string): string {
    return this.ctx.clientFormat === 'openai' && this.textOut ? `${REPLACEMENT_SEPARATOR}${text}` : text;
  }

  private count(bytes: number): void {
    this.heldBytes += bytes;
    if (this.heldBytes > this.maxBufferBytes)
      throw new StreamBufferExceeded(this.policy.name, this.maxBufferBytes);
  }

  /** Runs a hook that may answer synchronously; a synchronous throw becomes a {@link PolicyFailure}. */
  private invoke<T>(hook: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw new PolicyFailure(this.policy.name, hook, error);
    }
  }

  private async call<T>(hook: string, fn: () => T | Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw new PolicyFailure(this.policy.name, hook, error);
    }
  }
}

/**
 * For a policy whose only response hook is `onResponse`: holds the whole streamed message, hands it to the hook,
 * and streams the (possibly rewritten) result.
 */
export class WholeMessageTransform implements StreamTransform {
  private readonly assembler = new MessageAssembler();
  private bytes = 0;

  constructor(
    private readonly policy: Policy,
    private readonly ctx: PolicyContext,
    private readonly maxBufferBytes: number,
  ) {}

  push(event: AnthropicStreamEvent): AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]> {
    if (event.type === 'ping' || event.type === 'error') return [event];
    this.bytes += JSON.stringify(event).length;
    if (this.bytes > this.maxBufferBytes)
      throw new StreamBufferExceeded(this.policy.name, this.maxBufferBytes);
    this.assembler.push(event);
    if (event.type !== 'message_stop') return [];
    return this.release();
  }

  end(): AnthropicStreamEvent[] {
    return [];
  }

  private async release(): Promise<AnthropicStreamEvent[]> {
    const message = structuredClone(this.assembler.message);
    try {
      const rewritten = (await this.policy.onResponse?.(this.ctx, message)) ?? message;
      return messageToEvents(rewritten);
    } catch (error) {
      throw new PolicyFailure(this.policy.name, 'onResponse', error);
    }
  }
}
