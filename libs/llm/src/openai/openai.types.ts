import type { JsonObject } from '../json';

/**
 * OpenAI Chat Completions wire types. Open interfaces: unknown fields pass through same-format calls.
 */

export interface OpenAITextPart extends JsonObject {
  type: 'text';
  text: string;
}

export interface OpenAIImagePart extends JsonObject {
  type: 'image_url';
  image_url: { url: string; detail?: string };
}

export interface OpenAIOtherPart extends JsonObject {
  type: string;
}

export type OpenAIContentPart = OpenAITextPart | OpenAIImagePart | OpenAIOtherPart;

export interface OpenAIToolCall extends JsonObject {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface OpenAIMessage extends JsonObject {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool' | (string & {});
  content?: string | OpenAIContentPart[] | null;
  name?: string;
  tool_calls?: OpenAIToolCall[];
  tool_call_id?: string;
}

export interface OpenAITool extends JsonObject {
  type: 'function';
  function: { name: string; description?: string; parameters?: JsonObject; strict?: boolean };
}

export type OpenAIToolChoice =
  'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

export interface OpenAIRequest extends JsonObject {
  model: string;
  messages: OpenAIMessage[];
  tools?: OpenAITool[];
  tool_choice?: OpenAIToolChoice;
  parallel_tool_calls?: boolean;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  stop?: string | string[] | null;
  temperature?: number | null;
  top_p?: number | null;
  n?: number | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  user?: string;
  metadata?: JsonObject;
  reasoning_effort?: string;
}

export type OpenAIFinishReason =
  'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call' | (string & {});

export interface OpenAIUsage extends JsonObject {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; [key: string]: unknown };
}

export interface OpenAIResponseMessage extends JsonObject {
  role: 'assistant';
  content: string | null;
  tool_calls?: OpenAIToolCall[];
  refusal?: string | null;
}

export interface OpenAIChoice extends JsonObject {
  index: number;
  message: OpenAIResponseMessage;
  finish_reason: OpenAIFinishReason | null;
  logprobs?: unknown;
}

export interface OpenAIResponse extends JsonObject {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: OpenAIChoice[];
  usage?: OpenAIUsage;
  system_fingerprint?: string | null;
}

export interface OpenAIToolCallDelta extends JsonObject {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface OpenAIChunkDelta extends JsonObject {
  role?: 'assistant';
  content?: string | null;
  tool_calls?: OpenAIToolCallDelta[];
  refusal?: string | null;
}

export interface OpenAIChunkChoice extends JsonObject {
  index: number;
  delta: OpenAIChunkDelta;
  finish_reason: OpenAIFinishReason | null;
  logprobs?: unknown;
}

export interface OpenAIChunk extends JsonObject {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: OpenAIChunkChoice[];
  usage?: OpenAIUsage | null;
  system_fingerprint?: string | null;
  service_tier?: string | null;
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
