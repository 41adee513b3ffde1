import type { IncomingMessage } from 'node:http';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { type ConfigType } from '@nestjs/config';
import { GatewayErrorCode, GatewayException } from '@warden/control-plane';
import type { Credential } from '@warden/upstream';
import { gatewayConfig } from '../config/gateway.config';
import { digestOf, sameDigest } from './constant-time';

/** Who is calling, and with which upstream credential (undefined: the gateway's own). */
export interface ClientIdentity {
  /** A short, non-reversible id of the proxy key used (for history and rate limits). */
  readonly keyId: string | undefined;
  readonly credential: Credential | undefined;
  /**
   * Set when the caller was let in on `credential` alone, which the gateway could not check (AUTH_MODE=both, client
   * keys configured, a key that is not one of them): only a provider that checks it may serve the call.
   */
  readonly unverified?: true;
}

/** Header that carries the proxy key when AUTH_MODE=passthrough uses the standard headers for the provider key. */
export const PROXY_KEY_HEADER = 'x-warden-api-key';

const KEY_ID_HEX_CHARS = 12;

/** True for clients connecting from this machine. */
export function isLoopback(req: IncomingMessage): boolean {
  const address = req.socket.remoteAddress ?? '';
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** Headers that carry a bare key, in the order they are read: Anthropic's, then Azure OpenAI's. */
const KEY_HEADERS = ['x-api-key', 'api-key'] as const;

/**
 * The credentials a request carries: its `Authorization: Bearer`, then its `x-api-key`, then its `api-key` (what
 * Azure OpenAI clients send a key in), in that order; any, all or none.
 */
function presentedCredentials(req: IncomingMessage): Credential[] {
  const found: Credential[] = [];
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(.+)$/i.exec(authorization);
    if (match?.[1] !== undefined) found.push({ scheme: 'bearer', value: match[1].trim() });
  }
  for (const header of KEY_HEADERS) {
    const value = req.headers[header];
    if (typeof value === 'string' && value.length > 0) found.push({ scheme: 'x-api-key', value });
  }
  return found;
}

/**
 * Authenticates LLM clients against `PROXY_API_KEYS` in constant time (every configured key is compared, by
 * SHA-256 digest so lengths leak nothing), and picks the upstream credential according to `AUTH_MODE`.
 */
@Injectable()
export class ClientAuthService implements OnModuleInit {
  private readonly logger = new Logger('Auth');
  private readonly keys: ReadonlyArray<{ digest: Buffer; id: string }>;

  constructor(@Inject(gatewayConfig.KEY) private readonly cfg: ConfigType<typeof gatewayConfig>) {
    this.keys = cfg.proxyApiKeys.map((key) => {
      const digest = digestOf(key);
      return { digest, id: digest.toString('hex').slice(0, KEY_ID_HEX_CHARS) };
    });
  }

  onModuleInit(): void {
    if (this.keys.length === 0) {
      this.logger.warn('PROXY_API_KEYS is not set: only clients on this machine (loopback) are served');
    }
  }

  /**
   * The caller's identity; throws a 401/403 {@link GatewayException} when it may not call. `forUpstream: false` is
   * for routes the gateway answers itself (the model list): with `AUTH_MODE=passthrough` the caller then needs no
   * provider key, which would only be forwarded upstream.
   */
  authenticate(req: IncomingMessage, { forUpstream = true }: { forUpstream?: boolean } = {}): ClientIdentity {
    if (this.keys.length === 0 && !isLoopback(req)) {
      throw new GatewayException(
        GatewayErrorCode.Permission,
        'This gateway has no client keys configured and only serves clients on its own machine',
      );
    }
    const credentials = presentedCredentials(req);
    // The Bearer wins where one credential is passed through; a proxy key may be in either header.
    const presented = credentials[0];
    switch (this.cfg.authMode) {
      case 'proxy-key': {
        if (this.keys.length === 0) return { keyId: undefined, credential: undefined };
        // A client may send both headers (an SDK's own bearer and the proxy key as x-api-key): either will do.
        let keyId: string | undefined;
        for (const credential of credentials) keyId ??= this.match(credential.value);
        if (keyId === undefined) throw this.invalidKey(presented);
        return { keyId, credential: undefined };
      }
      case 'passthrough': {
        let keyId: string | undefined;
        if (this.keys.length > 0) {
          const header = req.headers[PROXY_KEY_HEADER];
          keyId = this.match(typeof header === 'string' ? header : undefined);
          if (keyId === undefined) {
            throw new GatewayException(
              GatewayErrorCode.Authentication,
              `Invalid or missing ${PROXY_KEY_HEADER} header`,
            );
          }
        }
        if (presented === undefined) {
          if (!forUpstream) return { keyId, credential: undefined };
          throw new GatewayException(GatewayErrorCode.Authentication, 'Missing provider API key');
        }
        // A proxy key sent where the provider key goes would be forwarded to the provider: refused instead.
        if (this.match(presented.value) !== undefined) {
          throw new GatewayException(
            GatewayErrorCode.Authentication,
            `A proxy key is not a provider API key: send it in the ${PROXY_KEY_HEADER} header`,
          );
        }
        return { keyId, credential: presented };
      }
      case 'both': {
        const keyId = this.match(presented?.value);
        if (keyId !== undefined) return { keyId, credential: undefined };
        if (presented === undefined) {
          // Without client keys a (loopback) caller needs none: it gets the gateway's credential, as in proxy-key.
          if (this.keys.length === 0) return { keyId: undefined, credential: undefined };
          throw this.invalidKey(presented);
        }
        // A credential that is not a proxy key is only good for the provider that checks it: on a route the
        // gateway answers itself nothing would, so it is refused there.
        if (this.keys.length === 0) return { keyId: undefined, credential: presented };
        if (!forUpstream) throw this.invalidKey(presented);
        return { keyId: undefined, credential: presented, unverified: true };
      }
    }
  }

  private invalidKey(presented: Credential | undefined): GatewayException {
    return new GatewayException(
      GatewayErrorCode.Authentication,
      presented === undefined ? 'Missing API key' : 'Invalid API key',
    );
  }

  /** The id of the configured key equal to `candidate`; every key is compared, whatever matches. */
  private match(candidate: string | undefined): string | undefined {
    if (candidate === undefined) return undefined;
    const digest = digestOf(candidate);
    let found: string | undefined;
    for (const key of this.keys) {
      if (sameDigest(digest, key.digest)) found = key.id;
    }
    return found;
  }
}
