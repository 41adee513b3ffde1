import { ref, nullable, type SchemaMap } from './schema-ref';

/**
 * JSON Schemas of the OpenAI Chat Completions wire format (see `libs/llm/src/openai/openai.types.ts`): the main
 * fields only. Objects are open (`additionalProperties: true`): the gateway forwards fields it does not know.
 */
export const OPENAI_SCHEMAS: SchemaMap = {
  OpenAIContentPart: {
    type: 'object',
    description: 'A content part: `text`, `image_url`, or any other type (forwarded as is).',
    required: ['type'],
    additionalProperties: true,
    properties: {
      type: { type: 'string', examples: ['text', 'image_url', 'input_audio', 'file'] },
      text: { type: 'string', description: 'For `type: text`.' },
      image_url: {
        type: 'object',
        description: 'For `type: image_url`.',
        required: ['url'],
        additionalProperties: true,
        properties: { url: { type: 'string' }, detail: { type: 'string', enum: ['auto', 'low', 'high'] } },
      },
    },
  },
  OpenAIToolCall: {
    type: 'object',
    required: ['id', 'type', 'function'],
    additionalProperties: true,
    properties: {
      id: { type: 'string' },
      type: { type: 'string', enum: ['function'] },
      function: {
        type: 'object',
        required: ['name', 'arguments'],
        properties: {
          name: { type: 'string' },
          arguments: { type: 'string', description: 'The arguments as a JSON text.' },
        },
      },
    },
  },
  OpenAIMessage: {
    type: 'object',
    required: ['role'],
    additionalProperties: true,
    properties: {
      role: { type: 'string', examples: ['system', 'developer', 'user', 'assistant', 'tool'] },
      content: {
        description:
          'Text, or an array of content parts; null on an assistant message that only calls tools.',
        anyOf: [{ type: 'string' }, { type: 'array', items: ref('OpenAIContentPart') }, { type: 'null' }],
      },
      name: { type: 'string' },
      tool_calls: { type: 'array', items: ref('OpenAIToolCall'), description: 'On assistant messages.' },
      tool_call_id: { type: 'string', description: 'On `tool` messages: the call this answers.' },
    },
  },
  OpenAITool: {
    type: 'object',
    required: ['type', 'function'],
    additionalProperties: true,
    properties: {
      type: { type: 'string', enum: ['function'] },
      function: {
        type: 'object',
        required: ['name'],
        additionalProperties: true,
        properties: {
          name: { type: 'string' },
          description: { type: 'string' },
          parameters: {
            type: 'object',
            additionalProperties: true,
            description: 'JSON Schema of the arguments.',
          },
          strict: { type: 'boolean' },
        },
      },
    },
  },
  OpenAIToolChoice: {
    anyOf: [
      { type: 'string', enum: ['auto', 'none', 'required'] },
      {
        type: 'object',
        required: ['type', 'function'],
        properties: {
          type: { type: 'string', enum: ['function'] },
          function: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
        },
      },
    ],
  },
  OpenAIChatRequest: {
    type: 'object',
    required: ['model', 'messages'],
    additionalProperties: true,
    properties: {
      model: {
        type: 'string',
        minLength: 1,
        description: 'Routed by the gateway to a provider (see /v1/models).',
      },
      messages: {
        type: 'array',
        minItems: 1,
        items: ref('OpenAIMessage'),
        description: 'At most MAX_MESSAGES.',
      },
      tools: { type: 'array', items: ref('OpenAITool'), description: 'At most MAX_TOOLS.' },
      tool_choice: ref('OpenAIToolChoice'),
      parallel_tool_calls: { type: 'boolean' },
      stream: {
        ...nullable({ type: 'boolean' }),
        description: 'true: the answer is a `text/event-stream` of chunks.',
      },
      stream_options: nullable({
        type: 'object',
        additionalProperties: true,
        properties: { include_usage: { type: 'boolean', description: 'A last chunk carries `usage`.' } },
      }),
      max_tokens: nullable({ type: 'integer', minimum: 1 }),
      max_completion_tokens: nullable({ type: 'integer', minimum: 1 }),
      stop: nullable({ anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] }),
      temperature: nullable({ type: 'number' }),
      top_p: nullable({ type: 'number' }),
      n: nullable({ type: 'integer', minimum: 1 }),
      reasoning_effort: { type: 'string', examples: ['low', 'medium', 'high'] },
      response_format: { type: 'object', additionalProperties: true },
      user: { type: 'string' },
      metadata: { type: 'object', additionalProperties: true },
    },
    example: {
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Say hello.' },
      ],
      max_tokens: 64,
    },
  },
  OpenAIUsage: {
    type: 'object',
    required: ['prompt_tokens', 'completion_tokens', 'total_tokens'],
    additionalProperties: true,
    properties: {
      prompt_tokens: { type: 'integer' },
      completion_tokens: { type: 'integer' },
      total_tokens: { type: 'integer' },
      prompt_tokens_details: {
        type: 'object',
        additionalProperties: true,
        properties: { cached_tokens: { type: 'integer' } },
      },
    },
  },
  OpenAIChatResponse: {
    type: 'object',
    required: ['id', 'object', 'created', 'model', 'choices'],
    additionalProperties: true,
    properties: {
      id: { type: 'string' },
      object: { type: 'string', enum: ['chat.completion'] },
      created: { type: 'integer', description: 'Unix seconds.' },
      model: { type: 'string' },
      choices: {
        type: 'array',
        items: {
          type: 'object',
          required: ['index', 'message', 'finish_reason'],
          additionalProperties: true,
          properties: {
            index: { type: 'integer' },
            message: {
              type: 'object',
              required: ['role', 'content'],
              additionalProperties: true,
              properties: {
                role: { type: 'string', enum: ['assistant'] },
                content: nullable({ type: 'string' }),
                tool_calls: { type: 'array', items: ref('OpenAIToolCall') },
                refusal: nullable({ type: 'string' }),
              },
            },
            finish_reason: nullable({
              type: 'string',
              examples: ['stop', 'length', 'tool_calls', 'content_filter'],
            }),
          },
        },
      },
      usage: ref('OpenAIUsage'),
      system_fingerprint: nullable({ type: 'string' }),
    },
  },
  OpenAIChatChunk: {
    type: 'object',
    description: 'One `data:` frame of a streamed completion.',
    required: ['id', 'object', 'created', 'model', 'choices'],
    additionalProperties: true,
    properties: {
      id: { type: 'string' },
      object: { type: 'string', enum: ['chat.completion.chunk'] },
      created: { type: 'integer' },
      model: { type: 'string' },
      choices: {
        type: 'array',
        items: {
          type: 'object',
          required: ['index', 'delta', 'finish_reason'],
          additionalProperties: true,
          properties: {
            index: { type: 'integer' },
            delta: {
              type: 'object',
              additionalProperties: true,
              properties: {
                role: { type: 'string', enum: ['assistant'] },
                content: nullable({ type: 'string' }),
                refusal: nullable({ type: 'string' }),
                tool_calls: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['index'],
                    additionalProperties: true,
                    properties: {
                      index: { type: 'integer' },
                      id: { type: 'string' },
                      type: { type: 'string', enum: ['function'] },
                      function: {
                        type: 'object',
                        properties: {
                          name: { type: 'string' },
                          arguments: { type: 'string', description: 'A fragment of the JSON arguments.' },
                        },
                      },
                    },
                  },
                },
              },
            },
            finish_reason: nullable({ type: 'string' }),
          },
        },
      },
      usage: nullable(ref('OpenAIUsage')),
    },
  },
  OpenAIError: {
    type: 'object',
    description: 'The OpenAI error shape, used for every error on OpenAI routes (and the admin API).',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['message', 'type', 'param', 'code'],
        properties: {
          message: { type: 'string' },
          type: {
            type: 'string',
            examples: ['invalid_request_error', 'permission_error', 'rate_limit_error', 'server_error'],
          },
          param: nullable({ type: 'string' }),
          code: nullable({
            type: 'string',
            examples: [
              'invalid_api_key',
              'model_not_found',
              'request_too_large',
              'rate_limit_exceeded',
              'upstream_unreachable',
              'upstream_timeout',
              'upstream_bad_response',
              'service_unavailable',
            ],
          }),
        },
      },
    },
    example: {
      error: {
        message: 'Invalid API key',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    },
  },
  OpenAIModel: {
    type: 'object',
    required: ['id', 'object', 'created', 'owned_by'],
    properties: {
      id: { type: 'string' },
      object: { type: 'string', enum: ['model'] },
      created: { type: 'integer' },
      owned_by: { type: 'string', description: 'The provider the gateway routes the model to.' },
    },
  },
  OpenAIModelList: {
    type: 'object',
    required: ['object', 'data'],
    properties: {
      object: { type: 'string', enum: ['list'] },
      data: { type: 'array', items: ref('OpenAIModel') },
    },
  },
};
