import type { MockErrorSpec, MockFrameSequence, MockProtocol } from '../mock-protocol.types';

/** Prefix of Anthropic message ids. */
export const ANTHROPIC_MESSAGE_ID_PREFIX = 'msg_mock_';
/** Prefix of default Anthropic tool_use ids. */
export const ANTHROPIC_TOOL_ID_PREFIX = 'toolu_mock_';
/** In-band error type when the script names none. */
const DEFAULT_IN_BAND_ERROR_TYPE = 'overloaded_error';
/** Status of Anthropic's `overloaded_error`. */
const STATUS_OVERLOADED = 529;
/** Fallback status for error types without a known status. */
const STATUS_SERVER_ERROR = 500;
/** Lowest server-error status. */
const FIRST_SERVER_STATUS = 500;

/** Anthropic error types by HTTP status. */
const ERROR_TYPE_BY_STATUS: ReadonlyMap<number, string> = new Map([
  [400, 'invalid_request_error'],
  [401, 'authentication_error'],
  [402, 'billing_error'],
  [403, 'permission_error'],
  [404, 'not_found_error'],
  [413, 'request_too_large'],
  [429, 'rate_limit_error'],
  [500, 'api_error'],
  [504, 'timeout_error'],
  [STATUS_OVERLOADED, 'overloaded_error'],
]);

/** HTTP statuses by Anthropic error type. */
const STATUS_BY_ERROR_TYPE: ReadonlyMap<string, number> = new Map(
  [...ERROR_TYPE_BY_STATUS].map(([status, type]) => [type, status]),
);

/** Anthropic-style default messages by error type. */
const MESSAGE_BY_ERROR_TYPE: ReadonlyMap<string, string> = new Map([
  ['authentication_error', 'invalid x-api-key'],
  ['not_found_error', 'Not found'],
  ['rate_limit_error', 'Rate limited (mock)'],
  ['api_error', 'Internal server error (mock)'],
  ['overloaded_error', 'Overloaded'],
]);

const PING_FRAME = 'event: ping\ndata: {"type":"ping"}\n\n';
const MESSAGE_STOP_FRAME = 'event: message_stop\ndata: {"type":"message_stop"}\n\n';

/** Anthropic Messages API (`/v1/messages`): validation, replies, streams and errors. */
export const anthropicMockProtocol: MockProtocol = {
  requestIdHeader: 'request-id',

  validate(body) {
    if (typeof body.model !== 'string') return 'model: Field required';
    if (typeof body.max_tokens !== 'number') return 'max_tokens: Field required';
    if (!Array.isArray(body.messages)) return 'messages: Field required';
    return undefined;
  },

  message(plan, ctx) {
    const content: unknown[] = [];
    if (plan.thinking !== null)
      content.push({ type: 'thinking', thinking: plan.thinking, signature: plan.signature });
    if (plan.text !== null) content.push({ type: 'text', text: plan.text });
    plan.tools.forEach((tool, i) =>
      content.push({
        type: 'tool_use',
        id: tool.id ?? ANTHROPIC_TOOL_ID_PREFIX + i,
        name: tool.name,
        input: tool.input,
      }),
    );
    return JSON.stringify({
      id: ANTHROPIC_MESSAGE_ID_PREFIX + ctx.seq,
      type: 'message',
      role: 'assistant',
      model: ctx.model,
      content,
      stop_reason: plan.stopReason,
      stop_sequence: null,
      usage: usage(ctx.inputTokens, plan.outputTokens),
    });
  },

  frames(plan, ctx) {
    const frames: string[] = [];
    const cuts: number[] = [];
    const message = {
      id: ANTHROPIC_MESSAGE_ID_PREFIX + ctx.seq,
      type: 'message',
      role: 'assistant',
      model: ctx.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: usage(ctx.inputTokens, 1),
    };
    frames.push(event('message_start', JSON.stringify({ type: 'message_start', message })), PING_FRAME);
    cuts.push(frames.length);

    let index = 0;
    const delta = (json: string): void => {
      frames.push(
        event('content_block_delta', `{"type":"content_block_delta","index":${index},"delta":${json}}`),
      );
      cuts.push(frames.length);
    };
    const start = (block: string): void => {
      frames.push(
        event(
          'content_block_start',
          `{"type":"content_block_start","index":${index},"content_block":${block}}`,
        ),
      );
    };
    const stop = (): void => {
      frames.push(event('content_block_stop', `{"type":"content_block_stop","index":${index}}`));
      index++;
    };

    if (plan.thinking !== null) {
      start('{"type":"thinking","thinking":"","signature":""}');
      for (const chunk of plan.thinkingChunks)
        delta(`{"type":"thinking_delta","thinking":${JSON.stringify(chunk)}}`);
      delta(`{"type":"signature_delta","signature":${JSON.stringify(plan.signature)}}`);
      stop();
    }
    if (plan.text !== null) {
      start('{"type":"text","text":""}');
      for (const chunk of plan.textChunks) delta(`{"type":"text_delta","text":${JSON.stringify(chunk)}}`);
      stop();
    }
    plan.tools.forEach((tool, i) => {
      const id = tool.id ?? ANTHROPIC_TOOL_ID_PREFIX + i;
      start(JSON.stringify({ type: 'tool_use', id, name: tool.name, input: {} }));
      for (const fragment of tool.fragments) {
        delta(`{"type":"input_json_delta","partial_json":${JSON.stringify(fragment)}}`);
      }
      stop();
    });

    frames.push(
      event(
        'message_delta',
        `{"type":"message_delta","delta":{"stop_reason":${JSON.stringify(plan.stopReason)},"stop_sequence":null},` +
          `"usage":{"output_tokens":${plan.outputTokens}}}`,
      ),
      MESSAGE_STOP_FRAME,
    );
    return { frames, cuts } satisfies MockFrameSequence;
  },

  errorBody(error: MockErrorSpec) {
    return JSON.stringify(errorPayload(error.type ?? defaultErrorType(error.status), error.message));
  },

  inBandError(type, message) {
    return event('error', JSON.stringify(errorPayload(type ?? DEFAULT_IN_BAND_ERROR_TYPE, message)));
  },

  inBandErrorStatus(type) {
    return STATUS_BY_ERROR_TYPE.get(type ?? DEFAULT_IN_BAND_ERROR_TYPE) ?? STATUS_SERVER_ERROR;
  },

  malformedFrame: 'event: content_block_delta\ndata: {"broken\n\n',
};

function event(type: string, data: string): string {
  return `event: ${type}\ndata: ${data}\n\n`;
}

function usage(inputTokens: number, outputTokens: number): Record<string, number> {
  return {
    input_tokens: inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: outputTokens,
  };
}

function defaultErrorType(status: number): string {
  return (
    ERROR_TYPE_BY_STATUS.get(status) ??
    (status >= FIRST_SERVER_STATUS ? 'api_error' : 'invalid_request_error')
  );
}

function errorPayload(type: string, message: string | undefined): object {
  return {
    type: 'error',
    error: { type, message: message ?? MESSAGE_BY_ERROR_TYPE.get(type) ?? `Mock ${type}` },
  };
}
