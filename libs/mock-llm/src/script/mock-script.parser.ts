import { mockScriptSchema } from './mock-script.schema';
import { MockScriptError } from './mock-script.error';
import type { MockScript } from './mock-script.types';

/** Request header carrying a JSON {@link MockScript}; it wins over a `<mock>` tag in the messages. */
export const MOCK_SCRIPT_HEADER = 'x-mock-script';
/** Opening tag of a script embedded in the last user turn. */
export const MOCK_TAG_OPEN = '<mock>';
/** Closing tag of a script embedded in the last user turn. */
export const MOCK_TAG_CLOSE = '</mock>';

/** The script of requests that do not carry one (the default reply); compare by identity to skip work. */
export const EMPTY_MOCK_SCRIPT: MockScript = Object.freeze({});

/**
 * Validates a script given as JSON text or as an already-parsed value.
 * @throws MockScriptError when the JSON is invalid or does not match the schema (unknown keys included).
 */
export function parseMockScript(source: unknown): MockScript {
  let value = source;
  if (typeof source === 'string') {
    try {
      value = JSON.parse(source) as unknown;
    } catch (err) {
      throw new MockScriptError(`invalid mock script JSON: ${(err as Error).message}`);
    }
  }
  const parsed = mockScriptSchema.safeParse(value);
  if (!parsed.success) {
    const details = parsed.error.issues
      .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
      .join('; ');
    throw new MockScriptError(`invalid mock script: ${details}`);
  }
  return parsed.data;
}

/**
 * Resolves the script of a request: the `x-mock-script` header if present, else a `<mock>{…}</mock>` tag in the
 * last user turn (OpenAI or Anthropic shape), else the empty script.
 * @throws MockScriptError when the script found is invalid.
 */
export function mockScriptFromRequest(header: string | string[] | undefined, body: unknown): MockScript {
  const fromHeader = Array.isArray(header) ? header[header.length - 1] : header;
  if (fromHeader !== undefined && fromHeader.trim() !== '') return parseMockScript(fromHeader);
  const fromMessages = findMockScriptSource(body);
  return fromMessages === undefined ? EMPTY_MOCK_SCRIPT : parseMockScript(fromMessages);
}

/**
 * Finds the JSON text of a `<mock>` tag in the last user turn of a request body: the last message whose role is
 * `user` (or OpenAI `tool`, the user's side of a tool round), looking at string content, text blocks/parts and
 * Anthropic `tool_result` contents. The last tag wins. Returns `undefined` when there is none.
 * @throws MockScriptError on an unterminated tag.
 */
export function findMockScriptSource(body: unknown): string | undefined {
  if (!isRecord(body) || !Array.isArray(body.messages)) return undefined;
  const messages: unknown[] = body.messages;
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (!isRecord(message)) continue;
    if (message.role !== 'user' && message.role !== 'tool') continue;
    return scriptInContent(message.content);
  }
  return undefined;
}

/** Wraps a script in a `<mock>` tag, ready to append to a prompt. */
export function mockScriptTag(script: MockScript): string {
  return `${MOCK_TAG_OPEN}${JSON.stringify(script)}${MOCK_TAG_CLOSE}`;
}

/** The last tag found in a message's content (string, or text / tool_result blocks), scanning from the end. */
function scriptInContent(content: unknown): string | undefined {
  if (typeof content === 'string') return scriptInText(content);
  if (!Array.isArray(content)) return undefined;
  const parts: unknown[] = content;
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i];
    if (!isRecord(part)) continue;
    let found: string | undefined;
    if (part.type === 'text' && typeof part.text === 'string') found = scriptInText(part.text);
    else if (part.type === 'tool_result') found = scriptInContent(part.content);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The JSON between the last `<mock>` and the following `</mock>` of a text. */
function scriptInText(text: string): string | undefined {
  const open = text.lastIndexOf(MOCK_TAG_OPEN);
  if (open < 0) return undefined;
  const start = open + MOCK_TAG_OPEN.length;
  const end = text.indexOf(MOCK_TAG_CLOSE, start);
  if (end < 0) throw new MockScriptError(`unterminated ${MOCK_TAG_OPEN} tag (missing ${MOCK_TAG_CLOSE})`);
  return text.slice(start, end);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
