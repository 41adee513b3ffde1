import type { OperationObject, PathsObject, ResponseObject, ResponsesObject } from '@nestjs/swagger';
import { CALL_ID_HEADER } from '@warden/control-plane';
import { CLIENT_SECURITY } from './openapi-security';
import { ref } from './schemas/schema-ref';

/** Tags of the two LLM APIs. */
export const OPENAI_TAG = 'OpenAI API';
export const ANTHROPIC_TAG = 'Anthropic API';

/** Why the gateway answers each error status on an LLM route. */
const ERROR_STATUSES: ReadonlyArray<readonly [status: string, meaning: string]> = [
  [
    '400',
    'Invalid request: not JSON, a required field missing or mistyped, too many messages or tools, or a policy rejected the request.',
  ],
  ['401', 'Missing or invalid client key (or an upstream 401 on a passed-through provider key).'],
  ['404', 'No upstream serves this model.'],
  ['413', 'The body is larger than MAX_REQUEST_BYTES.'],
  ['429', 'Rate limited (by the gateway, with `Retry-After`, or by the provider).'],
  ['500', 'Internal gateway error.'],
  ['502', 'The upstream could not be reached or answered something that is not its protocol.'],
  ['503', 'The gateway is shutting down or the upstream is unavailable (circuit open or overloaded).'],
  ['504', 'The upstream did not answer in time.'],
];

/** Headers of every LLM answer. */
const CALL_HEADERS: ResponseObject['headers'] = {
  [CALL_ID_HEADER]: {
    description: 'The call id (history: `GET /api/calls/{id}`).',
    schema: { type: 'string' },
  },
};

/** The error responses of an LLM route, in `schema`'s shape. */
function errorResponses(schema: string): ResponsesObject {
  const responses: ResponsesObject = {};
  for (const [status, meaning] of ERROR_STATUSES) {
    responses[status] = { description: meaning, content: { 'application/json': { schema: ref(schema) } } };
  }
  return responses;
}

const UPSTREAM_ERRORS =
  "Errors of the upstream provider keep their status and are re-shaped into this API's error format when the " +
  'model is served by the other provider.';

const OPENAI_STREAM =
  'With `stream: true` the answer is Server-Sent Events (`text/event-stream`), one `data:` frame per chunk:\n\n' +
  '1. `data: {chunk}` with `choices[0].delta.role: "assistant"`;\n' +
  '2. `data: {chunk}` frames with `delta.content` text and/or `delta.tool_calls` fragments (arguments as JSON ' +
  'text pieces, by `index`);\n' +
  '3. `data: {chunk}` with `finish_reason` (`stop`, `length`, `tool_calls`, ...);\n' +
  '4. with `stream_options.include_usage`, `data: {chunk}` with empty `choices` and `usage`;\n' +
  '5. `data: [DONE]`.\n\n' +
  'An error after the stream has started is sent in-band as `data: {"error": {message, type, param, code}}` ' +
  'followed by `data: [DONE]`; the HTTP status stays 200.';

const ANTHROPIC_STREAM =
  'With `stream: true` the answer is Server-Sent Events (`text/event-stream`); each frame is `event: <type>` and ' +
  '`data: {event}`:\n\n' +
  '1. `message_start` (`message` with empty `content`, input `usage`);\n' +
  '2. per content block: `content_block_start` (`index`, `content_block`), `content_block_delta` frames (`text_delta`, ' +
  '`input_json_delta`, `thinking_delta`, `signature_delta`, ...), `content_block_stop`;\n' +
  '3. `message_delta` (`delta.stop_reason`, output `usage`);\n' +
  '4. `message_stop`.\n\n' +
  '`ping` events may appear anywhere. An error after the stream has started is sent in-band as `event: error` ' +
  '`data: {"type": "error", "error": {type, message}}` and the stream ends; the HTTP status stays 200.';

const chatCompletions: OperationObject = {
  tags: [OPENAI_TAG],
  operationId: 'createChatCompletion',
  summary: 'Create a chat completion (OpenAI Chat Completions API)',
  description:
    'Proxies an OpenAI Chat Completions call to the upstream that serves `model` (an OpenAI-compatible provider, ' +
    'or Anthropic with conversion both ways), running the policy chain on the request and the response. Served ' +
    `ahead of the Nest router for speed.\n\n${OPENAI_STREAM}\n\n${UPSTREAM_ERRORS}`,
  security: CLIENT_SECURITY,
  requestBody: {
    required: true,
    content: { 'application/json': { schema: ref('OpenAIChatRequest') } },
  },
  responses: {
    '200': {
      description: 'The completion; a stream of chunks when `stream` is true.',
      headers: CALL_HEADERS,
      content: {
        'application/json': { schema: ref('OpenAIChatResponse') },
        'text/event-stream': {
          schema: {
            type: 'string',
            description: `Frames \`data: <OpenAIChatChunk JSON>\`, then \`data: [DONE]\`. ${OPENAI_STREAM}`,
          },
          example:
            'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}\n\n' +
            'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}\n\n' +
            'data: [DONE]\n\n',
        },
      },
    },
    ...errorResponses('OpenAIError'),
  },
};

const anthropicVersion = {
  name: 'anthropic-version',
  in: 'header' as const,
  required: false,
  schema: { type: 'string', example: '2023-06-01' },
  description: 'Forwarded to Anthropic upstreams.',
};
const anthropicBeta = {
  name: 'anthropic-beta',
  in: 'header' as const,
  required: false,
  schema: { type: 'string' },
  description: 'Beta features; forwarded to Anthropic upstreams.',
};
const betaQuery = {
  name: 'beta',
  in: 'query' as const,
  required: false,
  schema: { type: 'boolean' },
  description:
    'Sent by the Anthropic SDK for beta calls (`?beta=true`, e.g. Claude Code); the query string is forwarded.',
};

const messages: OperationObject = {
  tags: [ANTHROPIC_TAG],
  operationId: 'createMessage',
  summary: 'Create a message (Anthropic Messages API)',
  description:
    'Proxies an Anthropic Messages call to the upstream that serves `model` (Anthropic, or an OpenAI-compatible ' +
    `provider with conversion both ways), running the policy chain on the request and the response.\n\n${ANTHROPIC_STREAM}` +
    `\n\n${UPSTREAM_ERRORS}`,
  security: CLIENT_SECURITY,
  parameters: [betaQuery, anthropicVersion, anthropicBeta],
  requestBody: {
    required: true,
    content: { 'application/json': { schema: ref('AnthropicMessagesRequest') } },
  },
  responses: {
    '200': {
      description: 'The message; a stream of events when `stream` is true.',
      headers: CALL_HEADERS,
      content: {
        'application/json': { schema: ref('AnthropicMessage') },
        'text/event-stream': {
          schema: {
            type: 'string',
            description: `Frames \`event: <type>\` + \`data: <AnthropicStreamEvent JSON>\`. ${ANTHROPIC_STREAM}`,
          },
          example:
            'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":9,"output_tokens":1}}}\n\n' +
            'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n' +
            'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}\n\n' +
            'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' +
            'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}}\n\n' +
            'event: message_stop\ndata: {"type":"message_stop"}\n\n',
        },
      },
    },
    ...errorResponses('AnthropicError'),
  },
};

const countTokens: OperationObject = {
  tags: [ANTHROPIC_TAG],
  operationId: 'countMessageTokens',
  summary: 'Count the input tokens of a message (Anthropic)',
  description:
    'Forwards the request to the Anthropic upstream that serves `model` and relays its answer. A model served over ' +
    'the OpenAI API has no token-count endpoint: 400.',
  security: CLIENT_SECURITY,
  parameters: [betaQuery, anthropicVersion, anthropicBeta],
  requestBody: {
    required: true,
    content: { 'application/json': { schema: ref('AnthropicCountTokensRequest') } },
  },
  responses: {
    '200': {
      description: 'The token count.',
      headers: CALL_HEADERS,
      content: { 'application/json': { schema: ref('AnthropicCountTokensResponse') } },
    },
    ...errorResponses('AnthropicError'),
  },
};

/**
 * The LLM routes, which are not Nest controllers (see `LlmRoutes`): described here and added to the document
 * by path. The coverage test checks these paths against the routes `LlmRoutes` serves.
 */
export const LLM_PATHS: PathsObject = {
  '/v1/chat/completions': { post: chatCompletions },
  '/v1/messages': { post: messages },
  '/v1/messages/count_tokens': { post: countTokens },
};
