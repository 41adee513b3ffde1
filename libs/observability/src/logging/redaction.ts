/** Header names whose values are credentials. */
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'cookie',
  'set-cookie',
  'x-anthropic-api-key',
  'x-openai-api-key',
]);

/** Substrings that look like provider keys or bearer tokens. */
const SECRET_PATTERN = /\b(sk-[A-Za-z0-9_-]{8,}|sk-ant-[A-Za-z0-9_-]{8,}|Bearer\s+[A-Za-z0-9._~+/=-]{8,})/g;

/** Placeholder written instead of a secret. */
export const REDACTED = '[redacted]';

/** A copy of `headers` with every credential header replaced by {@link REDACTED}. */
export function redactHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = SECRET_HEADERS.has(name.toLowerCase()) && value !== undefined ? REDACTED : value;
  }
  return out;
}

/** `text` with anything that looks like an API key or bearer token replaced by {@link REDACTED}. */
export function redactSecrets(text: string): string {
  // Every secret the pattern matches contains one of these: most strings (prompts, ids) skip the regex entirely.
  if (!containsSkDash(text) && !text.includes('Bearer')) return text;
  return text.replace(SECRET_PATTERN, REDACTED);
}

const LETTER_S = 's'.charCodeAt(0);

/**
 * `text.includes('sk-')`, searched as `k-` and then its `s`: V8's search for `sk-` restarts at nearly every `s` of
 * English text and code, and took 45-120 µs on a 200 KB conversation (an agent's request, redacted on every call);
 * `k-` is rare and takes 6-17 µs.
 */
export function containsSkDash(text: string): boolean {
  for (let at = text.indexOf('k-'); at !== -1; at = text.indexOf('k-', at + 2)) {
    if (at > 0 && text.charCodeAt(at - 1) === LETTER_S) return true;
  }
  return false;
}
