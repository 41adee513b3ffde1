import type { CredentialHeader, WireFormat } from '@warden/llm';

/** An upstream that serves models: where it is, which APIs it speaks, and the gateway's credential for it. */
export interface Provider {
  /** Stable name, also usable as an explicit model prefix (`openai/gpt-4o`). */
  readonly name: string;
  /** Base URL per API it speaks: OpenAI's includes `/v1`, Anthropic's does not (as in the SDKs). */
  readonly baseUrls: Readonly<Partial<Record<WireFormat, string>>>;
  /** The gateway's own credential for it, when it has one. */
  readonly apiKey?: string;
  /**
   * It answers whatever credential it is sent (the built-in mock): a caller the gateway let in on a credential it
   * could not check (AUTH_MODE=both) is refused instead of served by it.
   */
  readonly acceptsAnyCredential?: boolean;
  /**
   * The header its credential goes in, whichever way the caller presented it (Azure OpenAI's deployment API takes
   * keys as `api-key` only). Unset: as the API expects it, Bearer for OpenAI; for Anthropic, `x-api-key` for a key
   * and Bearer for a token that came as one (an OAuth token).
   */
  readonly credentialHeader?: CredentialHeader;
}

/** The formats a provider speaks, in preference order. */
export function providerFormats(provider: Provider): WireFormat[] {
  return (Object.keys(provider.baseUrls) as WireFormat[]).filter((f) => provider.baseUrls[f] !== undefined);
}

/** The upstream format for a client format: the same when the provider speaks it (no conversion), else its first. */
export function upstreamFormatFor(provider: Provider, clientFormat: WireFormat): WireFormat {
  if (provider.baseUrls[clientFormat] !== undefined) return clientFormat;
  const first = providerFormats(provider)[0];
  if (first === undefined) throw new Error(`Provider ${provider.name} has no base URL`);
  return first;
}
