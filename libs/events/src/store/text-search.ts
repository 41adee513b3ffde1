/** The escape character of every `LIKE` pattern the store builds (`... LIKE :p ESCAPE '!'`). */
export const LIKE_ESCAPE = '!';

/** `value` with the `LIKE` wildcards and the escape character escaped. */
export function escapeLike(value: string): string {
  return value.replace(/[!%_]/g, (c) => `${LIKE_ESCAPE}${c}`);
}

/**
 * The pattern a simple text search matches against a lower-cased JSON payload column: the query lower-cased and
 * written as it appears inside a JSON string (quotes, backslashes and control characters escaped), anywhere.
 */
export function containsPattern(query: string): string {
  const asJson = JSON.stringify(query.toLowerCase()).slice(1, -1);
  return `%${escapeLike(asJson)}%`;
}

/**
 * The pattern of a policy-action filter against the `|a.x|b.y|` column: `<policy>.<action>` matches that action of
 * that policy, a bare `<action>` (`blocked`) that action of any policy.
 */
export function policyActionPattern(filter: string): string {
  const clean = filter.replaceAll('|', '_');
  return clean.includes('.') ? `%|${escapeLike(clean)}|%` : `%.${escapeLike(clean)}|%`;
}
