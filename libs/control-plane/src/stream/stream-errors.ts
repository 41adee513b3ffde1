import {
  encodeAnthropicEvent,
  encodeOpenAIChunk,
  OPENAI_DONE_FRAME,
  OPENAI_KEEPALIVE_FRAME,
  type ErrorEvent,
} from '@warden/llm';
import type { ErrorKind } from './frame-relay';

const ANTHROPIC_TYPES: Record<ErrorKind, string> = {
  upstream: 'api_error',
  timeout: 'api_error',
  protocol: 'api_error',
  overloaded: 'overloaded_error',
  internal: 'api_error',
};

const OPENAI_CODES: Record<ErrorKind, string> = {
  upstream: 'upstream_error',
  timeout: 'upstream_timeout',
  protocol: 'upstream_protocol_error',
  overloaded: 'overloaded',
  internal: 'internal_error',
};

/** The canonical error event for a failure of `kind`. */
export function errorEvent(kind: ErrorKind, message: string): ErrorEvent {
  return { type: 'error', error: { type: ANTHROPIC_TYPES[kind], message } };
}

/** Anthropic in-band error frame (`event: error`), which ends an Anthropic stream. */
export function anthropicErrorFrame(kind: ErrorKind, message: string): string {
  return encodeAnthropicEvent(errorEvent(kind, message));
}

/** OpenAI in-band error: an error object frame, then `[DONE]`. */
export function openaiErrorFrames(kind: ErrorKind, message: string): string {
  return (
    encodeOpenAIChunk({ error: { message, type: 'server_error', param: null, code: OPENAI_CODES[kind] } }) +
    OPENAI_DONE_FRAME
  );
}

/** Anthropic keep-alive: a `ping` event (allowed anywhere in the stream). */
export const ANTHROPIC_KEEPALIVE = encodeAnthropicEvent({ type: 'ping' });

/** OpenAI keep-alive: an SSE comment, ignored by every client. */
export const OPENAI_KEEPALIVE = OPENAI_KEEPALIVE_FRAME;
