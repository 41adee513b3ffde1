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
import type { Policy } from '../../core/policy';
import type { CallInfo } from '../../core/policy-context';
import { PolicyChain } from '../../runtime/policy-chain';
import { PolicyTimings } from '../../runtime/policy-timings';

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

/** A plain call (Anthropic client, streaming) whose abort signal is `signal`. */
export function callInfo(signal: AbortSignal = new AbortController().signal): CallInfo {
  return {
    callId: 'call_test',
    sessionId: 'session_test',
    keyId: undefined,
    clientFormat: 'anthropic',
    upstreamFormat: 'anthropic',
    model: 'mock-small',
    stream: true,
    originalRequest: { model: 'mock-small', messages: [] },
    signal,
  };
}

/** An assistant message with these blocks. */
export function assistantMessage(
  content: AnthropicContentBlock[],
  stopReason: AnthropicStopReason = 'tool_use',
): AnthropicResponse {
  return {
    id: 'msg_test',
    type: 'message',
    role: 'assistant',
    model: 'mock-small',
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 20 },
  };
}

function chainOf(policy: Policy): PolicyChain {
  return new PolicyChain([policy], { maxBufferBytes: 1 << 20, timings: new PolicyTimings() });
}

/**
 * Streams `message` (as canonical events) through a one-policy chain, checks every output event with the
 * protocol validator, and assembles the output.
 */
export async function runStreaming(
  policy: Policy,
  message: AnthropicResponse,
  signal?: AbortSignal,
): Promise<PolicyRun> {
  const events: SeenEvent[] = [];
  const run = chainOf(policy).begin(callInfo(signal), (type, data) => events.push({ type, data }));
  const transform = run.streamTransform();
  const validator = new AnthropicStreamValidator();
  const assembler = new MessageAssembler();
  const accept = (out: AnthropicStreamEvent[]): void => {
    for (const event of out) {
      validator.check(event);
      assembler.push(event);
    }
  };
  for (const event of messageToEvents(message)) accept(await transform.push(event));
  accept(await transform.end());
  expect(validator.finished).toBe(true);
  return { message: assembler.message, events };
}

/** Runs the same policy over the whole (non-streaming) message. */
export async function runWhole(
  policy: Policy,
  message: AnthropicResponse,
  signal?: AbortSignal,
): Promise<PolicyRun> {
  const events: SeenEvent[] = [];
  const run = chainOf(policy).begin(callInfo(signal), (type, data) => events.push({ type, data }));
  return { message: await run.transformMessage(structuredClone(message)), events };
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
