import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BucketOutcome, BucketRule } from './token-bucket';

/**
 * {@link takeToken} in Lua, atomic on the Redis server and timed by its clock (replicas' clocks may differ):
 * KEYS[1] the bucket, ARGV[1] the interval and ARGV[2] the capacity; microseconds throughout, integers only
 * (epoch microseconds fit a double exactly). Returns allowed (1/0), remaining, reset-after, retry-after.
 */
export const TAKE_TOKEN_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local span = interval * tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local debt = tat + interval - now
if debt > span then
  return {0, 0, tat - now, debt - span}
end
redis.call('SET', KEYS[1], string.format('%d', tat + interval), 'PX', math.ceil(debt / 1000))
return {1, math.floor((span - debt) / interval), debt, 0}
`;

const TAKE_TOKEN_SHA = createHash('sha1').update(TAKE_TOKEN_LUA).digest('hex');

/**
 * Token buckets in Redis, shared by every replica: one EVALSHA round trip per request (the script is loaded
 * once, on the first NOSCRIPT). Bucket keys expire when full, so idle clients cost nothing.
 */
export class RedisBucketStore {
  constructor(private readonly redis: Redis) {}

  /** Takes one token of `key` (interval in microseconds); rejects when Redis fails. */
  async take(key: string, rule: BucketRule): Promise<BucketOutcome> {
    let reply: unknown;
    try {
      reply = await this.redis.evalsha(TAKE_TOKEN_SHA, 1, key, rule.interval, rule.capacity);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      reply = await this.redis.eval(TAKE_TOKEN_LUA, 1, key, rule.interval, rule.capacity);
    }
    return outcomeOf(reply);
  }
}

function outcomeOf(reply: unknown): BucketOutcome {
  if (!Array.isArray(reply) || reply.length !== 4 || !reply.every((v) => typeof v === 'number')) {
    throw new Error('unexpected reply from the rate-limit script');
  }
  const [allowed, remaining, resetAfter, retryAfter] = reply as [number, number, number, number];
  return { allowed: allowed === 1, remaining, resetAfter, retryAfter };
}
