import { isJsonObject, ProtocolViolation, type AnthropicStreamEvent, type AnthropicUsage } from '@warden/llm';
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

/** Longest error message kept from an upstream's in-band error. */
const MAX_ERROR_MESSAGE_CHARS = 1_000;

/**
 * The message of an in-band error (an Anthropic `error` event or an OpenAI `{error}` chunk: both hold
 * `error.message`), bounded; a generic one when it has none.
 */
export function errorMessageOf(body: unknown): string {
  const error = isJsonObject(body) ? body.error : undefined;
  const message = isJsonObject(error) ? error.message : undefined;
  const type = isJsonObject(error) && typeof error.type === 'string' ? error.type : 'error';
  const text = typeof message === 'string' && message !== '' ? message : 'no message';
  return `upstream ${type}: ${text.slice(0, MAX_ERROR_MESSAGE_CHARS)}`;
}
