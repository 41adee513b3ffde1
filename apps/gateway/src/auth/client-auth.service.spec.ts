import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { GatewayErrorCode, GatewayException } from '@warden/control-plane';
import { gatewayConfig, type AuthMode } from '../config/gateway.config';
import { ClientAuthService, isLoopback, PROXY_KEY_HEADER } from './client-auth.service';

const KEY_A = 'sk-warden-alpha-0123456789';
const KEY_B = 'sk-warden-bravo-9876543210';

function service(env: { PROXY_API_KEYS?: string; AUTH_MODE?: AuthMode }): ClientAuthService {
  return new ClientAuthService(gatewayConfig.parse({ ...env }));
}

function request(headers: IncomingHttpHeaders, remoteAddress = '10.1.2.3'): IncomingMessage {
  return { headers, socket: { remoteAddress } } as unknown as IncomingMessage;
}

const LOCAL = '127.0.0.1';

/** The error `authenticate` throws (fails the test if it returns). */
function rejection(auth: ClientAuthService, req: IncomingMessage): GatewayException {
  try {
    auth.authenticate(req);
  } catch (error) {
    if (error instanceof GatewayException) return error;
    throw error;
  }
  throw new Error('expected authenticate to throw');
}

describe('isLoopback', () => {
  it.each(['127.0.0.1', '127.0.0.5', '127.255.255.254', '::1', '::ffff:127.0.0.1', '::ffff:127.1.2.3'])(
    'accepts %s',
    (address) => {
      expect(isLoopback(request({}, address))).toBe(true);
    },
  );

  it.each(['10.0.0.1', '192.168.1.127', '::ffff:10.0.0.1', '::2', '1127.0.0.1', 'fe80::1', ''])(
    'refuses %j',
    (address) => {
      expect(isLoopback(request({}, address))).toBe(false);
    },
  );

  it('refuses a socket without an address (already closed)', () => {
    expect(isLoopback({ headers: {}, socket: {} } as unknown as IncomingMessage)).toBe(false);
  });
});

describe('ClientAuthService', () => {
  describe('without PROXY_API_KEYS', () => {
    it.each<AuthMode>(['proxy-key', 'passthrough', 'both'])(
      'refuses non-loopback clients with 403 in %s mode, even with a credential',
      (mode) => {
        const error = rejection(service({ AUTH_MODE: mode }), request({ authorization: `Bearer ${KEY_A}` }));
        expect(error.code).toBe(GatewayErrorCode.Permission);
      },
    );

    it.each(['127.0.0.5', '::1', '::ffff:127.0.0.1'])(
      'serves a loopback client (%s) with the gateway credential in proxy-key mode',
      (address) => {
        expect(service({}).authenticate(request({}, address))).toEqual({
          keyId: undefined,
          credential: undefined,
        });
      },
    );

    it('passes a loopback client credential through in passthrough mode, and requires one', () => {
      const auth = service({ AUTH_MODE: 'passthrough' });
      expect(auth.authenticate(request({ 'x-api-key': 'sk-ant-client' }, LOCAL))).toEqual({
        keyId: undefined,
        credential: { scheme: 'x-api-key', value: 'sk-ant-client' },
      });
      expect(rejection(auth, request({}, LOCAL)).code).toBe(GatewayErrorCode.Authentication);
    });

    it('serves a loopback client without a credential with the gateway credential in both mode', () => {
      expect(service({ AUTH_MODE: 'both' }).authenticate(request({}, LOCAL))).toEqual({
        keyId: undefined,
        credential: undefined,
      });
    });

    it('passes a loopback client credential through in both mode', () => {
      expect(
        service({ AUTH_MODE: 'both' }).authenticate(
          request({ authorization: 'Bearer sk-openai-client' }, LOCAL),
        ),
      ).toEqual({ keyId: undefined, credential: { scheme: 'bearer', value: 'sk-openai-client' } });
    });
  });

  describe('proxy-key mode', () => {
    const auth = service({ PROXY_API_KEYS: `${KEY_A},${KEY_B}` });

    it.each<[string, IncomingHttpHeaders]>([
      ['Bearer', { authorization: `Bearer ${KEY_A}` }],
      ['lower-case bearer', { authorization: `bearer ${KEY_A}` }],
      ['upper-case BEARER, extra spaces', { authorization: `BEARER   ${KEY_A}  ` }],
      ['x-api-key', { 'x-api-key': KEY_A }],
      ["api-key (Azure OpenAI clients')", { 'api-key': KEY_A }],
      ['x-api-key beside another bearer', { authorization: 'Bearer sdk-default', 'x-api-key': KEY_A }],
      ['a bearer beside another x-api-key', { authorization: `Bearer ${KEY_A}`, 'x-api-key': 'other' }],
    ])('accepts a configured key as %s, and sends the gateway credential upstream', (_name, headers) => {
      const identity = auth.authenticate(request(headers));
      expect(identity.credential).toBeUndefined();
      expect(identity.keyId).toBe(auth.authenticate(request({ 'x-api-key': KEY_A })).keyId);
    });

    it('gives each key a short, stable id that does not reveal the key', () => {
      const a = auth.authenticate(request({ 'x-api-key': KEY_A })).keyId;
      const b = auth.authenticate(request({ authorization: `Bearer ${KEY_B}` })).keyId;
      expect(a).toMatch(/^[0-9a-f]{12}$/);
      expect(b).toMatch(/^[0-9a-f]{12}$/);
      expect(a).not.toBe(b);
      // Stable across instances (and restarts): the id is derived from the key alone.
      expect(service({ PROXY_API_KEYS: KEY_A }).authenticate(request({ 'x-api-key': KEY_A })).keyId).toBe(a);
      for (const id of [a, b]) {
        expect(KEY_A).not.toContain(id);
        expect(KEY_B).not.toContain(id);
        expect(id).not.toContain(KEY_A.slice(0, 6));
      }
    });

    it.each<[string, IncomingHttpHeaders, string]>([
      ['no credential', {}, 'Missing API key'],
      ['an unknown key', { authorization: 'Bearer sk-wrong' }, 'Invalid API key'],
      ['a key prefix', { 'x-api-key': KEY_A.slice(0, -1) }, 'Invalid API key'],
      ['a key with extra characters', { 'x-api-key': `${KEY_A}x` }, 'Invalid API key'],
      ['a non-Bearer scheme', { authorization: `Basic ${KEY_A}` }, 'Missing API key'],
      ['the key in the passthrough header', { [PROXY_KEY_HEADER]: KEY_A }, 'Missing API key'],
    ])('refuses %s with 401', (_name, headers, message) => {
      const error = rejection(auth, request(headers));
      expect(error.code).toBe(GatewayErrorCode.Authentication);
      expect(error.message).toBe(message);
    });

    it('also requires the key from loopback clients', () => {
      expect(rejection(auth, request({}, LOCAL)).code).toBe(GatewayErrorCode.Authentication);
    });

    it('never puts the presented key in the error message', () => {
      const error = rejection(auth, request({ authorization: 'Bearer sk-secret-guess' }));
      expect(error.message).not.toContain('sk-secret-guess');
    });
  });

  describe('passthrough mode', () => {
    const auth = service({ PROXY_API_KEYS: KEY_A, AUTH_MODE: 'passthrough' });

    it('takes the proxy key from x-warden-api-key and passes the provider credential through', () => {
      const identity = auth.authenticate(
        request({ [PROXY_KEY_HEADER]: KEY_A, authorization: 'Bearer sk-ant-oat01-oauth' }),
      );
      expect(identity.keyId).toMatch(/^[0-9a-f]{12}$/);
      expect(identity.credential).toEqual({ scheme: 'bearer', value: 'sk-ant-oat01-oauth' });
    });

    it('prefers the Authorization bearer over x-api-key', () => {
      const identity = auth.authenticate(
        request({
          [PROXY_KEY_HEADER]: KEY_A,
          authorization: 'Bearer from-auth',
          'x-api-key': 'from-x-api-key',
        }),
      );
      expect(identity.credential).toEqual({ scheme: 'bearer', value: 'from-auth' });
    });

    it('passes an Azure OpenAI key (api-key) through as a key, after Authorization and x-api-key', () => {
      const azure = auth.authenticate(request({ [PROXY_KEY_HEADER]: KEY_A, 'api-key': 'azure-key' }));
      expect(azure.credential).toEqual({ scheme: 'x-api-key', value: 'azure-key' });
      const both = auth.authenticate(
        request({ [PROXY_KEY_HEADER]: KEY_A, 'x-api-key': 'from-x-api-key', 'api-key': 'azure-key' }),
      );
      expect(both.credential).toEqual({ scheme: 'x-api-key', value: 'from-x-api-key' });
    });

    it.each<[string, IncomingHttpHeaders]>([
      ['a missing proxy key', { 'x-api-key': 'sk-provider' }],
      ['a wrong proxy key', { [PROXY_KEY_HEADER]: KEY_B, 'x-api-key': 'sk-provider' }],
      ['the proxy key in Authorization only', { authorization: `Bearer ${KEY_A}` }],
      ['a missing provider credential', { [PROXY_KEY_HEADER]: KEY_A }],
      // Forwarded, the proxy key would reach the provider.
      ['the proxy key as the provider credential', { [PROXY_KEY_HEADER]: KEY_A, 'x-api-key': KEY_A }],
      ['the proxy key as a provider bearer', { [PROXY_KEY_HEADER]: KEY_A, authorization: `Bearer ${KEY_A}` }],
    ])('refuses %s with 401', (_name, headers) => {
      expect(rejection(auth, request(headers)).code).toBe(GatewayErrorCode.Authentication);
    });

    it('needs no provider credential on a route that does not call upstream, but still the proxy key', () => {
      const identity = auth.authenticate(request({ [PROXY_KEY_HEADER]: KEY_A }), { forUpstream: false });
      expect(identity.keyId).toMatch(/^[0-9a-f]{12}$/);
      expect(identity.credential).toBeUndefined();
      expect(() => auth.authenticate(request({}), { forUpstream: false })).toThrow(GatewayException);
    });
  });

  describe('both mode', () => {
    const auth = service({ PROXY_API_KEYS: KEY_A, AUTH_MODE: 'both' });

    it('uses the gateway credential for a proxy key', () => {
      const identity = auth.authenticate(request({ authorization: `Bearer ${KEY_A}` }));
      expect(identity.credential).toBeUndefined();
      expect(identity.keyId).toMatch(/^[0-9a-f]{12}$/);
    });

    it('passes any other credential through, without a key id, marked as unchecked by the gateway', () => {
      expect(auth.authenticate(request({ 'x-api-key': 'sk-ant-api03-client' }))).toStrictEqual({
        keyId: undefined,
        credential: { scheme: 'x-api-key', value: 'sk-ant-api03-client' },
        unverified: true,
      });
      // A proxy key, or no client keys at all (loopback only), is no unchecked admission.
      expect(auth.authenticate(request({ 'x-api-key': KEY_A })).unverified).toBeUndefined();
      const open = service({ AUTH_MODE: 'both' });
      expect(open.authenticate(request({ 'x-api-key': 'sk-any' }, LOCAL)).unverified).toBeUndefined();
    });

    it('refuses a client without any credential with 401', () => {
      expect(rejection(auth, request({})).code).toBe(GatewayErrorCode.Authentication);
    });

    it('refuses a credential that is not a proxy key on a route the gateway answers itself', () => {
      // Nothing upstream would check it there: any made-up key would do.
      expect(() => auth.authenticate(request({ 'x-api-key': 'made-up' }), { forUpstream: false })).toThrow(
        GatewayException,
      );
      expect(auth.authenticate(request({ 'x-api-key': KEY_A }), { forUpstream: false }).keyId).toMatch(
        /^[0-9a-f]{12}$/,
      );
      // Without client keys (loopback only), a provider credential is no reason to refuse.
      const open = service({ AUTH_MODE: 'both' });
      expect(
        open.authenticate(request({ 'x-api-key': 'sk-any' }, LOCAL), { forUpstream: false }).keyId,
      ).toBeUndefined();
    });
  });
});
