import type { AnthropicStreamEvent } from '../anthropic/anthropic.types';
import { ProtocolViolation } from '../canonical/protocol-violation';

/** The frame that ends an OpenAI Chat Completions stream. */
export const OPENAI_DONE_FRAME = 'data: [DONE]\n\n';

/** An SSE comment frame, ignored by every client: keeps idle connections (and proxies) from timing out. */
export const OPENAI_KEEPALIVE_FRAME = ': keep-alive\n\n';

const LINE_BREAK = /\r\n|\r|\n/;

/**
 * Encodes one SSE frame: an optional `event:` line, then one `data:` line per line of `data` (an SSE data
 * line cannot hold a line break; `\r\n` and `\r` come back as `\n` when decoded), then a blank line.
 * Throws {@link ProtocolViolation} if `event` contains a line break.
 */
export function encodeSseFrame(data: string, event?: string): string {
  let out = '';
  if (event !== undefined && event !== '') {
    if (LINE_BREAK.test(event)) throw new ProtocolViolation('SSE event name contains a line break');
    out = `event: ${event}\n`;
  }
  if (!data.includes('\n') && !data.includes('\r')) return `${out}data: ${data}\n\n`;
  for (const line of data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** Encodes a canonical event as an Anthropic SSE frame: `event: <type>\ndata: <json>\n\n`. */
export function encodeAnthropicEvent(ev: AnthropicStreamEvent): string {
  return encodeSseFrame(JSON.stringify(ev), ev.type);
}

/** Encodes an OpenAI chunk (or an in-band `{error}` body) as an SSE frame: `data: <json>\n\n`. */
export function encodeOpenAIChunk(chunk: unknown): string {
  return `data: ${JSON.stringify(chunk)}\n\n`;
}
