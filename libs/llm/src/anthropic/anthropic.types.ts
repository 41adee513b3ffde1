import type { JsonObject } from '../json';

/**
 * Anthropic Messages wire types. Every interface is open (`[key: string]: unknown`) so that fields
 * added by the provider after this was written pass through untouched.
 */

export type AnthropicRole = 'user' | 'assistant';

export interface AnthropicTextBlock extends JsonObject {
  type: 'text';
  text: string;
}

export interface AnthropicImageBlock extends JsonObject {
  type: 'image';
  source: { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string } | JsonObject;
}

export interface AnthropicToolUseBlock extends JsonObject {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}

export interface AnthropicToolResultBlock extends JsonObject {
  type: 'tool_result';
  tool_use_id: string;
  content?: string | AnthropicContentBlock[];
  is_error?: boolean;
}

export interface AnthropicThinkingBlock extends JsonObject {
  type: 'thinking';
  thinking: string;
  signature?: string;
}

export interface AnthropicRedactedThinkingBlock extends JsonObject {
  type: 'redacted_thinking';
  data: string;
}

/** Any other block type (document, server tool blocks, ...): carried as-is. */
export interface AnthropicOtherBlock extends JsonObject {
  type: string;
}

export type AnthropicContentBlock =
  | AnthropicTextBlock
  | AnthropicImageBlock
  | AnthropicToolUseBlock
  | AnthropicToolResultBlock
  | AnthropicThinkingBlock
  | AnthropicRedactedThinkingBlock
  | AnthropicOtherBlock;

export interface AnthropicMessageParam extends JsonObject {
  role: AnthropicRole;
  content: string | AnthropicContentBlock[];
}

export interface AnthropicTool extends JsonObject {
  name: string;
  description?: string;
  input_schema?: JsonObject;
  /** Server tools (web search, bash, ...) carry a `type`. */
  type?: string;
}

export type AnthropicToolChoice =
  | { type: 'auto'; disable_parallel_tool_use?: boolean }
  | { type: 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'none' }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean };

export interface AnthropicRequest extends JsonObject {
  model: string;
  max_tokens: number;
  messages: AnthropicMessageParam[];
  system?: string | AnthropicTextBlock[];
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  metadata?: JsonObject;
  thinking?: JsonObject;
  stream?: boolean;
}

export type AnthropicStopReason =
  'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal' | (string & {});

export interface AnthropicUsage extends JsonObject {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

export interface AnthropicResponse extends JsonObject {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicContentBlock[];
  stop_reason: AnthropicStopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

/* ---------- streaming events (also the canonical stream model, see canonical/) ---------- */

export interface MessageStartEvent extends JsonObject {
  type: 'message_start';
  message: AnthropicResponse;
}

export interface ContentBlockStartEvent extends JsonObject {
  type: 'content_block_start';
  index: number;
  content_block: AnthropicContentBlock;
}

export type AnthropicDelta =
  | { type: 'text_delta'; text: string }
  | { type: 'input_json_delta'; partial_json: string }
  | { type: 'thinking_delta'; thinking: string }
  | { type: 'signature_delta'; signature: string }
  | { type: 'citations_delta'; citation: JsonObject }
  | { type: string; [key: string]: unknown };

export interface ContentBlockDeltaEvent extends JsonObject {
  type: 'content_block_delta';
  index: number;
  delta: AnthropicDelta;
}

export interface ContentBlockStopEvent extends JsonObject {
  type: 'content_block_stop';
  index: number;
}

export interface MessageDeltaEvent extends JsonObject {
  type: 'message_delta';
  delta: { stop_reason: AnthropicStopReason | null; stop_sequence?: string | null; [key: string]: unknown };
  usage?: AnthropicUsage;
}

export interface MessageStopEvent extends JsonObject {
  type: 'message_stop';
}

export interface PingEvent extends JsonObject {
  type: 'ping';
}

export interface ErrorEvent extends JsonObject {
  type: 'error';
  error: { type: string; message: string };
}

export type AnthropicStreamEvent =
  | MessageStartEvent
  | ContentBlockStartEvent
  | ContentBlockDeltaEvent
  | ContentBlockStopEvent
  | MessageDeltaEvent
  | MessageStopEvent
  | PingEvent
  | ErrorEvent;
