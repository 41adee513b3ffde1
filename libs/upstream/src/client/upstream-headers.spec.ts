import type { IncomingHttpHeaders } from 'node:http';
import type { WireFormat } from '@warden/llm';
import { CREDENTIAL_HEADERS } from '@warden/llm';
import { buildUpstreamHeaders, clientResponseHeaders, type Credential } from './upstream-headers';

const VERSION = '2023-06-01';

function build(
  client: IncomingHttpHeaders,
  clientFormat: WireFormat,
  upstreamFormat: WireFormat,
  credential?: Credential,
): ReturnType<typeof buildUpstreamHeaders> {
  return buildUpstreamHeaders(client, {
    clientFormat,
    upstreamFormat,
    credential,
    anthropicVersion: VERSION,
  });
}

/** What Claude Code sends to `/v1/messages`. */
const claudeCodeHeaders: IncomingHttpHeaders = {
  'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14',
  'anthropic-version': '2023-01-01',
  'anthropic-dangerous-direct-browser-access': 'true',
  'x-stainless-lang': 'js',
  'x-stainless-retry-count': '0',
  'x-claude-code-session-id': 'session-1',
  'user-agent': 'claude-cli/2.1.0',
  'x-app': 'cli',
};

/** Headers no upstream may see, whatever the formats. */
const neverForwarded: IncomingHttpHeaders = {
  connection: 'keep-alive',
  'keep-alive': 'timeout=5',
  'proxy-connection': 'keep-alive',
  'transfer-encoding': 'chunked',
  te: 'trailers',
  trailer: 'x-checksum',
  upgrade: 'h2c',
  expect: '100-continue',
  host: 'gateway.local:8000',
  'content-length': '123',
  'accept-encoding': 'gzip, br',
  authorization: 'Bearer client-proxy-key',
  'proxy-authorization': 'Basic abc',
  'x-api-key': 'client-proxy-key',
  'api-key': 'client-proxy-key',
  'x-warden-api-key': 'warden-key',
  'x-anthropic-api-key': 'k',
  'x-openai-api-key': 'k',
  cookie: 'session=secret',
  forwarded: 'for=10.0.0.1',
  'x-forwarded-for': '10.0.0.1',
  'x-forwarded-host': 'gateway.example',
  'x-forwarded-proto': 'https',
  'x-real-ip': '10.0.0.1',
  traceparent: '00-abc-def-01',
  tracestate: 'a=b',
};

describe('buildUpstreamHeaders', () => {
  it('keeps the client provider headers verbatim on same-format Anthropic calls', () => {
    const out = build(claudeCodeHeaders, 'anthropic', 'anthropic');
    expect(out).toEqual({
      ...claudeCodeHeaders,
      'content-type': 'application/json',
      'accept-encoding': 'identity',
    });
  });

  it('keeps openai-* and x-stainless-* on same-format OpenAI calls', () => {
    const client = { 'openai-organization': 'org-1', 'openai-project': 'p', 'x-stainless-os': 'Linux' };
    expect(build(client, 'openai', 'openai')).toMatchObject(client);
  });

  it.each<[WireFormat, WireFormat]>([
    ['anthropic', 'anthropic'],
    ['openai', 'openai'],
    ['openai', 'anthropic'],
    ['anthropic', 'openai'],
  ])('never forwards hop-by-hop, framing, credential or client network headers (%s -> %s)', (from, to) => {
    const out = build({ ...neverForwarded, 'x-request-tag': 'kept' }, from, to);
    for (const name of Object.keys(neverForwarded)) {
      if (name === 'accept-encoding') continue;
      expect(out).not.toHaveProperty([name]);
    }
    expect(out['x-request-tag']).toBe('kept');
    expect(out['accept-encoding']).toBe('identity');
    expect(out['content-type']).toBe('application/json');
  });

  it('drops the headers the client lists in Connection (hop-by-hop for its connection only)', () => {
    const out = build(
      {
        ...claudeCodeHeaders,
        connection: 'keep-alive, X-Hop,, x-other-hop ',
        'x-hop': 'a',
        'x-other-hop': 'b',
      },
      'anthropic',
      'anthropic',
    );
    expect(out).toEqual({
      ...claudeCodeHeaders,
      'content-type': 'application/json',
      'accept-encoding': 'identity',
    });
  });

  it('replaces the client content-type with JSON', () => {
    expect(build({ 'content-type': 'text/plain' }, 'openai', 'openai')['content-type']).toBe(
      'application/json',
    );
  });

  it("drops the Anthropic client's provider headers when converting to OpenAI", () => {
    const out = build(claudeCodeHeaders, 'anthropic', 'openai');
    expect(
      Object.keys(out).filter((n) => n.startsWith('anthropic-') || n.startsWith('x-stainless-')),
    ).toEqual([]);
    expect(out['x-claude-code-session-id']).toBe('session-1');
    expect(out['user-agent']).toBe('claude-cli/2.1.0');
  });

  it("drops the OpenAI client's provider headers when converting to Anthropic, and sets anthropic-version", () => {
    const client = {
      'openai-organization': 'org-1',
      'x-stainless-lang': 'python',
      'user-agent': 'OpenAI/Python',
    };
    expect(build(client, 'openai', 'anthropic')).toEqual({
      'user-agent': 'OpenAI/Python',
      'content-type': 'application/json',
      'accept-encoding': 'identity',
      'anthropic-version': VERSION,
    });
  });

  it('sets the default anthropic-version only for an Anthropic upstream without one', () => {
    expect(build({}, 'anthropic', 'anthropic')['anthropic-version']).toBe(VERSION);
    expect(build({ 'anthropic-version': '2024-01-01' }, 'anthropic', 'anthropic')['anthropic-version']).toBe(
      '2024-01-01',
    );
    expect(build({}, 'openai', 'openai')).not.toHaveProperty(['anthropic-version']);
    expect(build({}, 'anthropic', 'openai')).not.toHaveProperty(['anthropic-version']);
  });

  it('keeps multi-valued headers as arrays', () => {
    expect(build({ 'x-tag': ['a', 'b'] }, 'openai', 'openai')['x-tag']).toEqual(['a', 'b']);
  });

  describe('credential', () => {
    it('sends an x-api-key credential as x-api-key to Anthropic', () => {
      const out = build({ authorization: 'Bearer proxy' }, 'anthropic', 'anthropic', {
        scheme: 'x-api-key',
        value: 'sk-ant',
      });
      expect(out['x-api-key']).toBe('sk-ant');
      expect(out).not.toHaveProperty(['authorization']);
    });

    it('keeps a bearer (OAuth) credential as Bearer to Anthropic', () => {
      const out = build({ 'x-api-key': 'proxy' }, 'anthropic', 'anthropic', {
        scheme: 'bearer',
        value: 'oauth-token',
      });
      expect(out.authorization).toBe('Bearer oauth-token');
      expect(out).not.toHaveProperty(['x-api-key']);
    });

    it.each<Credential['scheme']>(['bearer', 'x-api-key'])('always sends Bearer to OpenAI (%s)', (scheme) => {
      const out = build({ 'x-api-key': 'proxy' }, 'anthropic', 'openai', { scheme, value: 'sk-openai' });
      expect(out.authorization).toBe('Bearer sk-openai');
      expect(out).not.toHaveProperty(['x-api-key']);
    });

    it("sends no credential at all when there is none (the client's never leaks)", () => {
      const out = build(
        { authorization: 'Bearer proxy', 'x-api-key': 'proxy', 'api-key': 'proxy' },
        'openai',
        'anthropic',
      );
      expect(out).not.toHaveProperty(['authorization']);
      expect(out).not.toHaveProperty(['x-api-key']);
      expect(out).not.toHaveProperty(['api-key']);
    });

    describe.each(CREDENTIAL_HEADERS)("in the provider's own header (%s)", (header) => {
      it.each<[WireFormat, Credential['scheme']]>([
        ['openai', 'bearer'],
        ['openai', 'x-api-key'],
        ['anthropic', 'bearer'],
        ['anthropic', 'x-api-key'],
      ])('to %s, whatever way it came (%s), and in no other', (format, scheme) => {
        const out = buildUpstreamHeaders(
          { authorization: 'Bearer proxy', 'x-api-key': 'proxy', 'api-key': 'proxy' },
          {
            clientFormat: format,
            upstreamFormat: format,
            credential: { scheme, value: 'provider-key' },
            anthropicVersion: VERSION,
            credentialHeader: header,
          },
        );
        const others = CREDENTIAL_HEADERS.filter((h) => h !== header);
        expect(out[header]).toBe(header === 'authorization' ? 'Bearer provider-key' : 'provider-key');
        for (const other of others) expect(out).not.toHaveProperty([other]);
      });
    });
  });
});

describe('clientResponseHeaders', () => {
  const upstream: IncomingHttpHeaders = {
    connection: 'keep-alive',
    'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked',
    te: 'trailers',
    trailer: 'x-checksum',
    upgrade: 'h2c',
    'content-encoding': 'gzip',
    'content-length': '42',
    'set-cookie': ['__cf_bm=abc; path=/'],
    'alt-svc': 'h3=":443"',
    server: 'cloudflare',
    date: 'Mon, 01 Jan 2024 00:00:00 GMT',
    'content-type': 'application/json',
    'request-id': 'req_1',
    'x-request-id': 'req_2',
    'retry-after': '3',
    'anthropic-ratelimit-requests-remaining': '99',
    'x-ratelimit-remaining-tokens': '1000',
  };
  const kept = {
    'request-id': 'req_1',
    'x-request-id': 'req_2',
    'retry-after': '3',
    'anthropic-ratelimit-requests-remaining': '99',
    'x-ratelimit-remaining-tokens': '1000',
  };

  it('keeps the content-type and informative headers of a same-format response', () => {
    expect(clientResponseHeaders(upstream, true)).toEqual({ ...kept, 'content-type': 'application/json' });
  });

  it('drops the content-type of a converted response', () => {
    expect(clientResponseHeaders(upstream, false)).toEqual(kept);
  });

  it('drops the headers its Connection header lists, and proxy-authenticate', () => {
    const out = clientResponseHeaders(
      { ...upstream, connection: 'keep-alive, X-Up-Hop', 'x-up-hop': 'v', 'proxy-authenticate': 'Basic' },
      true,
    );
    expect(out).toEqual({ ...kept, 'content-type': 'application/json' });
  });
});
