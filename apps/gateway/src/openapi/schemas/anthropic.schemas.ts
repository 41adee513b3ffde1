import { ref, nullable, type SchemaMap } from './schema-ref';

/**
 * JSON Schemas of the Anthropic Messages wire format (see `libs/llm/src/anthropic/anthropic.types.ts`): the main
 * fields only. Objects are open (`additionalProperties: true`): the gateway forwards fields it does not know.
 */
export const ANTHROPIC_SCHEMAS: SchemaMap = {
  AnthropicContentBlock: {
    type: 'object',
    description:
      'A content block: `text`, `image`, `document`, `tool_use`, `tool_result`, `thinking`, `redacted_thinking`, ' +
      'or any other type (server tools...): forwarded as is.',
    required: ['type'],
    additionalProperties: true,
    properties: {
      type: {
        type: 'string',
        examples: ['text', 'image', 'document', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking'],
      },
      text: { type: 'string', description: '`text`.' },
      source: {
        type: 'object',
        description: '`image` / `document`: `{type: base64, media_type, data}` or `{type: url, url}`.',
        additionalProperties: true,
        properties: {
          type: { type: 'string', examples: ['base64', 'url'] },
          media_type: { type: 'string' },
          data: { type: 'string' },
          url: { type: 'string' },
        },
      },
      id: { type: 'string', description: '`tool_use`.' },
      name: { type: 'string', description: '`tool_use`.' },
      input: { description: '`tool_use`: the arguments (a JSON object).' },
      tool_use_id: { type: 'string', description: '`tool_result`.' },
      content: {
        description: '`tool_result`: text or blocks.',
        anyOf: [{ type: 'string' }, { type: 'array', items: ref('AnthropicContentBlock') }],
      },
      is_error: { type: 'boolean', description: '`tool_result`.' },
      thinking: { type: 'string', description: '`thinking`.' },
      signature: { type: 'string', description: '`thinking`.' },
      data: { type: 'string', description: '`redacted_thinking`.' },
      cache_control: { type: 'object', additionalProperties: true },
    },
  },
  AnthropicMessageParam: {
    type: 'object',
    required: ['role', 'content'],
    additionalProperties: true,
    properties: {
      role: { type: 'string', enum: ['user', 'assistant'] },
      content: { anyOf: [{ type: 'string' }, { type: 'array', items: ref('AnthropicContentBlock') }] },
    },
  },
  AnthropicTool: {
    type: 'object',
    description: 'A client tool (`name`, `input_schema`) or a server tool (with a `type`).',
    required: ['name'],
    additionalProperties: true,
    properties: {
      name: { type: 'string' },
      description: { type: 'string' },
      input_schema: { type: 'object', additionalProperties: true, description: 'JSON Schema of the input.' },
      type: { type: 'string', description: 'Server tools: `web_search_20250305`, `bash_20250124`, ...' },
    },
  },
  AnthropicToolChoice: {
    type: 'object',
    required: ['type'],
    additionalProperties: true,
    properties: {
      type: { type: 'string', enum: ['auto', 'any', 'none', 'tool'] },
      name: { type: 'string', description: 'With `type: tool`.' },
      disable_parallel_tool_use: { type: 'boolean' },
    },
  },
  AnthropicSystem: {
    description: 'The system prompt: text, or text blocks.',
    anyOf: [{ type: 'string' }, { type: 'array', items: ref('AnthropicContentBlock') }],
  },
  AnthropicThinking: {
    type: 'object',
    description: 'Extended thinking: `{type: enabled, budget_tokens}` or `{type: disabled}`.',
    required: ['type'],
    additionalProperties: true,
    properties: {
      type: { type: 'string', examples: ['enabled', 'disabled'] },
      budget_tokens: { type: 'integer', minimum: 1 },
    },
  },
  AnthropicMessagesRequest: {
    type: 'object',
    required: ['model', 'messages', 'max_tokens'],
    additionalProperties: true,
    properties: {
      model: {
        type: 'string',
        minLength: 1,
        description: 'Routed by the gateway to a provider (see /v1/models).',
      },
      max_tokens: { type: 'integer', minimum: 1 },
      messages: { type: 'array', items: ref('AnthropicMessageParam'), description: 'At most MAX_MESSAGES.' },
      system: ref('AnthropicSystem'),
      tools: { type: 'array', items: ref('AnthropicTool'), description: 'At most MAX_TOOLS.' },
      tool_choice: ref('AnthropicToolChoice'),
      thinking: ref('AnthropicThinking'),
      stream: { type: 'boolean', description: 'true: the answer is a `text/event-stream` of events.' },
      stop_sequences: { type: 'array', items: { type: 'string' } },
      temperature: { type: 'number' },
      top_p: { type: 'number' },
      top_k: { type: 'integer' },
      metadata: {
        type: 'object',
        additionalProperties: true,
        properties: { user_id: { type: 'string', description: 'Also used to group calls into sessions.' } },
      },
    },
    example: {
      model: 'claude-sonnet-4-5',
      max_tokens: 256,
      system: 'You are terse.',
      messages: [{ role: 'user', content: 'Say hello.' }],
    },
  },
  AnthropicCountTokensRequest: {
    type: 'object',
    required: ['model', 'messages'],
    additionalProperties: true,
    properties: {
      model: { type: 'string', minLength: 1 },
      messages: { type: 'array', items: ref('AnthropicMessageParam') },
      system: ref('AnthropicSystem'),
      tools: { type: 'array', items: ref('AnthropicTool') },
      tool_choice: ref('AnthropicToolChoice'),
      thinking: ref('AnthropicThinking'),
    },
  },
  AnthropicCountTokensResponse: {
    type: 'object',
    required: ['input_tokens'],
    additionalProperties: true,
    properties: { input_tokens: { type: 'integer' } },
  },
  AnthropicUsage: {
    type: 'object',
    additionalProperties: true,
    properties: {
      input_tokens: { type: 'integer' },
      output_tokens: { type: 'integer' },
      cache_creation_input_tokens: nullable({ type: 'integer' }),
      cache_read_input_tokens: nullable({ type: 'integer' }),
    },
  },
  AnthropicMessage: {
    type: 'object',
    required: ['id', 'type', 'role', 'model', 'content', 'stop_reason', 'usage'],
    additionalProperties: true,
    properties: {
      id: { type: 'string' },
      type: { type: 'string', enum: ['message'] },
      role: { type: 'string', enum: ['assistant'] },
      model: { type: 'string' },
      content: { type: 'array', items: ref('AnthropicContentBlock') },
      stop_reason: nullable({
        type: 'string',
        examples: ['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal'],
      }),
      stop_sequence: nullable({ type: 'string' }),
      usage: ref('AnthropicUsage'),
    },
  },
  AnthropicStreamEvent: {
    type: 'object',
    description:
      'The `data:` of one stream event (its `event:` line repeats `type`): `message_start {message}`, ' +
      '`content_block_start {index, content_block}`, `content_block_delta {index, delta}` (delta `text_delta`, ' +
      '`input_json_delta`, `thinking_delta`, `signature_delta`, ...), `content_block_stop {index}`, ' +
      '`message_delta {delta: {stop_reason, stop_sequence}, usage}`, `message_stop`, `ping`, `error {error}`.',
    required: ['type'],
    additionalProperties: true,
    properties: {
      type: {
        type: 'string',
        enum: [
          'message_start',
          'content_block_start',
          'content_block_delta',
          'content_block_stop',
          'message_delta',
          'message_stop',
          'ping',
          'error',
        ],
      },
      message: ref('AnthropicMessage'),
      index: { type: 'integer' },
      content_block: ref('AnthropicContentBlock'),
      delta: { type: 'object', additionalProperties: true },
      usage: ref('AnthropicUsage'),
      error: {
        type: 'object',
        properties: { type: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
  AnthropicError: {
    type: 'object',
    description: 'The Anthropic error shape, used for every error on Anthropic routes.',
    required: ['type', 'error'],
    properties: {
      type: { type: 'string', enum: ['error'] },
      error: {
        type: 'object',
        required: ['type', 'message'],
        properties: {
          type: {
            type: 'string',
            examples: [
              'invalid_request_error',
              'authentication_error',
              'permission_error',
              'not_found_error',
              'request_too_large',
              'rate_limit_error',
              'api_error',
              'overloaded_error',
            ],
          },
          message: { type: 'string' },
        },
      },
    },
    example: { type: 'error', error: { type: 'authentication_error', message: 'Invalid API key' } },
  },
  AnthropicModel: {
    type: 'object',
    required: ['type', 'id', 'display_name', 'created_at'],
    properties: {
      type: { type: 'string', enum: ['model'] },
      id: { type: 'string' },
      display_name: { type: 'string' },
      created_at: { type: 'string', format: 'date-time' },
    },
  },
  AnthropicModelList: {
    type: 'object',
    required: ['data', 'has_more', 'first_id', 'last_id'],
    properties: {
      data: { type: 'array', items: ref('AnthropicModel') },
      has_more: { type: 'boolean' },
      first_id: nullable({ type: 'string' }),
      last_id: nullable({ type: 'string' }),
    },
  },
};
