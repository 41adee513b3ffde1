import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { context, propagation, trace } from '@opentelemetry/api';
import { credentialHeaderValue, type CredentialHeader, type WireFormat } from '@warden/llm';

/** A provider credential and the header style it arrived in (Bearer may be an OAuth token). */
export interface Credential {
  readonly scheme: 'bearer' | 'x-api-key';
  readonly value: string;
}

/** Request headers never forwarded: hop-by-hop, framing, credentials (set explicitly), client network details. */
const DROPPED_REQUEST_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'host',
  'content-length',
  'content-type',
  'accept-encoding',
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-anthropic-api-key',
  'x-openai-api-key',
  'x-warden-api-key',
  'cookie',
  'forwarded',
  'via',
  'x-real-ip',
  'cf-connecting-ip',
  'true-client-ip',
  'traceparent',
  'tracestate',
]);

/** Header families that belong to one provider and are dropped when the call is converted to the other. */
const FORMAT_HEADER_PREFIXES: Record<WireFormat, readonly string[]> = {
  anthropic: ['anthropic-', 'x-stainless-'],
  openai: ['openai-', 'x-stainless-'],
};

/** Response headers never sent back: hop-by-hop and framing (the gateway frames its own response). */
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-encoding',
  'content-length',
  'set-cookie',
  'alt-svc',
  'server',
  'date',
  'proxy-authenticate',
  'proxy-connection',
]);

/**
 * The header names a message's `Connection` header lists (lower case): hop-by-hop for this connection only, never
 * forwarded by a proxy (RFC 9110 §7.6.1).
 */
export function connectionListed(headers: IncomingHttpHeaders): ReadonlySet<string> {
  const value = headers.connection;
  if (value === undefined || value === '') return NO_NAMES;
  const names = new Set<string>();
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== '') names.add(name);
  }
  return names;
}

const NO_NAMES: ReadonlySet<string> = new Set();

/** Options of {@link buildUpstreamHeaders}. */
export interface UpstreamHeaderOptions {
  clientFormat: WireFormat;
  upstreamFormat: WireFormat;
  credential: Credential | undefined;
  anthropicVersion: string;
  /** The provider's credential header (Provider.credentialHeader); unset: the API's own style. */
  credentialHeader?: CredentialHeader | undefined;
}

/**
 * The headers sent upstream: the client's provider headers (`anthropic-beta`, `anthropic-version`, `x-stainless-*`,
 * `openai-*`, session ids...) verbatim for same-format calls, minus hop-by-hop and credential headers; the
 * upstream credential in the provider's header, else in the upstream API's own style; W3C `traceparent`/`tracestate` of the active span when traced.
 */
export function buildUpstreamHeaders(
  client: IncomingHttpHeaders,
  options: UpstreamHeaderOptions,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const converted = options.clientFormat !== options.upstreamFormat;
  const foreign = converted ? FORMAT_HEADER_PREFIXES[options.clientFormat] : [];
  const hopByHop = connectionListed(client);
  for (const name in client) {
    if (DROPPED_REQUEST_HEADERS.has(name) || name.startsWith('x-forwarded-') || hopByHop.has(name)) continue;
    if (foreign.some((p) => name.startsWith(p))) continue;
    const value = client[name];
    if (value !== undefined) out[name] = value;
  }
  out['content-type'] = 'application/json';
  out['accept-encoding'] = 'identity';
  // The client's traceparent/tracestate were dropped; the active upstream span (when tracing records) is the parent.
  if (trace.getActiveSpan()?.isRecording() === true) propagation.inject(context.active(), out);
  if (options.upstreamFormat === 'anthropic' && out['anthropic-version'] === undefined) {
    out['anthropic-version'] = options.anthropicVersion;
  }
  const credential = options.credential;
  if (credential !== undefined) {
    const header = options.credentialHeader ?? defaultCredentialHeader(options.upstreamFormat, credential);
    out[header] = credentialHeaderValue(header, credential.value);
  }
  return out;
}

/** The API's own style: Anthropic takes a key as `x-api-key` and an OAuth token as Bearer; OpenAI, Bearer. */
function defaultCredentialHeader(format: WireFormat, credential: Credential): CredentialHeader {
  return format === 'anthropic' && credential.scheme === 'x-api-key' ? 'x-api-key' : 'authorization';
}

/** The upstream response headers worth returning to the client (request ids, rate-limit info, retry-after...). */
export function clientResponseHeaders(
  upstream: IncomingHttpHeaders,
  sameFormat: boolean,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const hopByHop = connectionListed(upstream);
  for (const name in upstream) {
    if (DROPPED_RESPONSE_HEADERS.has(name) || hopByHop.has(name)) continue;
    if (!sameFormat && name === 'content-type') continue;
    const value = upstream[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
