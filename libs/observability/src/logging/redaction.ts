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
  if (!text.includes('sk-') && !text.includes('Bearer')) return text;
  return text.replace(SECRET_PATTERN, REDACTED);
}
