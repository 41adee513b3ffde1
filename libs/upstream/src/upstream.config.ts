import { defineEnvConfig, env } from '@warden/config';
import { z } from 'zod';

/** Upstream providers, credentials, routing file and timeouts. */
export const upstreamConfig = defineEnvConfig(
  'upstream',
  {
    OPENAI_API_KEY: env
      .optional()
      .describe('Key the gateway uses for OpenAI upstream calls (not with AUTH_MODE=passthrough).'),
    ANTHROPIC_API_KEY: env
      .optional()
      .describe('Key the gateway uses for Anthropic upstream calls (not with AUTH_MODE=passthrough).'),
    UPSTREAM_OPENAI_BASE_URL: env
      .url('https://api.openai.com/v1')
      .describe('OpenAI base URL, including /v1 like the OpenAI SDK base URL.'),
    UPSTREAM_ANTHROPIC_BASE_URL: env
      .url('https://api.anthropic.com')
      .describe('Anthropic base URL, without /v1 like the Anthropic SDK base URL.'),
    ROUTES_CONFIG: z
      .string()
      .default('config/routes.yaml')
      .describe(
        'YAML file with extra providers, model routes, per-route timeouts and the advertised model list.',
      ),
    ANTHROPIC_VERSION: z
      .string()
      .default('2023-06-01')
      .describe('anthropic-version sent upstream when the client did not send one (OpenAI clients).'),
    ANTHROPIC_DEFAULT_MAX_TOKENS: env
      .int(4096, 1)
      .describe('max_tokens sent to Anthropic when an OpenAI client gave none (Anthropic requires it).'),
    UPSTREAM_CONNECT_TIMEOUT_MS: env.int(10_000, 1).describe('Timeout to open a connection to an upstream.'),
    FIRST_TOKEN_TIMEOUT_MS: env
      .int(300_000, 1)
      .describe(
        'Timeout from sending a request until the first response byte (headers for non-streaming calls).',
      ),
    STREAM_IDLE_TIMEOUT_MS: env
      .int(300_000, 1)
      .describe('Longest silence allowed between two chunks of an upstream response.'),
    REQUEST_TIMEOUT_MS: env.int(900_000, 1).describe('Longest total duration of one upstream call.'),
  },
  (e) => ({
    openaiApiKey: e.OPENAI_API_KEY,
    anthropicApiKey: e.ANTHROPIC_API_KEY,
    openaiBaseUrl: e.UPSTREAM_OPENAI_BASE_URL,
    anthropicBaseUrl: e.UPSTREAM_ANTHROPIC_BASE_URL,
    routesFile: e.ROUTES_CONFIG,
    anthropicVersion: e.ANTHROPIC_VERSION,
    anthropicDefaultMaxTokens: e.ANTHROPIC_DEFAULT_MAX_TOKENS,
    timeouts: {
      connectMs: e.UPSTREAM_CONNECT_TIMEOUT_MS,
      firstTokenMs: e.FIRST_TOKEN_TIMEOUT_MS,
      idleMs: e.STREAM_IDLE_TIMEOUT_MS,
      totalMs: e.REQUEST_TIMEOUT_MS,
    },
  }),
);

/** The typed upstream configuration. */
export type UpstreamConfig = ReturnType<typeof upstreamConfig.parse>;

/** Timeouts of one upstream call. */
export type UpstreamTimeouts = UpstreamConfig['timeouts'];
