import type { SchemaObject } from '@nestjs/swagger';
import { ref, nullable, type SchemaMap } from './schema-ref';

const CALL_STATUS = ['in_progress', 'completed', 'failed', 'aborted'];

/** The fields shared by a call in a list and a call in full (`CallSummary` / `CallRecord` of @warden/events). */
const CALL_SUMMARY_PROPERTIES: Record<string, SchemaObject> = {
  id: { type: 'string' },
  sessionId: { type: 'string' },
  keyId: nullable({ type: 'string', description: 'Which client key (a digest, never the key).' }),
  clientFormat: { type: 'string', enum: ['openai', 'anthropic'] },
  upstreamFormat: nullable({ type: 'string', enum: ['openai', 'anthropic'] }),
  provider: nullable({ type: 'string' }),
  model: { type: 'string' },
  stream: { type: 'boolean' },
  status: { type: 'string', enum: CALL_STATUS },
  httpStatus: nullable({ type: 'integer' }),
  startedAt: { type: 'string', format: 'date-time' },
  completedAt: nullable({ type: 'string', format: 'date-time' }),
  firstTokenMs: nullable({ type: 'number' }),
  durationMs: nullable({ type: 'number' }),
  inputTokens: nullable({ type: 'integer' }),
  outputTokens: nullable({ type: 'integer' }),
  error: nullable({ type: 'string' }),
  policyActions: {
    type: 'array',
    items: { type: 'string' },
    description: 'Policy decisions as `<policy>.<action>`, e.g. `tool-call-judge.blocked`.',
  },
};

/** JSON Schemas of the admin API's answers (policy, history, UI login, health). */
export const ADMIN_SCHEMAS: SchemaMap = {
  ActivePolicyChain: {
    type: 'object',
    required: ['config', 'policies', 'version', 'updatedAt'],
    properties: {
      config: { description: 'The configuration the chain was built from (secrets as `${VAR}` references).' },
      policies: {
        type: 'array',
        items: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
      },
      version: { type: 'integer' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
  },
  PolicyChainReplaced: {
    allOf: [
      ref('ActivePolicyChain'),
      {
        type: 'object',
        required: ['replicated'],
        properties: {
          replicated: {
            type: 'boolean',
            description: 'Whether the new chain was broadcast to the other replicas.',
          },
        },
      },
    ],
  },
  PolicyChainConfig: {
    type: 'object',
    required: ['policies'],
    description: 'The new chain, validated in full before it replaces the active one.',
    additionalProperties: true,
    properties: {
      policies: {
        type: 'array',
        items: {
          type: 'object',
          required: ['type'],
          additionalProperties: true,
          properties: {
            type: { type: 'string', description: 'A registered policy type (see GET /api/policy/types).' },
            name: { type: 'string' },
            options: { type: 'object', additionalProperties: true },
          },
        },
      },
    },
    example: { policies: [{ type: 'pii-redactor' }] },
  },
  PolicyTypeList: {
    type: 'object',
    required: ['types'],
    properties: {
      types: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'description', 'optionsSchema'],
          properties: {
            name: { type: 'string' },
            description: { type: 'string' },
            optionsSchema: { description: 'JSON Schema of the options.' },
          },
        },
      },
    },
  },
  CallSummary: {
    type: 'object',
    required: Object.keys(CALL_SUMMARY_PROPERTIES),
    properties: CALL_SUMMARY_PROPERTIES,
  },
  CallRecord: {
    type: 'object',
    required: [
      ...Object.keys(CALL_SUMMARY_PROPERTIES),
      'originalRequest',
      'finalRequest',
      'originalResponse',
      'finalResponse',
    ],
    properties: {
      ...CALL_SUMMARY_PROPERTIES,
      originalRequest: { description: 'The request as the client sent it.' },
      finalRequest: { description: 'The request as forwarded upstream (after policies and conversion).' },
      originalResponse: { description: "The upstream's answer." },
      finalResponse: { description: 'The answer the client got.' },
    },
  },
  WardenEvent: {
    type: 'object',
    required: ['id', 'callId', 'type', 'at', 'instance', 'data'],
    properties: {
      id: { type: 'string' },
      callId: nullable({ type: 'string' }),
      sessionId: { type: 'string' },
      type: {
        type: 'string',
        examples: ['call.started', 'call.completed', 'call.failed', 'policy.pii.redacted'],
      },
      at: { type: 'string', format: 'date-time' },
      instance: { type: 'string', description: 'The replica that produced it.' },
      data: { type: 'object', additionalProperties: true },
    },
  },
  SessionTurn: {
    type: 'object',
    required: ['callId', 'at', 'model', 'status', 'policyActions', 'user', 'assistant'],
    properties: {
      callId: { type: 'string' },
      at: { type: 'string', format: 'date-time' },
      model: { type: 'string' },
      status: { type: 'string', enum: CALL_STATUS },
      policyActions: { type: 'array', items: { type: 'string' } },
      user: {
        type: 'array',
        items: { type: 'object', additionalProperties: true },
        description: "The user's new messages (tool results included), canonical form.",
      },
      assistant: nullable({ type: 'object', additionalProperties: true }),
    },
  },
  CallDetail: {
    type: 'object',
    required: ['call', 'events', 'diff', 'turn'],
    properties: {
      call: ref('CallRecord'),
      events: { type: 'array', items: ref('WardenEvent') },
      diff: {
        type: 'object',
        required: ['request', 'response'],
        description:
          'Structural diffs: the request as received vs forwarded, the upstream answer vs the client one.',
        properties: {
          request: { type: 'object', additionalProperties: true },
          response: { type: 'object', additionalProperties: true },
        },
      },
      turn: nullable(ref('SessionTurn')),
    },
  },
  CallPage: {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: {
      items: { type: 'array', items: ref('CallSummary') },
      nextCursor: nullable({ type: 'string', description: 'Pass as `cursor` for the next (older) page.' }),
    },
  },
  SessionSummary: {
    type: 'object',
    required: ['id', 'firstAt', 'lastAt', 'callCount', 'models'],
    properties: {
      id: { type: 'string' },
      firstAt: { type: 'string', format: 'date-time' },
      lastAt: { type: 'string', format: 'date-time' },
      callCount: { type: 'integer' },
      models: { type: 'array', items: { type: 'string' } },
    },
  },
  SessionPage: {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: {
      items: { type: 'array', items: ref('SessionSummary') },
      nextCursor: nullable({ type: 'string' }),
    },
  },
  SessionDetail: {
    type: 'object',
    required: ['session', 'turns'],
    properties: { session: ref('SessionSummary'), turns: { type: 'array', items: ref('SessionTurn') } },
  },
  UiSessionState: {
    type: 'object',
    required: ['authenticated', 'via', 'loginRequired'],
    properties: {
      authenticated: { type: 'boolean' },
      via: nullable({ type: 'string', enum: ['key', 'session', 'loopback'] }),
      loginRequired: {
        type: 'boolean',
        description: 'True when ADMIN_API_KEY is set: the UI logs in with it.',
      },
    },
  },
  UiLogin: {
    type: 'object',
    required: ['key'],
    additionalProperties: false,
    properties: { key: { type: 'string', minLength: 1, maxLength: 1024, description: 'ADMIN_API_KEY.' } },
  },
  HealthReport: {
    type: 'object',
    required: ['status', 'checks'],
    properties: {
      status: {
        type: 'string',
        enum: ['ok', 'degraded', 'down'],
        description: '`degraded`: calls are served with an optional part impaired; `down`: cannot serve.',
      },
      checks: {
        type: 'object',
        description:
          'Each check by name (serving, database, bus, events): `{status: up|down|degraded, ...}`.',
        additionalProperties: {
          type: 'object',
          required: ['status'],
          additionalProperties: true,
          properties: { status: { type: 'string' } },
        },
      },
    },
  },
  HealthLive: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['ok'] } },
  },
};
