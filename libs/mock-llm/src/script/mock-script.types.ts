/** Anthropic stop reasons a script may force; mapped to OpenAI finish reasons on the Chat Completions API. */
export type MockStopReason =
  'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal';

/** One scripted tool call, emitted after the reply text. */
export interface MockToolScript {
  /** Tool (function) name. */
  name: string;
  /** Arguments: an object (serialized with `JSON.stringify`) or a raw string sent verbatim (may be invalid JSON). */
  arguments?: Record<string, unknown> | string;
  /** Call id; defaults to `toolu_mock_<i>` (Anthropic) or `call_mock_<i>` (OpenAI), `i` being the 0-based index. */
  id?: string;
}

/** Token counts that replace the mock's estimates. */
export interface MockUsageScript {
  /** Prompt tokens; default `ceil(request body chars / 4)`. */
  input_tokens?: number;
  /** Completion tokens; default `ceil(generated chars / 4)`, at least 1. */
  output_tokens?: number;
}

/**
 * What the mock LLM should answer, read from the `x-mock-script` header or a `<mock>{…}</mock>` tag in the last
 * user turn. Every field is optional; the empty script gives the default reply.
 */
export interface MockScript {
  /** Exact reply text (exclusive with `words`). */
  text?: string;
  /** Reply made of this many deterministic words separated by single spaces (exclusive with `text`). */
  words?: number;
  /** Words per streamed delta (default 1). */
  wordsPerChunk?: number;
  /** Thinking text: an Anthropic `thinking` block with a deterministic signature (ignored on OpenAI). */
  thinking?: string;
  /** Tool calls emitted after the text; the stop reason becomes `tool_use` / `tool_calls`. */
  tools?: MockToolScript[];
  /** Characters per streamed tool-argument fragment (default 8). */
  argsChunkSize?: number;
  /** Delay before the first body byte (streaming) or before the response headers (non-streaming). */
  ttftMs?: number;
  /** Delay between streamed frames. */
  chunkDelayMs?: number;
  /** Answer with this HTTP error status (400-599) in the API's error shape instead of a reply. */
  status?: number;
  /** Error type for `status` / `errorAfterChunks`; defaults depend on the API and status. */
  errorType?: string;
  /** Error message for `status` / `errorAfterChunks`. */
  errorMessage?: string;
  /** Seconds sent in a `retry-after` header with `status`. */
  retryAfter?: number;
  /** Streaming: destroy the socket after this many content deltas; non-streaming: destroy without a response. */
  resetAfterChunks?: number;
  /** Streaming: write a corrupt frame after this many content deltas, then end; non-streaming: a truncated body. */
  malformedAfterChunks?: number;
  /** Streaming: the protocol's in-band error after this many content deltas, then end; non-streaming: an error status. */
  errorAfterChunks?: number;
  /** Stop reason override (Anthropic vocabulary). */
  stopReason?: MockStopReason;
  /** Usage override. */
  usage?: MockUsageScript;
  /** Names the script so the mock can count the requests carrying it (see `failFirst`). */
  scriptId?: string;
  /**
   * Only the first N requests with this `scriptId` get the script's error or fault (`status`, `retryAfter`,
   * `errorType`, `errorMessage`, `*AfterChunks`); later ones get the normal reply. Tests retries: "fail twice,
   * then succeed". Needs `scriptId`.
   */
  failFirst?: number;
}
