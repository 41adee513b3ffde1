import type { AnthropicStopReason, AnthropicUsage } from '../anthropic/anthropic.types';
import type { OpenAIFinishReason, OpenAIUsage } from '../openai/openai.types';

/** Anthropic stop reason -> OpenAI finish reason; anything unknown reads as a normal stop. */
const ANTHROPIC_TO_OPENAI_STOP: Readonly<Record<string, OpenAIFinishReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

/** OpenAI finish reason -> Anthropic stop reason; anything unknown reads as `end_turn`. */
const OPENAI_TO_ANTHROPIC_STOP: Readonly<Record<string, AnthropicStopReason>> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

/** Finish reason used for an Anthropic stop reason this code does not know. */
const DEFAULT_OPENAI_FINISH: OpenAIFinishReason = 'stop';
/** Stop reason used for an OpenAI finish reason this code does not know. */
const DEFAULT_ANTHROPIC_STOP: AnthropicStopReason = 'end_turn';

/**
 * Maps an Anthropic `stop_reason` to an OpenAI `finish_reason` (`end_turn`/`stop_sequence`/`pause_turn` -> `stop`,
 * `max_tokens` -> `length`, `tool_use` -> `tool_calls`, `refusal` -> `content_filter`, unknown -> `stop`).
 * `null` (not finished yet, as in `message_start`) stays `null`.
 */
export function anthropicStopToOpenAI(reason: AnthropicStopReason | null): OpenAIFinishReason | null {
  if (reason === null) return null;
  return ANTHROPIC_TO_OPENAI_STOP[reason] ?? DEFAULT_OPENAI_FINISH;
}

/**
 * Maps an OpenAI `finish_reason` to an Anthropic `stop_reason` (`stop` -> `end_turn`, `length` -> `max_tokens`,
 * `tool_calls`/`function_call` -> `tool_use`, `content_filter` -> `refusal`, unknown -> `end_turn`).
 * `null` stays `null`. OpenAI does not say whether a stop sequence matched, so `stop_sequence` is never produced.
 */
export function openAIFinishToAnthropic(reason: OpenAIFinishReason | null): AnthropicStopReason | null {
  if (reason === null) return null;
  return OPENAI_TO_ANTHROPIC_STOP[reason] ?? DEFAULT_ANTHROPIC_STOP;
}

/**
 * Converts Anthropic usage to OpenAI usage. OpenAI counts every prompt token, cached or not, so
 * `prompt_tokens = input + cache_read + cache_creation`; `prompt_tokens_details.cached_tokens = cache_read`.
 * Missing counts read as 0.
 */
export function anthropicUsageToOpenAI(u: AnthropicUsage): OpenAIUsage {
  const cacheRead = u.cache_read_input_tokens ?? 0;
  const promptTokens = (u.input_tokens ?? 0) + cacheRead + (u.cache_creation_input_tokens ?? 0);
  const completionTokens = u.output_tokens ?? 0;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: cacheRead },
  };
}

/**
 * Converts OpenAI usage to Anthropic usage: `input_tokens = prompt - cached` (never negative),
 * `cache_read_input_tokens = cached`, `cache_creation_input_tokens = 0` (OpenAI does not report cache writes).
 */
export function openAIUsageToAnthropic(u: OpenAIUsage): AnthropicUsage {
  const cached = tokenCount(u.prompt_tokens_details?.cached_tokens);
  return {
    input_tokens: Math.max(0, tokenCount(u.prompt_tokens) - cached),
    output_tokens: tokenCount(u.completion_tokens),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
  };
}

/** A count as an upstream sent it, or 0 when it sent none (or not a count): Anthropic's usage fields are numbers. */
function tokenCount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}
