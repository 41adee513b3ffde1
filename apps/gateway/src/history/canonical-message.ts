import {
  isJsonObject,
  openAIRequestToAnthropic,
  openAIResponseToAnthropic,
  type JsonObject,
  type OpenAIRequest,
  type OpenAIResponse,
} from '@warden/llm';

/** A message as the history shows it: Anthropic-shaped, content always a list of blocks. */
export interface CanonicalMessage {
  role: string;
  content: JsonObject[];
}

/** A request as the history shows it: the Anthropic form of the body, its system blocks and its messages. */
export interface CanonicalRequest {
  /** The Anthropic-shaped body (converted when the request was in the OpenAI format). */
  body: JsonObject;
  system: JsonObject[];
  messages: CanonicalMessage[];
  /** True when the body had to be converted from the OpenAI format. */
  converted: boolean;
}

/** `max_tokens` assumed when converting an OpenAI request that has none (only shown, never sent). */
const FALLBACK_MAX_TOKENS = 4096;

/**
 * The canonical form of a recorded request body in `format` (`anthropic` | `openai`); undefined when `body` is not
 * a request. OpenAI bodies go through the gateway's own converter (`defaultMaxTokens` fills `max_tokens` as the
 * gateway did), or a lenient mapping when the converter refuses them.
 */
export function canonicalRequest(
  body: unknown,
  format: string | null,
  defaultMaxTokens = FALLBACK_MAX_TOKENS,
): CanonicalRequest | undefined {
  if (!isJsonObject(body) || !Array.isArray(body.messages)) return undefined;
  if (format !== 'openai') {
    return {
      body,
      system: toBlocks(body.system),
      messages: body.messages.filter(isJsonObject).map(anthropicMessage),
      converted: false,
    };
  }
  let converted: JsonObject;
  try {
    converted = openAIRequestToAnthropic(body as OpenAIRequest, { defaultMaxTokens });
  } catch {
    converted = lenientOpenAIRequest(body);
  }
  const messages = Array.isArray(converted.messages) ? converted.messages.filter(isJsonObject) : [];
  return {
    body: converted,
    system: toBlocks(converted.system),
    messages: messages.map(anthropicMessage),
    converted: true,
  };
}

/** The canonical (Anthropic) assistant message of a recorded response; undefined when there is none. */
export function canonicalResponse(body: unknown): JsonObject | undefined {
  if (!isJsonObject(body)) return undefined;
  if (Array.isArray(body.content)) return body;
  if (Array.isArray(body.choices)) {
    try {
      return openAIResponseToAnthropic(body as OpenAIResponse);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The content blocks of a canonical response message (none when there is no message). */
export function responseBlocks(message: JsonObject | undefined): JsonObject[] {
  return message === undefined ? [] : toBlocks(message.content);
}

/** Anthropic content (a string or a list of blocks) as a list of blocks. */
export function toBlocks(content: unknown): JsonObject[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (Array.isArray(content)) return content.filter(isJsonObject);
  return [];
}

function anthropicMessage(message: JsonObject): CanonicalMessage {
  return {
    role: typeof message.role === 'string' ? message.role : 'unknown',
    content: toBlocks(message.content),
  };
}

/** Best-effort Anthropic form of an OpenAI request the strict converter refused (for display only). */
function lenientOpenAIRequest(body: JsonObject): JsonObject {
  const system: JsonObject[] = [];
  const messages: JsonObject[] = [];
  for (const message of Array.isArray(body.messages) ? body.messages.filter(isJsonObject) : []) {
    const role = typeof message.role === 'string' ? message.role : 'user';
    if (role === 'system' || role === 'developer') {
      system.push(...openAIContentBlocks(message.content));
    } else if (role === 'tool') {
      messages.push({
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: typeof message.tool_call_id === 'string' ? message.tool_call_id : '',
            content: openAIContentBlocks(message.content),
          },
        ],
      });
    } else {
      const content = openAIContentBlocks(message.content);
      if (Array.isArray(message.tool_calls)) {
        for (const call of message.tool_calls.filter(isJsonObject)) {
          const fn = isJsonObject(call.function) ? call.function : {};
          content.push({
            type: 'tool_use',
            id: typeof call.id === 'string' ? call.id : '',
            name: typeof fn.name === 'string' ? fn.name : '',
            input: parseArguments(fn.arguments),
          });
        }
      }
      messages.push({ role: role === 'assistant' ? 'assistant' : 'user', content });
    }
  }
  const { messages: _messages, ...rest } = body;
  return { ...rest, ...(system.length > 0 ? { system } : {}), messages };
}

function openAIContentBlocks(content: unknown): JsonObject[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [];
  return content
    .filter(isJsonObject)
    .map((part) =>
      part.type === 'text' && typeof part.text === 'string' ? { type: 'text', text: part.text } : part,
    );
}

function parseArguments(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw ?? {};
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}
