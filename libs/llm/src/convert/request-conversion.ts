import { isJsonObject, type JsonObject } from '../json';
import type {
  AnthropicContentBlock,
  AnthropicImageBlock,
  AnthropicMessageParam,
  AnthropicRequest,
  AnthropicRole,
  AnthropicTextBlock,
  AnthropicTool,
  AnthropicToolChoice,
  AnthropicToolResultBlock,
  AnthropicToolUseBlock,
} from '../anthropic/anthropic.types';
import type {
  OpenAIContentPart,
  OpenAIImagePart,
  OpenAIMessage,
  OpenAIRequest,
  OpenAITextPart,
  OpenAITool,
  OpenAIToolCall,
  OpenAIToolChoice,
} from '../openai/openai.types';
import { ConversionError } from './conversion.exception';

/** `max_tokens` sent to Anthropic (which requires it) when the OpenAI request sets neither limit. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

/** Anthropic `thinking.budget_tokens` used for each OpenAI `reasoning_effort` that enables thinking. */
export const THINKING_BUDGET_BY_REASONING_EFFORT: Readonly<Record<string, number>> = {
  low: 1024,
  medium: 4096,
  high: 16384,
  xhigh: 32768,
};

/** OpenAI `reasoning_effort` values that mean "no thinking": the request is sent without `thinking`. */
const EFFORTS_WITHOUT_THINKING: ReadonlySet<string> = new Set(['none', 'minimal']);

/** Anthropic accepts `top_p` together with thinking only from this value up to 1. */
const MIN_TOP_P_WITH_THINKING = 0.95;

/** Anthropic thinking budgets below this map to `reasoning_effort: 'low'`. */
export const LOW_EFFORT_BUDGET_LIMIT = 2048;
/** Anthropic thinking budgets below this (and not low) map to `reasoning_effort: 'medium'`; the rest to `'high'`. */
export const MEDIUM_EFFORT_BUDGET_LIMIT = 8192;

/**
 * Key of the object that stands for tool-call arguments that were not a JSON object (see
 * `openAIResponseToAnthropic`); `anthropicRequestToOpenAI` turns such an input back into the raw string.
 */
export const RAW_ARGUMENTS_KEY = '_raw_arguments';

/** Prefix given to the OpenAI `tool` message that carries an Anthropic `tool_result` with `is_error: true`. */
export const TOOL_ERROR_PREFIX = '[tool error] ';

/** Text separating the flattened blocks of an Anthropic `tool_result` and of a multi-block `system`. */
const TOOL_RESULT_BLOCK_SEPARATOR = '\n';
const SYSTEM_BLOCK_SEPARATOR = '\n\n';

/** The JSON schema given to a tool that declares no parameters (both APIs want an object schema). */
const EMPTY_OBJECT_SCHEMA: JsonObject = { type: 'object', properties: {} };

/** Options of {@link openAIRequestToAnthropic}. */
export interface OpenAIToAnthropicOptions {
  /** `max_tokens` used when the OpenAI request sets neither `max_completion_tokens` nor `max_tokens`. */
  defaultMaxTokens: number;
}

/* ------------------------------------------------------------------------------------------------ */
/* small helpers shared by both directions                                                          */
/* ------------------------------------------------------------------------------------------------ */

/** A base64 data URL split into its media type and payload; `null` for anything else. */
function parseBase64DataUrl(url: string): { mediaType: string; data: string } | null {
  const match = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(url);
  if (match === null) return null;
  const [, mediaType = '', params = '', data = ''] = match;
  if (!params.split(';').includes('base64')) return null;
  return { mediaType, data };
}

/** True when `value` is a JSON object standing for raw, unparseable tool arguments. */
function isRawArgumentsInput(value: unknown): value is { [RAW_ARGUMENTS_KEY]: string } {
  return (
    isJsonObject(value) && Object.keys(value).length === 1 && typeof value[RAW_ARGUMENTS_KEY] === 'string'
  );
}

/** OpenAI `arguments` for an Anthropic `input`: JSON text, or the raw string a wrapper stands for. */
export function toolInputToArguments(input: unknown): string {
  if (isRawArgumentsInput(input)) return input[RAW_ARGUMENTS_KEY];
  return JSON.stringify(input ?? {});
}

/**
 * Parses OpenAI tool-call `arguments` into an Anthropic `input` object. Empty or blank arguments mean `{}`.
 * Returns `null` when the text is not JSON or not a JSON object.
 */
export function parseToolArguments(args: string): JsonObject | null {
  if (args.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    return null;
  }
  return isJsonObject(parsed) ? parsed : null;
}

function isOpenAITextPart(part: OpenAIContentPart): part is OpenAITextPart {
  return part.type === 'text' && typeof part.text === 'string';
}

function isOpenAIImagePart(part: OpenAIContentPart): part is OpenAIImagePart {
  return part.type === 'image_url' && isJsonObject(part.image_url) && typeof part.image_url.url === 'string';
}

function isTextBlock(block: AnthropicContentBlock): block is AnthropicTextBlock {
  return block.type === 'text' && typeof block.text === 'string';
}

function isToolUseBlock(block: AnthropicContentBlock): block is AnthropicToolUseBlock {
  return block.type === 'tool_use' && typeof block.id === 'string' && typeof block.name === 'string';
}

function isToolResultBlock(block: AnthropicContentBlock): block is AnthropicToolResultBlock {
  return block.type === 'tool_result' && typeof block.tool_use_id === 'string';
}

/** Drops `null`/`undefined` so optional OpenAI fields sent as `null` read as absent. */
function present<T>(value: T | null | undefined): value is T {
  return value !== null && value !== undefined;
}

/* ------------------------------------------------------------------------------------------------ */
/* OpenAI -> Anthropic                                                                              */
/* ------------------------------------------------------------------------------------------------ */

/** One Anthropic turn while it is being built (content always as blocks). */
interface Turn {
  role: AnthropicRole;
  content: AnthropicContentBlock[];
}

/**
 * Converts an OpenAI Chat Completions request into an Anthropic Messages request.
 *
 * Contract: system/developer messages (anywhere) become the top-level `system`; consecutive messages that end up
 * with the same Anthropic role are merged so roles alternate, with `tool_result` blocks first in each user turn;
 * fields with no Anthropic meaning are dropped; fields whose loss would change the answer (`n > 1`,
 * `response_format: json_schema`, unsupported content) throw {@link ConversionError}.
 * docs/compatibility.md lists every field.
 */
export function openAIRequestToAnthropic(
  req: OpenAIRequest,
  options: OpenAIToAnthropicOptions,
): AnthropicRequest {
  rejectUnsupportedOpenAIFields(req);

  const systemTexts: string[] = [];
  let systemUsedParts = false;
  const turns: Turn[] = [];
  const pushTurn = (role: AnthropicRole, content: AnthropicContentBlock[]): void => {
    if (content.length === 0) return;
    const last = turns.at(-1);
    if (last !== undefined && last.role === role) last.content.push(...content);
    else turns.push({ role, content: [...content] });
  };

  req.messages.forEach((message, i) => {
    const path = `messages[${i}]`;
    switch (message.role) {
      case 'system':
      case 'developer': {
        const { texts, usedParts } = systemMessageTexts(message, path);
        systemTexts.push(...texts);
        systemUsedParts ||= usedParts;
        break;
      }
      case 'user':
        pushTurn('user', userContentToBlocks(message.content, path));
        break;
      case 'assistant':
        pushTurn('assistant', assistantMessageToBlocks(message, path));
        break;
      case 'tool':
        pushTurn('user', [toolMessageToResult(message, path)]);
        break;
      default:
        throw new ConversionError(
          `${path}.role: role '${String(message.role)}' cannot be converted to Anthropic`,
          `${path}.role`,
        );
    }
  });

  if (turns.length === 0) {
    throw new ConversionError('messages: at least one user or assistant message is required', 'messages');
  }

  const messages: AnthropicMessageParam[] = turns.map((turn) => ({
    role: turn.role,
    content: turn.role === 'user' ? toolResultsFirst(turn.content) : turn.content,
  }));

  const out: AnthropicRequest = {
    model: req.model,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? options.defaultMaxTokens,
    messages,
  };

  if (systemTexts.length === 1 && !systemUsedParts) out.system = systemTexts[0];
  else if (systemTexts.length > 0) out.system = systemTexts.map((text) => ({ type: 'text', text }));

  const tools = req.tools ?? [];
  if (tools.length > 0) {
    out.tools = tools.map(openAIToolToAnthropic);
    const toolChoice = openAIToolChoiceToAnthropic(req.tool_choice, req.parallel_tool_calls);
    if (toolChoice !== undefined) out.tool_choice = toolChoice;
  }

  if (present(req.stop)) {
    const stops = typeof req.stop === 'string' ? [req.stop] : req.stop;
    if (stops.length > 0) out.stop_sequences = [...stops];
  }
  if (present(req.temperature)) out.temperature = req.temperature;
  if (present(req.top_p)) out.top_p = req.top_p;
  if (present(req.stream)) out.stream = req.stream;
  if (typeof req.user === 'string') out.metadata = { user_id: req.user };

  applyReasoningEffort(out, req.reasoning_effort);
  return out;
}

/** Throws for OpenAI request fields that have no Anthropic equivalent and cannot be dropped silently. */
function rejectUnsupportedOpenAIFields(req: OpenAIRequest): void {
  if (present(req.n) && req.n > 1) {
    throw new ConversionError('n: Anthropic returns a single choice; n > 1 is not supported', 'n');
  }
  const format = req.response_format;
  if (isJsonObject(format) && format.type === 'json_schema') {
    throw new ConversionError(
      "response_format: type 'json_schema' is not supported when the upstream is Anthropic",
      'response_format',
    );
  }
  if (present(req.functions) || present(req.function_call)) {
    throw new ConversionError(
      'functions: the legacy functions/function_call fields are not supported; use tools/tool_choice',
      'functions',
    );
  }
}

/** The texts of a system/developer message, and whether it used content parts (forces text blocks). */
function systemMessageTexts(message: OpenAIMessage, path: string): { texts: string[]; usedParts: boolean } {
  const content = message.content;
  if (!present(content)) return { texts: [], usedParts: false };
  if (typeof content === 'string') return { texts: content === '' ? [] : [content], usedParts: false };
  const texts = content.map((part, j) => {
    if (!isOpenAITextPart(part)) {
      throw new ConversionError(
        `${path}.content[${j}]: only text parts are allowed in system messages`,
        `${path}.content[${j}]`,
      );
    }
    return part.text;
  });
  return { texts: texts.filter((text) => text !== ''), usedParts: true };
}

/** User content (string or parts) as Anthropic blocks; empty text is dropped (Anthropic rejects it). */
function userContentToBlocks(content: OpenAIMessage['content'], path: string): AnthropicContentBlock[] {
  if (!present(content)) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  const blocks: AnthropicContentBlock[] = [];
  content.forEach((part, j) => {
    const partPath = `${path}.content[${j}]`;
    if (isOpenAITextPart(part)) {
      if (part.text !== '') blocks.push({ type: 'text', text: part.text });
    } else if (isOpenAIImagePart(part)) {
      blocks.push(imageUrlToBlock(part.image_url.url, `${partPath}.image_url.url`));
    } else if (part.type === 'file') {
      blocks.push(filePartToDocument(part, partPath));
    } else {
      throw new ConversionError(
        `${partPath}: content part of type '${part.type}' cannot be converted to Anthropic`,
        partPath,
      );
    }
  });
  return blocks;
}

/** An `image_url` URL as an Anthropic image block: base64 data URL -> base64 source, http(s) -> url source. */
function imageUrlToBlock(url: string, param: string): AnthropicImageBlock {
  const dataUrl = parseBase64DataUrl(url);
  if (dataUrl !== null) {
    return { type: 'image', source: { type: 'base64', media_type: dataUrl.mediaType, data: dataUrl.data } };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw new ConversionError(`${param}: only base64 data URLs and http(s) URLs can be converted`, param);
}

/** A `file` part holding an inline PDF (`file_data` data URL) as an Anthropic base64 document block. */
function filePartToDocument(part: OpenAIContentPart, path: string): AnthropicContentBlock {
  const file = part.file;
  const fileData = isJsonObject(file) && typeof file.file_data === 'string' ? file.file_data : undefined;
  const dataUrl = fileData === undefined ? null : parseBase64DataUrl(fileData);
  if (dataUrl === null || dataUrl.mediaType !== 'application/pdf') {
    throw new ConversionError(
      `${path}: only inline PDF files (file.file_data as a base64 data URL) can be converted to Anthropic`,
      path,
    );
  }
  return { type: 'document', source: { type: 'base64', media_type: dataUrl.mediaType, data: dataUrl.data } };
}

/** Assistant text (string, text or refusal parts) then one `tool_use` block per tool call. */
function assistantMessageToBlocks(message: OpenAIMessage, path: string): AnthropicContentBlock[] {
  if (present(message.function_call)) {
    throw new ConversionError(
      `${path}.function_call: the legacy function_call is not supported; use tool_calls`,
      `${path}.function_call`,
    );
  }
  const blocks: AnthropicContentBlock[] = [];
  const content = message.content;
  if (typeof content === 'string') {
    if (content !== '') blocks.push({ type: 'text', text: content });
  } else if (present(content)) {
    content.forEach((part, j) => {
      const text = isOpenAITextPart(part)
        ? part.text
        : part.type === 'refusal' && typeof part.refusal === 'string'
          ? part.refusal
          : undefined;
      if (text === undefined) {
        throw new ConversionError(
          `${path}.content[${j}]: assistant content part of type '${part.type}' cannot be converted`,
          `${path}.content[${j}]`,
        );
      }
      if (text !== '') blocks.push({ type: 'text', text });
    });
  }
  (message.tool_calls ?? []).forEach((call, j) => {
    blocks.push(toolCallToToolUse(call, `${path}.tool_calls[${j}]`));
  });
  return blocks;
}

function toolCallToToolUse(call: OpenAIToolCall, path: string): AnthropicToolUseBlock {
  if (call.type !== 'function' || !isJsonObject(call.function)) {
    throw new ConversionError(`${path}: only function tool calls can be converted`, path);
  }
  const args: unknown = call.function.arguments;
  const input = typeof args === 'string' ? parseToolArguments(args) : null;
  if (input === null) {
    throw new ConversionError(
      `${path}.function.arguments: arguments must be a JSON-encoded object`,
      `${path}.function.arguments`,
    );
  }
  return { type: 'tool_use', id: call.id, name: call.function.name, input };
}

/** A `tool` message as a `tool_result` block (string content kept; text parts become text blocks). */
function toolMessageToResult(message: OpenAIMessage, path: string): AnthropicToolResultBlock {
  if (typeof message.tool_call_id !== 'string') {
    throw new ConversionError(
      `${path}.tool_call_id: a tool message needs a tool_call_id`,
      `${path}.tool_call_id`,
    );
  }
  const result: AnthropicToolResultBlock = { type: 'tool_result', tool_use_id: message.tool_call_id };
  const content = message.content;
  if (typeof content === 'string') {
    if (content !== '') result.content = content;
  } else if (present(content)) {
    const blocks = content.map((part, j): AnthropicTextBlock => {
      if (!isOpenAITextPart(part)) {
        throw new ConversionError(
          `${path}.content[${j}]: only text parts are allowed in tool messages`,
          `${path}.content[${j}]`,
        );
      }
      return { type: 'text', text: part.text };
    });
    const nonEmpty = blocks.filter((block) => block.text !== '');
    if (nonEmpty.length > 0) result.content = nonEmpty;
  }
  return result;
}

/** Anthropic wants the `tool_result` blocks of a user turn before anything else; the order is otherwise kept. */
function toolResultsFirst(blocks: AnthropicContentBlock[]): AnthropicContentBlock[] {
  return [
    ...blocks.filter((block) => block.type === 'tool_result'),
    ...blocks.filter((block) => block.type !== 'tool_result'),
  ];
}

function openAIToolToAnthropic(tool: OpenAITool, i: number): AnthropicTool {
  if (tool.type !== 'function' || !isJsonObject(tool.function)) {
    throw new ConversionError(
      `tools[${i}]: only function tools can be converted to Anthropic`,
      `tools[${i}]`,
    );
  }
  const out: AnthropicTool = {
    name: tool.function.name,
    input_schema: tool.function.parameters ?? EMPTY_OBJECT_SCHEMA,
  };
  if (tool.function.description !== undefined) out.description = tool.function.description;
  return out;
}

/**
 * `tool_choice` + `parallel_tool_calls` as an Anthropic `tool_choice`. `parallel_tool_calls: false` sets
 * `disable_parallel_tool_use` (on a new `{type:'auto'}` when no choice was given); `none` has no such flag.
 */
function openAIToolChoiceToAnthropic(
  choice: OpenAIToolChoice | undefined,
  parallelToolCalls: boolean | undefined,
): AnthropicToolChoice | undefined {
  const disableParallel = parallelToolCalls === false;
  if (choice === 'none') return { type: 'none' };
  let out: AnthropicToolChoice;
  if (choice === undefined || choice === null) {
    if (!disableParallel) return undefined;
    out = { type: 'auto' };
  } else if (choice === 'auto') out = { type: 'auto' };
  else if (choice === 'required') out = { type: 'any' };
  else if (isJsonObject(choice) && choice.type === 'function' && typeof choice.function?.name === 'string') {
    out = { type: 'tool', name: choice.function.name };
  } else {
    throw new ConversionError(
      'tool_choice: this tool_choice cannot be converted to Anthropic',
      'tool_choice',
    );
  }
  if (disableParallel) out.disable_parallel_tool_use = true;
  return out;
}

/**
 * Maps `reasoning_effort` to `thinking` and applies Anthropic's thinking constraints: `max_tokens` must exceed the
 * budget (it becomes `budget + max_tokens` when it does not), `temperature` is removed and `top_p` kept only in
 * 0.95..1. Thinking is not enabled when it would make Anthropic reject the request: forced tool choice, a trailing
 * assistant message (prefill), or a last assistant turn with `tool_use` (it would have to start with a thinking
 * block, which an OpenAI client cannot send back).
 */
function applyReasoningEffort(out: AnthropicRequest, effort: string | undefined): void {
  if (effort === undefined || effort === null || EFFORTS_WITHOUT_THINKING.has(effort)) return;
  const budget = THINKING_BUDGET_BY_REASONING_EFFORT[effort];
  if (budget === undefined) {
    throw new ConversionError(
      `reasoning_effort: '${effort}' cannot be converted to Anthropic`,
      'reasoning_effort',
    );
  }
  const forcedTool = out.tool_choice?.type === 'any' || out.tool_choice?.type === 'tool';
  const lastMessage = out.messages.at(-1);
  const lastAssistant = out.messages.findLast((message) => message.role === 'assistant');
  const lastAssistantUsedTools =
    lastAssistant !== undefined &&
    typeof lastAssistant.content !== 'string' &&
    lastAssistant.content.some((block) => block.type === 'tool_use');
  if (forcedTool || lastMessage?.role === 'assistant' || lastAssistantUsedTools) return;

  out.thinking = { type: 'enabled', budget_tokens: budget };
  if (out.max_tokens <= budget) out.max_tokens += budget;
  delete out.temperature;
  if (out.top_p !== undefined && out.top_p < MIN_TOP_P_WITH_THINKING) delete out.top_p;
}

/* ------------------------------------------------------------------------------------------------ */
/* Anthropic -> OpenAI                                                                              */
/* ------------------------------------------------------------------------------------------------ */

/**
 * Converts an Anthropic Messages request into an OpenAI Chat Completions request.
 *
 * Contract: `system` becomes one leading system message; each `tool_result` becomes a `tool` message placed before
 * the rest of its user turn; thinking blocks, `top_k`, `cache_control` and other Anthropic-only fields are dropped;
 * server tools, MCP servers and content OpenAI cannot carry throw {@link ConversionError}.
 * docs/compatibility.md lists every field.
 */
export function anthropicRequestToOpenAI(req: AnthropicRequest): OpenAIRequest {
  if (Array.isArray(req.mcp_servers) && req.mcp_servers.length > 0) {
    throw new ConversionError(
      'mcp_servers: MCP servers are not supported when the upstream is OpenAI',
      'mcp_servers',
    );
  }
  const messages: OpenAIMessage[] = [];
  const system = anthropicSystemText(req.system);
  if (system !== undefined) messages.push({ role: 'system', content: system });

  req.messages.forEach((message, i) => {
    const path = `messages[${i}]`;
    if (message.role === 'user') messages.push(...anthropicUserToOpenAI(message.content, path));
    else if (message.role === 'assistant') {
      const converted = anthropicAssistantToOpenAI(message.content, path);
      if (converted !== undefined) messages.push(converted);
    } else {
      throw new ConversionError(
        `${path}.role: role '${String(message.role)}' cannot be converted to OpenAI`,
        `${path}.role`,
      );
    }
  });

  const out: OpenAIRequest = { model: req.model, messages, max_completion_tokens: req.max_tokens };

  const tools = req.tools ?? [];
  if (tools.length > 0) {
    out.tools = tools.map(anthropicToolToOpenAI);
    const choice = req.tool_choice;
    if (choice !== undefined) {
      out.tool_choice = anthropicToolChoiceToOpenAI(choice);
      if ('disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use === true) {
        out.parallel_tool_calls = false;
      }
    }
  }

  if (req.stop_sequences !== undefined && req.stop_sequences.length > 0) out.stop = [...req.stop_sequences];
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.top_p !== undefined) out.top_p = req.top_p;
  if (req.stream !== undefined) out.stream = req.stream;
  if (req.stream === true) out.stream_options = { include_usage: true };
  const userId = req.metadata?.user_id;
  if (typeof userId === 'string') out.user = userId;
  const effort = thinkingToReasoningEffort(req.thinking);
  if (effort !== undefined) out.reasoning_effort = effort;
  return out;
}

/** The `system` field as one string (text blocks joined by a blank line); `undefined` when empty. */
function anthropicSystemText(system: AnthropicRequest['system']): string | undefined {
  if (system === undefined) return undefined;
  const text =
    typeof system === 'string'
      ? system
      : system
          .map((block, j) => {
            if (!isTextBlock(block)) {
              throw new ConversionError(
                `system[${j}]: only text blocks are allowed in system`,
                `system[${j}]`,
              );
            }
            return block.text;
          })
          .filter((blockText) => blockText !== '')
          .join(SYSTEM_BLOCK_SEPARATOR);
  return text === '' ? undefined : text;
}

/** A user turn: one `tool` message per `tool_result` first, then a user message with the rest (if any). */
function anthropicUserToOpenAI(content: AnthropicMessageParam['content'], path: string): OpenAIMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const toolMessages: OpenAIMessage[] = [];
  const parts: OpenAIContentPart[] = [];
  content.forEach((block, j) => {
    const blockPath = `${path}.content[${j}]`;
    if (isToolResultBlock(block)) toolMessages.push(toolResultToMessage(block));
    else if (isTextBlock(block)) parts.push({ type: 'text', text: block.text });
    else if (block.type === 'image') parts.push(imageBlockToPart(block, blockPath));
    else if (block.type === 'document') parts.push(...documentToParts(block, blockPath));
    else if (block.type === 'thinking' || block.type === 'redacted_thinking') return;
    else {
      throw new ConversionError(
        `${blockPath}: user content block of type '${block.type}' cannot be converted to OpenAI`,
        blockPath,
      );
    }
  });
  const messages = [...toolMessages];
  if (parts.length > 0) messages.push({ role: 'user', content: partsToContent(parts) });
  return messages;
}

/** A single text part reads as a plain string (the form every OpenAI-compatible server accepts). */
function partsToContent(parts: OpenAIContentPart[]): string | OpenAIContentPart[] {
  const only = parts.length === 1 ? parts[0] : undefined;
  return only !== undefined && isOpenAITextPart(only) ? only.text : parts;
}

function toolResultToMessage(block: AnthropicToolResultBlock): OpenAIMessage {
  const content = block.content;
  let text: string;
  if (content === undefined || content === null) text = '';
  else if (typeof content === 'string') text = content;
  else {
    text = content
      .map((inner) => (isTextBlock(inner) ? inner.text : `[${inner.type} omitted]`))
      .join(TOOL_RESULT_BLOCK_SEPARATOR);
  }
  if (block.is_error === true) text = `${TOOL_ERROR_PREFIX}${text}`;
  return { role: 'tool', tool_call_id: block.tool_use_id, content: text };
}

function imageBlockToPart(block: AnthropicContentBlock, path: string): OpenAIImagePart {
  const source = block.source;
  if (isJsonObject(source)) {
    if (
      source.type === 'base64' &&
      typeof source.media_type === 'string' &&
      typeof source.data === 'string'
    ) {
      return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } };
    }
    if (source.type === 'url' && typeof source.url === 'string') {
      return { type: 'image_url', image_url: { url: source.url } };
    }
  }
  throw new ConversionError(
    `${path}.source: only base64 and url image sources can be converted to OpenAI`,
    path,
  );
}

/**
 * A document block as OpenAI parts: plain-text and content sources become text, a base64 PDF becomes a `file` part;
 * url and file (Files API) sources throw. Title, context and citations settings are dropped.
 */
function documentToParts(block: AnthropicContentBlock, path: string): OpenAIContentPart[] {
  const source = block.source;
  if (isJsonObject(source)) {
    if (source.type === 'text' && typeof source.data === 'string')
      return [{ type: 'text', text: source.data }];
    if (source.type === 'content') {
      if (typeof source.content === 'string') return [{ type: 'text', text: source.content }];
      if (Array.isArray(source.content)) {
        return source.content.flatMap((inner): OpenAIContentPart[] =>
          isJsonObject(inner) && inner.type === 'text' && typeof inner.text === 'string'
            ? [{ type: 'text', text: inner.text }]
            : [],
        );
      }
    }
    if (
      source.type === 'base64' &&
      source.media_type === 'application/pdf' &&
      typeof source.data === 'string'
    ) {
      const filename = typeof block.title === 'string' ? block.title : 'document.pdf';
      return [{ type: 'file', file: { filename, file_data: `data:application/pdf;base64,${source.data}` } }];
    }
  }
  throw new ConversionError(
    `${path}.source: only text, content and base64 PDF document sources can be converted to OpenAI`,
    path,
  );
}

/** An assistant turn: text blocks concatenated into `content`, `tool_use` blocks into `tool_calls`. */
function anthropicAssistantToOpenAI(
  content: AnthropicMessageParam['content'],
  path: string,
): OpenAIMessage | undefined {
  if (typeof content === 'string') return content === '' ? undefined : { role: 'assistant', content };
  const texts: string[] = [];
  const toolCalls: OpenAIToolCall[] = [];
  content.forEach((block, j) => {
    const blockPath = `${path}.content[${j}]`;
    if (isTextBlock(block)) texts.push(block.text);
    else if (isToolUseBlock(block)) {
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: toolInputToArguments(block.input) },
      });
    } else if (block.type === 'thinking' || block.type === 'redacted_thinking') return;
    else {
      throw new ConversionError(
        `${blockPath}: assistant content block of type '${block.type}' cannot be converted to OpenAI`,
        blockPath,
      );
    }
  });
  const text = texts.join('');
  if (text === '' && toolCalls.length === 0) return undefined;
  const message: OpenAIMessage = { role: 'assistant', content: text === '' ? null : text };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return message;
}

function anthropicToolToOpenAI(tool: AnthropicTool, i: number): OpenAITool {
  if (tool.type !== undefined && tool.type !== 'custom') {
    throw new ConversionError(
      `tools[${i}]: server tool '${tool.type}' has no OpenAI equivalent; only client tools can be converted`,
      `tools[${i}]`,
    );
  }
  const fn: OpenAITool['function'] = {
    name: tool.name,
    parameters: tool.input_schema ?? EMPTY_OBJECT_SCHEMA,
  };
  if (tool.description !== undefined) fn.description = tool.description;
  return { type: 'function', function: fn };
}

function anthropicToolChoiceToOpenAI(choice: AnthropicToolChoice): OpenAIToolChoice {
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { type: 'function', function: { name: choice.name } };
    default:
      throw new ConversionError('tool_choice: this tool_choice cannot be converted to OpenAI', 'tool_choice');
  }
}

/** `thinking: {type:'enabled', budget_tokens}` as a `reasoning_effort`; other forms (disabled, adaptive) -> none. */
function thinkingToReasoningEffort(thinking: JsonObject | undefined): string | undefined {
  if (thinking?.type !== 'enabled' || typeof thinking.budget_tokens !== 'number') return undefined;
  if (thinking.budget_tokens < LOW_EFFORT_BUDGET_LIMIT) return 'low';
  if (thinking.budget_tokens < MEDIUM_EFFORT_BUDGET_LIMIT) return 'medium';
  return 'high';
}
