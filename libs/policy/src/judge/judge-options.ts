import { z } from 'zod';
import { CREDENTIAL_HEADERS, type CredentialHeader } from '@warden/llm';
import type { JudgeClientConfig } from './judge-client';
import { JudgeError } from './judge.error';

/** Default deadline of one judge call. */
export const DEFAULT_JUDGE_TIMEOUT_MS = 30_000;
/** Longest deadline accepted for one judge call. */
export const MAX_JUDGE_TIMEOUT_MS = 10 * 60_000;
/** Largest reply token budget accepted. */
export const MAX_JUDGE_MAX_TOKENS = 64_000;
/** Characters of a judge's explanation kept (events and messages). */
export const MAX_EXPLANATION_CHARS = 1000;

/**
 * Options shared by the judge policies: how to reach the judge model and what to do when it fails. Spread into
 * each policy's (strict) options object.
 */
export const judgeConnectionOptions = {
  model: z
    .string()
    .min(1)
    .describe('Judge model, as the judge endpoint names it (e.g. gpt-4o-mini, claude-haiku-4-5).'),
  baseUrl: z
    .url({ protocol: /^https?$/ })
    .describe(
      'Judge endpoint base URL. openai: including /v1 (https://api.openai.com/v1, calls /chat/completions); ' +
        'anthropic: the origin (https://api.anthropic.com, calls /v1/messages).',
    ),
  format: z
    .enum(['openai', 'anthropic'])
    .default('openai')
    .describe('API of the judge endpoint: openai (Chat Completions) or anthropic (Messages).'),
  apiKey: z
    .string()
    .optional()
    .describe(
      'Judge API key (use ${ENV_VAR} interpolation); sent as Bearer (openai) or x-api-key (anthropic), ' +
        'unless apiKeyHeader names another header.',
    ),
  apiKeyHeader: z
    .enum(CREDENTIAL_HEADERS)
    .optional()
    .describe(
      'Header the judge API key goes in: authorization (Bearer), x-api-key, or api-key (Azure OpenAI). ' +
        "Default: the format's own (authorization for openai, x-api-key for anthropic).",
    ),
  timeoutMs: z
    .number()
    .int()
    .positive()
    .max(MAX_JUDGE_TIMEOUT_MS)
    .default(DEFAULT_JUDGE_TIMEOUT_MS)
    .describe('Deadline of one judge call in ms; a timeout is a judge error (see onError).'),
  onError: z
    .enum(['block', 'allow'])
    .default('block')
    .describe(
      'When the judge fails (HTTP error, timeout, unparsable reply): block (fail closed, default) or allow (fail open).',
    ),
};

/** The judge connection fields of a policy's parsed options. */
export interface JudgeConnection {
  readonly model: string;
  readonly baseUrl: string;
  readonly format: 'openai' | 'anthropic';
  readonly apiKey?: string | undefined;
  readonly apiKeyHeader?: CredentialHeader | undefined;
  readonly timeoutMs: number;
}

/** The client configuration of a policy's judge. */
export function judgeClientConfig(options: JudgeConnection, maxTokens: number): JudgeClientConfig {
  return {
    baseUrl: options.baseUrl,
    format: options.format,
    model: options.model,
    apiKey: options.apiKey,
    apiKeyHeader: options.apiKeyHeader,
    timeoutMs: options.timeoutMs,
    maxTokens,
  };
}

/**
 * Fills `{name}` placeholders of a template in one pass (a value that itself contains `{…}` is not expanded
 * again); unknown placeholders stay as they are.
 */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{([a-z_]+)\}/gi, (whole, key: string) =>
    Object.hasOwn(values, key) ? (values[key] as string) : whole,
  );
}

/** `text` cut to `max` characters (never inside a surrogate pair), with a marker saying how much was cut. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}… [${text.length - end} more characters]`;
}

/** A probability forced into [0, 1]. */
export function clampProbability(value: number): number {
  return Math.min(1, Math.max(0, value));
}

/** The explanation field of a verdict: trimmed and bounded, or `fallback` when absent. */
export function readExplanation(value: unknown, fallback: string): string {
  if (typeof value !== 'string' || value.trim() === '') return fallback;
  return truncateText(value.trim(), MAX_EXPLANATION_CHARS);
}

/** The short reason of a judge failure, for events and messages (a JudgeError's message carries no secret). */
export function judgeFailureReason(error: unknown): string {
  if (error instanceof JudgeError) return error.message;
  return `unexpected error: ${error instanceof Error ? error.message : String(error)}`;
}
