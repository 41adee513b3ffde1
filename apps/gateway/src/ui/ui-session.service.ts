import type { IncomingMessage } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { type ConfigType } from '@nestjs/config';
import { gatewayConfig } from '../config/gateway.config';
import { SESSION_TTL_MS, SessionTokenSigner } from './session-token';

/** Name of the UI session cookie. */
export const SESSION_COOKIE = 'warden_session';

/**
 * UI sessions: when ADMIN_API_KEY is set, a login with the key gets an HttpOnly, SameSite=Strict cookie holding a
 * signed, expiring token (see {@link SessionTokenSigner}) that the admin guard accepts like the key itself.
 */
@Injectable()
export class UiSessionService {
  private readonly signer: SessionTokenSigner | undefined;

  constructor(@Inject(gatewayConfig.KEY) cfg: ConfigType<typeof gatewayConfig>) {
    this.signer = cfg.adminApiKey === undefined ? undefined : new SessionTokenSigner(cfg.adminApiKey);
  }

  /** True when the UI needs a login (an admin key is configured). */
  get enabled(): boolean {
    return this.signer !== undefined;
  }

  /** True when the request carries a valid session cookie. */
  hasValidSession(req: IncomingMessage): boolean {
    const token = readCookie(req.headers.cookie, SESSION_COOKIE);
    return token !== undefined && this.signer !== undefined && this.signer.verify(token);
  }

  /** The `Set-Cookie` value of a new session; undefined when sessions are disabled. */
  issueCookie(secure: boolean): { cookie: string; expiresAt: number } | undefined {
    if (this.signer === undefined) return undefined;
    const { token, expiresAt } = this.signer.issue();
    return { cookie: cookieHeader(token, Math.floor(SESSION_TTL_MS / 1000), secure), expiresAt };
  }

  /** The `Set-Cookie` value that removes the session cookie. */
  clearCookie(secure: boolean): string {
    return cookieHeader('', 0, secure);
  }
}

function cookieHeader(value: string, maxAgeSeconds: number, secure: boolean): string {
  const attributes = [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${maxAgeSeconds}`,
  ];
  if (secure) attributes.push('Secure');
  return attributes.join('; ');
}

/** The value of cookie `name` in a `Cookie` header (first occurrence). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
