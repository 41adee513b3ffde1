import { INVALID_SPAN_CONTEXT, trace } from '@opentelemetry/api';
import {
  AnthropicStreamValidator,
  MessageAssembler,
  messageToEvents,
  type AnthropicContentBlock,
  type AnthropicResponse,
  type AnthropicStopReason,
  type AnthropicStreamEvent,
  type JsonObject,
} from '@warden/llm';
import type { Policy } from '../core/policy';
import type { CallInfo } from '../core/policy-context';
import { PolicyChain } from '../runtime/policy-chain';
import { PolicyTimings } from '../runtime/policy-timings';

/** Stream buffer limit of the chains built here. */
export const TEST_MAX_BUFFER = 1 << 20;

/** A policy event as the sink received it. */
export interface SeenEvent {
  readonly type: string;
  readonly data: JsonObject;
}

/** What one run of a policy over a message gave. */
export interface PolicyRun {
  readonly message: AnthropicResponse;
  readonly events: SeenEvent[];
}

/** A streamed run: also the text of each text delta of the output, in order. */
export interface StreamRun extends PolicyRun {
  readonly deltas: string[];
}

/** A plain call (Anthropic client and upstream, streaming) with its own abort signal; `overrides` replace fields. */
export function callInfo(overrides: Partial<CallInfo> = {}): CallInfo {
  return {
    callId: 'call_1',
    sessionId: 'session_1',
    keyId: undefined,
    clientFormat: 'anthropic',
    upstreamFormat: 'anthropic',
    model: 'm',
    stream: true,
    originalRequest: {},
    signal: new AbortController().signal,
    span: trace.wrapSpanContext(INVALID_SPAN_CONTEXT),
    ...overrides,
  };
}

/** An assistant message with these blocks. */
export function assistantMessage(
  content: AnthropicContentBlock[],
  stopReason: AnthropicStopReason = 'tool_use',
  usage: AnthropicResponse['usage'] = { input_tokens: 10, output_tokens: 20 },
): AnthropicResponse {
  return {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'm',
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage,
  };
}

/** A chain of `policies` with fresh (or the given) timings. */
export function chainOf(policies: Policy[], timings: PolicyTimings = new PolicyTimings()): PolicyChain {
  return new PolicyChain(policies, { maxBufferBytes: TEST_MAX_BUFFER, timings });
}

/** The canonical events of `msg` with every text delta cut into pieces of the given sizes (cycled). */
export function chunkedEvents(msg: AnthropicResponse, sizes: readonly number[]): AnthropicStreamEvent[] {
  const out: AnthropicStreamEvent[] = [];
  let k = 0;
  for (const event of messageToEvents(msg)) {
    if (event.type !== 'content_block_delta' || event.delta.type !== 'text_delta') {
      out.push(event);
      continue;
    }
    const value = String(event.delta.text);
    for (let i = 0; i < value.length;) {
      const size = sizes[k++ % sizes.length] ?? 1;
      out.push({ ...event, delta: { type: 'text_delta', text: value.slice(i, i + size) } });
      i += size;
    }
  }
  return out;
}

/**
 * Streams `events` through a one-policy chain, checks every output event with the protocol validator, and
 * assembles the output.
 */
export async function runStream(
  policy: Policy,
  events: Iterable<AnthropicStreamEvent>,
  call: CallInfo = callInfo(),
): Promise<StreamRun> {
  const seen: SeenEvent[] = [];
  const transform = chainOf([policy])
    .begin(call, (type, data) => seen.push({ type, data }))
    .streamTransform();
  const validator = new AnthropicStreamValidator();
  const assembler = new MessageAssembler();
  const deltas: string[] = [];
  const accept = (out: AnthropicStreamEvent[]): void => {
    for (const event of out) {
      validator.check(event);
      assembler.push(event);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
        deltas.push(String(event.delta.text));
      }
    }
  };
  for (const event of events) accept(await transform.push(event));
  accept(await transform.end());
  expect(validator.finished).toBe(true);
  return { message: assembler.message, deltas, events: seen };
}

/** Streams `message` (as canonical events) through a one-policy chain; see {@link runStream}. */
export async function runStreaming(
  policy: Policy,
  message: AnthropicResponse,
  signal?: AbortSignal,
): Promise<PolicyRun> {
  const { message: out, events } = await runStream(
    policy,
    messageToEvents(message),
    callInfo(signalOf(signal)),
  );
  return { message: out, events };
}

/** Runs a one-policy chain over the whole (non-streaming) message. */
export async function runWhole(
  policy: Policy,
  message: AnthropicResponse,
  signal?: AbortSignal,
): Promise<PolicyRun> {
  const events: SeenEvent[] = [];
  const run = chainOf([policy]).begin(callInfo(signalOf(signal)), (type, data) =>
    events.push({ type, data }),
  );
  return { message: await run.transformMessage(structuredClone(message)), events };
}

function signalOf(signal: AbortSignal | undefined): Partial<CallInfo> {
  return signal === undefined ? {} : { signal };
}

/** The policy events without their timing, for comparing runs. */
export function withoutLatency(events: readonly SeenEvent[]): SeenEvent[] {
  return events.map(({ type, data }) => {
    const { latencyMs: _latency, ...rest } = data;
    return { type, data: rest };
  });
}

/** The text of each block, or `tool_use:<name>` for tool calls. */
export function blockSummary(message: AnthropicResponse): string[] {
  return message.content.map((block) =>
    block.type === 'text' ? String(block.text) : `${block.type}:${String(block.name)}`,
  );
}
