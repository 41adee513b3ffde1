import type { MockScript, MockStopReason } from '../script/mock-script.types';
import { chunkWords, estimateTokens, mockSignature, mockWords, splitFragments } from './mock-text.util';

/** Reply text of requests without a script. */
export const DEFAULT_REPLY_TEXT = 'Hello from the Warden mock LLM.';
/** Default words per streamed delta. */
export const DEFAULT_WORDS_PER_CHUNK = 1;
/** Default characters per streamed tool-argument fragment. */
export const DEFAULT_ARGS_CHUNK_SIZE = 8;

/** One tool call of a reply, arguments already serialized and split. */
export interface MockToolCallPlan {
  /** Id from the script; the renderers default it per API. */
  readonly id: string | undefined;
  readonly name: string;
  /** Arguments as a JSON string (or the raw scripted string). */
  readonly arguments: string;
  /** `arguments` split into streamed fragments. */
  readonly fragments: readonly string[];
  /** Arguments as a value, for non-streaming Anthropic `tool_use.input` (the raw string if it is not JSON). */
  readonly input: unknown;
}

/** A protocol-neutral reply computed once per request from its script; the renderers turn it into bytes. */
export interface MockReplyPlan {
  /** Reply text, or `null` for no text block (tools only). */
  readonly text: string | null;
  readonly textChunks: readonly string[];
  /** Thinking text (Anthropic only), or `null`. */
  readonly thinking: string | null;
  readonly thinkingChunks: readonly string[];
  readonly signature: string;
  readonly tools: readonly MockToolCallPlan[];
  readonly stopReason: MockStopReason;
  /** Scripted input tokens, or `undefined` to estimate from the request body. */
  readonly inputTokens: number | undefined;
  readonly outputTokens: number;
}

/** Builds the reply of a script (pure and deterministic). */
export function buildMockReply(script: MockScript): MockReplyPlan {
  const wordsPerChunk = script.wordsPerChunk ?? DEFAULT_WORDS_PER_CHUNK;
  const argsChunkSize = script.argsChunkSize ?? DEFAULT_ARGS_CHUNK_SIZE;
  const hasTools = script.tools !== undefined && script.tools.length > 0;

  let text: string | null = null;
  if (script.text !== undefined) text = script.text;
  else if (script.words !== undefined) text = mockWords(script.words);
  else if (!hasTools) text = DEFAULT_REPLY_TEXT;

  const thinking = script.thinking ?? null;
  const tools = (script.tools ?? []).map((tool): MockToolCallPlan => {
    const args = tool.arguments ?? {};
    const serialized = typeof args === 'string' ? args : JSON.stringify(args);
    return {
      id: tool.id,
      name: tool.name,
      arguments: serialized,
      fragments: splitFragments(serialized, argsChunkSize),
      input: typeof args === 'string' ? parseOrRaw(args) : args,
    };
  });

  let generatedChars = (text?.length ?? 0) + (thinking?.length ?? 0);
  for (const tool of tools) generatedChars += tool.arguments.length;

  return {
    text,
    textChunks: text === null ? [] : chunkWords(text, wordsPerChunk),
    thinking,
    thinkingChunks: thinking === null ? [] : chunkWords(thinking, wordsPerChunk),
    signature: thinking === null ? '' : mockSignature(thinking),
    tools,
    stopReason: script.stopReason ?? (hasTools ? 'tool_use' : 'end_turn'),
    inputTokens: script.usage?.input_tokens,
    outputTokens: script.usage?.output_tokens ?? Math.max(1, estimateTokens(generatedChars)),
  };
}

function parseOrRaw(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}
