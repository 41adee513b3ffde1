import type {
  AnthropicContentBlock,
  AnthropicResponse,
  AnthropicToolUseBlock,
} from '../anthropic/anthropic.types';
import type {
  OpenAIResponse,
  OpenAIResponseMessage,
  OpenAIToolCall,
  OpenAIUsage,
} from '../openai/openai.types';
import { parseToolArguments, RAW_ARGUMENTS_KEY, toolInputToArguments } from './request-conversion';
import {
  anthropicStopToOpenAI,
  anthropicUsageToOpenAI,
  openAIFinishToAnthropic,
  openAIUsageToAnthropic,
} from './stop-reason';

/** Milliseconds per second, for OpenAI's `created` (a Unix time in seconds). */
const MS_PER_SECOND = 1000;

/** Usage reported when an OpenAI response carries none. */
const ZERO_OPENAI_USAGE: OpenAIUsage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

function isTextBlock(
  block: AnthropicContentBlock,
): block is AnthropicContentBlock & { type: 'text'; text: string } {
  return block.type === 'text' && typeof block.text === 'string';
}

function isToolUseBlock(block: AnthropicContentBlock): block is AnthropicToolUseBlock {
  return block.type === 'tool_use' && typeof block.id === 'string' && typeof block.name === 'string';
}

/**
 * Converts an Anthropic Messages response into an OpenAI chat completion with one choice: text blocks
 * concatenated into `content` (`null` if none), `tool_use` blocks as `tool_calls`, stop reason and usage mapped.
 * The Anthropic id is kept; `created` is now. Thinking and server-tool blocks are dropped.
 */
export function anthropicResponseToOpenAI(res: AnthropicResponse): OpenAIResponse {
  const texts: string[] = [];
  const toolCalls: OpenAIToolCall[] = [];
  for (const block of res.content) {
    if (isTextBlock(block)) texts.push(block.text);
    else if (isToolUseBlock(block)) {
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: toolInputToArguments(block.input) },
      });
    }
  }
  const message: OpenAIResponseMessage = {
    role: 'assistant',
    content: texts.length > 0 ? texts.join('') : null,
    refusal: null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    id: chatCompletionIdOf(res.id),
    object: 'chat.completion',
    created: Math.floor(Date.now() / MS_PER_SECOND),
    model: res.model,
    choices: [{ index: 0, message, finish_reason: anthropicStopToOpenAI(res.stop_reason), logprobs: null }],
    usage: anthropicUsageToOpenAI(res.usage),
  };
}

/**
 * Converts an OpenAI chat completion into an Anthropic Messages response from its first choice: a text block for
 * non-empty `content`, another for a `refusal`, then one `tool_use` block per tool call; finish reason and usage
 * mapped; `stop_sequence` is always `null`; the OpenAI id is kept. Never throws on the upstream's answer:
 * arguments that are not a JSON object become `{ [RAW_ARGUMENTS_KEY]: "<the raw string>" }`.
 */
export function openAIResponseToAnthropic(res: OpenAIResponse): AnthropicResponse {
  const choice = res.choices[0];
  const content: AnthropicContentBlock[] = [];
  const message = choice?.message;
  if (typeof message?.content === 'string' && message.content !== '') {
    content.push({ type: 'text', text: message.content });
  }
  if (typeof message?.refusal === 'string' && message.refusal !== '') {
    content.push({ type: 'text', text: message.refusal });
  }
  for (const call of message?.tool_calls ?? []) {
    const args = typeof call.function?.arguments === 'string' ? call.function.arguments : '';
    content.push({
      type: 'tool_use',
      id: call.id,
      name: call.function?.name ?? '',
      input: parseToolArguments(args) ?? { [RAW_ARGUMENTS_KEY]: args },
    });
  }
  return {
    id: res.id,
    type: 'message',
    role: 'assistant',
    model: res.model,
    content,
    stop_reason: openAIFinishToAnthropic(choice?.finish_reason ?? null),
    stop_sequence: null,
    usage: openAIUsageToAnthropic(res.usage ?? ZERO_OPENAI_USAGE),
  };
}

/** Prefix OpenAI gives every chat completion id. */
const CHAT_COMPLETION_ID_PREFIX = 'chatcmpl-';

/**
 * The chat completion id of a message: its id, prefixed with `chatcmpl-` when it lacks it (streamed or not, an
 * OpenAI client sees the same id for a message of an Anthropic model).
 */
export function chatCompletionIdOf(messageId: string): string {
  return messageId.startsWith(CHAT_COMPLETION_ID_PREFIX) ? messageId : CHAT_COMPLETION_ID_PREFIX + messageId;
}
