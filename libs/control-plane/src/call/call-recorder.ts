import {
  MessageAssembler,
  OpenAIStreamDecoder,
  type AnthropicResponse,
  type AnthropicStreamEvent,
  type OpenAIChunk,
} from '@warden/llm';

/**
 * Keeps what a streamed call needs for its history: the upstream's events (or raw OpenAI chunks on the passthrough
 * path) and, when policies transformed the stream, the events the client got. Only references are kept while the
 * stream runs (bounded by `limitBytes`); the messages are assembled after the response ended, off the hot path.
 */
export class CallRecorder {
  private readonly upstreamEvents: AnthropicStreamEvent[] = [];
  private readonly upstreamChunks: OpenAIChunk[] = [];
  private readonly clientEvents: AnthropicStreamEvent[] = [];
  private bytes = 0;
  private truncated = false;

  constructor(private readonly limitBytes: number) {}

  /** A canonical event received from upstream (`size`: its encoded length). */
  upstreamEvent(event: AnthropicStreamEvent, size: number): void {
    if (this.fits(size)) this.upstreamEvents.push(event);
  }

  /** An OpenAI chunk forwarded untouched (decoded only when the history is written). */
  upstreamChunk(chunk: OpenAIChunk, size: number): void {
    if (this.fits(size)) this.upstreamChunks.push(chunk);
  }

  /** A canonical event written to the client after the policies. */
  clientEvent(event: AnthropicStreamEvent): void {
    if (this.fits(0)) this.clientEvents.push(event);
  }

  /** The original (upstream) and final (client) messages; undefined parts when nothing was recorded. */
  messages(): {
    original: AnthropicResponse | undefined;
    final: AnthropicResponse | undefined;
    truncated: boolean;
  } {
    const original =
      this.upstreamChunks.length > 0 ? assembleChunks(this.upstreamChunks) : assemble(this.upstreamEvents);
    const final = this.clientEvents.length > 0 ? assemble(this.clientEvents) : original;
    return { original, final, truncated: this.truncated };
  }

  private fits(size: number): boolean {
    if (this.truncated) return false;
    this.bytes += size;
    if (this.bytes > this.limitBytes) this.truncated = true;
    return !this.truncated;
  }
}

function assemble(events: readonly AnthropicStreamEvent[]): AnthropicResponse | undefined {
  if (events.length === 0 || events[0]?.type !== 'message_start') return undefined;
  const assembler = new MessageAssembler();
  try {
    for (const event of events) if (event.type !== 'ping' && event.type !== 'error') assembler.push(event);
    return assembler.message;
  } catch {
    return undefined;
  }
}

function assembleChunks(chunks: readonly OpenAIChunk[]): AnthropicResponse | undefined {
  const decoder = new OpenAIStreamDecoder();
  const events: AnthropicStreamEvent[] = [];
  try {
    for (const chunk of chunks) events.push(...decoder.push(chunk));
    events.push(...decoder.finish());
  } catch {
    // An incomplete stream (error, abort): record what was assembled so far.
  }
  return assemble(events);
}
