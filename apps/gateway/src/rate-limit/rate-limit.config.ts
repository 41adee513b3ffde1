import { defineEnvConfig, env, InvalidConfigException } from '@warden/config';
import { z } from 'zod';

/** Requests per minute and burst of one client; `rpm` 0 means unlimited. */
export interface RateLimitRule {
  readonly rpm: number;
  /** Bucket capacity: requests a client may send at once before the per-minute pace applies. */
  readonly burst: number;
}

/** The id format of client keys (see ClientAuthService): the first 12 hex characters of the key's SHA-256. */
const KEY_ID = /^[0-9a-f]{12}$/;
const RULE = /^(\d{1,9})(?::(\d{1,9}))?$/;

/** A rule from `rpm` and `burst` (0 or absent: the burst equals the per-minute rate). */
export function ruleOf(rpm: number, burst: number | undefined): RateLimitRule {
  return { rpm, burst: rpm === 0 ? 0 : burst === undefined || burst === 0 ? rpm : burst };
}

/**
 * Parses `RATE_LIMIT_OVERRIDES` (`keyId=rpm[:burst],...`). Problems name the entry by position and never echo it:
 * someone may have pasted a key instead of its id.
 */
export function parseOverrides(value: string | undefined): {
  overrides: ReadonlyMap<string, RateLimitRule>;
  problems: string[];
} {
  const overrides = new Map<string, RateLimitRule>();
  const problems: string[] = [];
  const entries = (value ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  entries.forEach((entry, index) => {
    const at = `RATE_LIMIT_OVERRIDES entry ${index + 1}`;
    const eq = entry.indexOf('=');
    const keyId = eq < 0 ? '' : entry.slice(0, eq).trim().toLowerCase();
    const rule = RULE.exec(eq < 0 ? '' : entry.slice(eq + 1).trim());
    if (!KEY_ID.test(keyId)) {
      problems.push(
        `${at}: expected keyId=rpm[:burst] where keyId is the 12-hex-character id of a client key (the first 12 hex characters of its SHA-256), never the key itself`,
      );
    } else if (rule === null) {
      problems.push(`${at}: the limit must be rpm or rpm:burst (whole numbers)`);
    } else if (overrides.has(keyId)) {
      problems.push(`${at}: key id ${keyId} is listed twice`);
    } else {
      overrides.set(keyId, ruleOf(Number(rule[1]), rule[2] === undefined ? undefined : Number(rule[2])));
    }
  });
  return { overrides, problems };
}

/** Per-client request rate limits (token bucket), shared across replicas through Redis when `REDIS_URL` is set. */
export const rateLimitConfig = defineEnvConfig(
  'rateLimit',
  {
    RATE_LIMIT_RPM: env
      .int(0, 0, 1_000_000)
      .describe(
        'Requests per minute per client (per client key; per IP address without one). 0 disables rate limiting.',
      ),
    RATE_LIMIT_BURST: env
      .int(0, 0, 1_000_000)
      .describe(
        'Requests a client may send at once before the per-minute pace applies (token bucket capacity). 0: same as RATE_LIMIT_RPM.',
      ),
    RATE_LIMIT_OVERRIDES: env
      .optional()
      .describe(
        'Per-key limits, `keyId=rpm[:burst],...`; keyId is the id of a PROXY_API_KEYS entry (first 12 hex characters of its SHA-256), never the key. rpm 0 exempts that key.',
      ),
    RATE_LIMIT_REDIS_PREFIX: z
      .string()
      .min(1)
      .default('warden:ratelimit:')
      .describe('Prefix of the rate-limit bucket keys in Redis (REDIS_URL).'),
  },
  (e) => {
    const { overrides, problems } = parseOverrides(e.RATE_LIMIT_OVERRIDES);
    if (problems.length > 0) throw new InvalidConfigException('rateLimit', problems);
    const defaultRule = ruleOf(e.RATE_LIMIT_RPM, e.RATE_LIMIT_BURST);
    return {
      defaultRule,
      overrides,
      enabled: defaultRule.rpm > 0 || [...overrides.values()].some((rule) => rule.rpm > 0),
      redisPrefix: e.RATE_LIMIT_REDIS_PREFIX,
    };
  },
);

/** The typed rate-limit configuration. */
export type RateLimitConfig = ReturnType<typeof rateLimitConfig.parse>;
