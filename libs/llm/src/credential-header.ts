/**
 * The request headers a provider takes its key in: `authorization` as a Bearer token, or the bare key in
 * `x-api-key` (Anthropic's) or `api-key` (Azure OpenAI's key header).
 */
export const CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'api-key'] as const;
export type CredentialHeader = (typeof CREDENTIAL_HEADERS)[number];

/** What `header` carries for `key`: `Bearer <key>` in `authorization`, the key itself in the others. */
export function credentialHeaderValue(header: CredentialHeader, key: string): string {
  return header === 'authorization' ? `Bearer ${key}` : key;
}
