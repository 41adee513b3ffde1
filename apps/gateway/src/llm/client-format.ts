import type { IncomingMessage } from 'node:http';
import type { WireFormat } from '@warden/llm';

/**
 * The API family a request speaks, for error shapes: the route says it (`/v1/messages` is Anthropic's,
 * `/v1/chat/completions` OpenAI's); shared routes (`/v1/models`) go by the `anthropic-version` header.
 */
export function clientFormatOf(req: IncomingMessage): WireFormat {
  const url = req.url ?? '';
  if (url.startsWith('/v1/messages')) return 'anthropic';
  if (url.startsWith('/v1/chat/')) return 'openai';
  return req.headers['anthropic-version'] !== undefined ? 'anthropic' : 'openai';
}
