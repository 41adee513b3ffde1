import type { MockStopReason } from '../script/mock-script.types';
import type { MockErrorSpec, MockFrameSequence, MockProtocol } from '../mock-protocol.types';

/** Prefix of chat completion ids. */
export const OPENAI_COMPLETION_ID_PREFIX = 'chatcmpl-mock-';
/** Prefix of default tool call ids. */
export const OPENAI_TOOL_ID_PREFIX = 'call_mock_';
/** In-band error type when the script names none. */
const DEFAULT_IN_BAND_ERROR_TYPE = 'server_error';
/** Status standing for an in-band error on a non-streaming request. */
const STATUS_SERVER_ERROR = 500;
/** Lowest server-error status. */
const FIRST_SERVER_STATUS = 500;
/** Status of an invalid API key. */
const STATUS_UNAUTHORIZED = 401;
/** Status of a rate limit. */
const STATUS_RATE_LIMITED = 429;

/** OpenAI finish reasons by Anthropic stop reason. */
const FINISH_REASON: Readonly<Record<MockStopReason, string>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

const DONE_FRAME = 'data: [DONE]\n\n';
/** The `service_tier` the API reports on every response and chunk. */
const SERVICE_TIER = 'default';

/** OpenAI Chat Completions API (`/v1/chat/completions`): validation, replies, streams and errors. Thinking is dropped. */
export const openAiMockProtocol: MockProtocol = {
  requestIdHeader: 'x-request-id',

  validate(body) {
    if (typeof body.model !== 'string') return "Missing required parameter: 'model'.";
    if (!Array.isArray(body.messages)) return "Missing required parameter: 'messages'.";
    return undefined;
  },

  message(plan, ctx) {
    const message: Record<string, unknown> = { role: 'assistant', content: plan.text, refusal: null };
    if (plan.tools.length > 0) {
      message.tool_calls = plan.tools.map((tool, i) => ({
        id: tool.id ?? OPENAI_TOOL_ID_PREFIX + i,
        type: 'function',
        function: { name: tool.name, arguments: tool.arguments },
      }));
    }
    return JSON.stringify({
      id: OPENAI_COMPLETION_ID_PREFIX + ctx.seq,
      object: 'chat.completion',
      created: ctx.created,
      model: ctx.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: FINISH_REASON[plan.stopReason] }],
      usage: usage(ctx.inputTokens, plan.outputTokens),
      service_tier: SERVICE_TIER,
    });
  },

  frames(plan, ctx) {
    const head =
      `data: {"id":"${OPENAI_COMPLETION_ID_PREFIX}${ctx.seq}","object":"chat.completion.chunk",` +
      `"created":${ctx.created},"model":${JSON.stringify(ctx.model)},"choices":[{"index":0,"delta":`;
    const end = `${ctx.includeUsage ? ',"usage":null' : ''},"service_tier":"${SERVICE_TIER}"}\n\n`;
    const tail = `,"logprobs":null,"finish_reason":null}]${end}`;
    const frames: string[] = [head + '{"role":"assistant","content":"","refusal":null}' + tail];
    const cuts: number[] = [frames.length];
    const delta = (json: string): void => {
      frames.push(head + json + tail);
      cuts.push(frames.length);
    };

    for (const chunk of plan.textChunks) delta(`{"content":${JSON.stringify(chunk)}}`);
    plan.tools.forEach((tool, i) => {
      const id = tool.id ?? OPENAI_TOOL_ID_PREFIX + i;
      frames.push(
        head +
          `{"tool_calls":[{"index":${i},"id":${JSON.stringify(id)},"type":"function",` +
          `"function":{"name":${JSON.stringify(tool.name)},"arguments":""}}]}` +
          tail,
      );
      for (const fragment of tool.fragments) {
        delta(`{"tool_calls":[{"index":${i},"function":{"arguments":${JSON.stringify(fragment)}}}]}`);
      }
    });

    const finish = JSON.stringify(FINISH_REASON[plan.stopReason]);
    frames.push(`${head}{},"logprobs":null,"finish_reason":${finish}}]${end}`);
    if (ctx.includeUsage) {
      frames.push(
        `data: ${JSON.stringify({
          id: OPENAI_COMPLETION_ID_PREFIX + ctx.seq,
          object: 'chat.completion.chunk',
          created: ctx.created,
          model: ctx.model,
          choices: [],
          usage: usage(ctx.inputTokens, plan.outputTokens),
          service_tier: SERVICE_TIER,
        })}\n\n`,
      );
    }
    frames.push(DONE_FRAME);
    return { frames, cuts } satisfies MockFrameSequence;
  },

  errorBody(error: MockErrorSpec) {
    const fallback = defaults(error.status);
    return JSON.stringify(
      errorPayload(error.type ?? fallback.type, error.message ?? fallback.message, fallback.code),
    );
  },

  inBandError(type, message) {
    const fallback = defaults(STATUS_SERVER_ERROR);
    return `data: ${JSON.stringify(errorPayload(type ?? DEFAULT_IN_BAND_ERROR_TYPE, message ?? fallback.message, null))}\n\n`;
  },

  inBandErrorStatus() {
    return STATUS_SERVER_ERROR;
  },

  malformedFrame: 'data: {"broken\n\n',
};

/** Usage as the Chat Completions API reports it, with its token details (the mock caches and reasons nothing). */
function usage(promptTokens: number, completionTokens: number): Record<string, unknown> {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** OpenAI-style error type, code and message of a status. */
interface ErrorDefaults {
  type: string;
  code: string | null;
  message: string;
}

function defaults(status: number): ErrorDefaults {
  if (status === STATUS_UNAUTHORIZED) {
    return { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' };
  }
  if (status === STATUS_RATE_LIMITED) {
    return { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached (mock).' };
  }
  if (status >= FIRST_SERVER_STATUS) {
    return {
      type: 'server_error',
      code: null,
      message: 'The server had an error processing your request (mock).',
    };
  }
  return { type: 'invalid_request_error', code: null, message: `Invalid request (mock, HTTP ${status}).` };
}

function errorPayload(type: string, message: string, code: string | null): object {
  return { error: { message, type, param: null, code } };
}
