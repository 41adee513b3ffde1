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
      .describe(
        'OpenAI base URL, including /v1 like the OpenAI SDK base URL; a query string in it ' +
          '(?api-version=...) is sent with every call.',
      ),
    UPSTREAM_ANTHROPIC_BASE_URL: env
      .url('https://api.anthropic.com')
      .describe(
        'Anthropic base URL, without /v1 like the Anthropic SDK base URL; a query string in it is sent ' +
          'with every call.',
      ),
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
    UPSTREAM_MAX_RETRIES: env
      .int(2, 0, 10)
      .describe(
        'Retries of an upstream call that failed before its response started (connect/reset, 429, 502, 503, 529); 0 disables.',
      ),
    UPSTREAM_RETRY_BASE_MS: env
      .int(250, 1)
      .describe('First retry delay (ms); doubled on each retry, with jitter (half to all of it).'),
    UPSTREAM_RETRY_MAX_DELAY_MS: env.int(4000, 1).describe('Longest backoff delay between two retries (ms).'),
    UPSTREAM_RETRY_AFTER_MAX_MS: env
      .int(2000, 0)
      .describe(
        'Longest upstream retry-after the gateway waits for before retrying (ms); a longer one is passed to the client as is.',
      ),
    BREAKER_CONSECUTIVE_FAILURES: env
      .int(5, 0)
      .describe(
        'Consecutive upstream failures (connect, timeout, 5xx, 529) that open a provider circuit; 0 disables the breaker.',
      ),
    BREAKER_FAILURE_RATIO: z.coerce
      .number()
      .gt(0)
      .max(1)
      .default(0.5)
      .describe(
        'Failure ratio over BREAKER_WINDOW_MS above which a provider circuit opens (1 never opens on the ratio).',
      ),
    BREAKER_MIN_CALLS: env
      .int(20, 1)
      .describe('Upstream calls needed within BREAKER_WINDOW_MS before the failure ratio is considered.'),
    BREAKER_WINDOW_MS: env.int(60_000, 1000).describe('Sliding window of the failure ratio (ms).'),
    BREAKER_HALF_OPEN_AFTER_MS: env
      .int(30_000, 1)
      .describe('How long an open circuit fails calls fast before letting one probe call through (ms).'),
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
    resilience: {
      maxRetries: e.UPSTREAM_MAX_RETRIES,
      retryBaseMs: e.UPSTREAM_RETRY_BASE_MS,
      retryMaxDelayMs: e.UPSTREAM_RETRY_MAX_DELAY_MS,
      retryAfterMaxMs: e.UPSTREAM_RETRY_AFTER_MAX_MS,
      breaker: {
        consecutiveFailures: e.BREAKER_CONSECUTIVE_FAILURES,
        failureRatio: e.BREAKER_FAILURE_RATIO,
        minCalls: e.BREAKER_MIN_CALLS,
        windowMs: e.BREAKER_WINDOW_MS,
        halfOpenAfterMs: e.BREAKER_HALF_OPEN_AFTER_MS,
      },
    },
  }),
);

/** The typed upstream configuration. */
export type UpstreamConfig = ReturnType<typeof upstreamConfig.parse>;

/** Timeouts of one upstream call. */
export type UpstreamTimeouts = UpstreamConfig['timeouts'];

/** Retry and circuit-breaker settings of upstream calls. */
export type UpstreamResilienceOptions = UpstreamConfig['resilience'];

/** Circuit-breaker settings (one circuit per provider). */
export type BreakerOptions = UpstreamResilienceOptions['breaker'];
