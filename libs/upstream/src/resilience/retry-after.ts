import type { IncomingHttpHeaders } from 'node:http';

const MS_PER_SECOND = 1000;
/** `retry-after` in delay-seconds (integer, or decimal as some providers send). */
const DELAY_SECONDS = /^\d+(?:\.\d+)?$/;
/** `retry-after` as an IMF-fixdate HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`). */
const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/**
 * Parses a `retry-after` value (delay-seconds or HTTP date) into milliseconds from `now`; `undefined` when absent
 * or unreadable. A date in the past gives 0.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (DELAY_SECONDS.test(trimmed)) return Math.round(Number(trimmed) * MS_PER_SECOND);
  if (!HTTP_DATE.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * How long an upstream asked to wait before the next attempt, in milliseconds: OpenAI's `retry-after-ms` when it
 * is readable, else `retry-after`. `undefined` when the response says nothing.
 */
export function retryAfterMs(headers: IncomingHttpHeaders, now: number = Date.now()): number | undefined {
  const ms = single(headers['retry-after-ms'])?.trim();
  if (ms !== undefined && DELAY_SECONDS.test(ms)) return Math.round(Number(ms));
  return parseRetryAfter(single(headers['retry-after']), now);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
