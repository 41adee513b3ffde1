import { ProtocolViolation, type AnthropicStreamEvent, type AnthropicUsage } from '@warden/llm';
import type { CallUsage } from './frame-relay';

/** Parses one SSE frame's JSON data; malformed data is a protocol violation, not a crash. */
export function parseFrameJson(data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    throw new ProtocolViolation(`upstream sent malformed JSON in an SSE frame: ${data.slice(0, 80)}`);
  }
}

/** Copies the token counts of an Anthropic event into `usage`. */
export function trackAnthropicUsage(event: AnthropicStreamEvent, usage: CallUsage): void {
  let u: AnthropicUsage | undefined;
  if (event.type === 'message_start') u = event.message.usage;
  else if (event.type === 'message_delta') u = event.usage;
  if (u === undefined) return;
  if (typeof u.input_tokens === 'number') usage.inputTokens = u.input_tokens;
  if (typeof u.output_tokens === 'number') usage.outputTokens = u.output_tokens;
}
