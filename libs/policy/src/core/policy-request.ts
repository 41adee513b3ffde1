import { isJsonObject, type JsonObject, type WireFormat } from '@warden/llm';

/** A request as the client sent it, in its own format (no conversion: same-format calls stay lossless). */
export interface PolicyRequest {
  readonly format: WireFormat;
  readonly body: JsonObject;
}

/** Where a piece of request text sits. */
export type TextRole = 'system' | 'user' | 'assistant' | 'tool';

type TextMapper = (text: string, role: TextRole) => string;

function mapContent(content: unknown, role: TextRole, fn: TextMapper): unknown {
  if (typeof content === 'string') return fn(content, role);
  if (!Array.isArray(content)) return content;
  return content.map((part: unknown) => {
    if (!isJsonObject(part)) return part;
    if ((part.type === 'text' || part.type === 'input_text') && typeof part.text === 'string') {
      return { ...part, text: fn(part.text, role) };
    }
    if (part.type === 'tool_result') return { ...part, content: mapContent(part.content, 'tool', fn) };
    return part;
  });
}

function roleOf(message: JsonObject): TextRole {
  const role = message.role;
  if (role === 'system' || role === 'developer') return 'system';
  if (role === 'assistant') return 'assistant';
  if (role === 'tool') return 'tool';
  return 'user';
}

/**
 * A copy of the request body with `fn` applied to every text (system prompt, message text parts, tool results),
 * in either API's format. Other fields and block types are kept as they are.
 */
export function mapRequestText(request: PolicyRequest, fn: TextMapper): JsonObject {
  const body = request.body;
  const out: JsonObject = { ...body };
  if (request.format === 'anthropic' && body.system !== undefined)
    out.system = mapContent(body.system, 'system', fn);
  if (Array.isArray(body.messages)) {
    out.messages = body.messages.map((m: unknown) =>
      isJsonObject(m) ? { ...m, content: mapContent(m.content, roleOf(m), fn) } : m,
    );
  }
  return out;
}

/** Every text of the request with its role, in order (system first for Anthropic). */
export function requestTexts(request: PolicyRequest): Array<{ role: TextRole; text: string }> {
  const texts: Array<{ role: TextRole; text: string }> = [];
  mapRequestText(request, (text, role) => {
    texts.push({ role, text });
    return text;
  });
  return texts;
}

/** The text of the last user message (tool results included), or '' when there is none. */
export function lastUserText(request: PolicyRequest): string {
  const messages = Array.isArray(request.body.messages) ? request.body.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m: unknown = messages[i];
    if (!isJsonObject(m) || (m.role !== 'user' && m.role !== 'tool')) continue;
    const parts: string[] = [];
    mapContent(m.content, 'user', (text) => {
      parts.push(text);
      return text;
    });
    return parts.join('\n');
  }
  return '';
}
