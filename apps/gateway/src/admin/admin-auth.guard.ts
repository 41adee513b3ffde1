import type { IncomingMessage } from 'node:http';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { type ConfigType } from '@nestjs/config';
import { GatewayErrorCode, GatewayException } from '@warden/control-plane';
import { isLoopback } from '../auth/client-auth.service';
import { digestOf, matchesDigest } from '../auth/constant-time';
import { gatewayConfig } from '../config/gateway.config';
import { UiSessionService } from '../ui/ui-session.service';

/** How a request got admin access. */
export type AdminAccessMethod = 'key' | 'session' | 'loopback';

/** The outcome of an admin access check: the method, or the error to answer. */
export type AdminAccess =
  { granted: true; via: AdminAccessMethod } | { granted: false; error: GatewayException };

/** Methods that change nothing (a cross-site request may read nothing either: no CORS headers are sent). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Guards everything that shows traffic or changes behaviour: `ADMIN_API_KEY` as `Authorization: Bearer` or
 * `x-api-key`, compared in constant time, or a UI session cookie signed with it (see UiSessionService); a
 * cookie-authenticated write must come from the same origin. Without an admin key, only clients on this machine
 * are served, and only under a loopback host name (a DNS-rebinding page cannot reach the API through a browser).
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly digest: Buffer | undefined;

  constructor(
    @Inject(gatewayConfig.KEY) cfg: ConfigType<typeof gatewayConfig>,
    @Inject(UiSessionService) private readonly sessions: UiSessionService,
  ) {
    this.digest = cfg.adminApiKey === undefined ? undefined : digestOf(cfg.adminApiKey);
  }

  canActivate(context: ExecutionContext): boolean {
    const access = this.check(context.switchToHttp().getRequest<IncomingMessage>());
    if (access.granted) return true;
    throw access.error;
  }

  /** Whether `req` may use the admin API, and how. */
  check(req: IncomingMessage): AdminAccess {
    if (this.digest === undefined) {
      if (isLoopback(req) && isLoopbackHost(req.headers.host)) return { granted: true, via: 'loopback' };
      return denied(
        GatewayErrorCode.Permission,
        'ADMIN_API_KEY is not set: the admin API serves loopback only (open it as http://localhost or 127.0.0.1)',
      );
    }
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    const header = req.headers['x-api-key'];
    const presented = bearer ?? (typeof header === 'string' ? header : undefined);
    if (presented !== undefined && matchesDigest(presented, this.digest))
      return { granted: true, via: 'key' };
    if (presented === undefined && this.sessions.hasValidSession(req)) {
      if (isCrossSiteWrite(req))
        return denied(GatewayErrorCode.Permission, 'Cross-site admin request refused');
      return { granted: true, via: 'session' };
    }
    return denied(GatewayErrorCode.Authentication, 'Invalid or missing admin API key');
  }
}

function denied(code: GatewayErrorCode, message: string): AdminAccess {
  return { granted: false, error: new GatewayException(code, message) };
}

/** True for `localhost`, `*.localhost`, `127.x.y.z` and `[::1]` (any port), or no Host header at all. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return true;
  const name = host.trim().toLowerCase().replace(/:\d+$/, '');
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    /^127(\.\d{1,3}){3}$/.test(name) ||
    name === '[::1]'
  );
}

/** A state-changing request whose browser says it comes from another site or origin. */
function isCrossSiteWrite(req: IncomingMessage): boolean {
  if (SAFE_METHODS.has(req.method ?? 'GET')) return false;
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return true;
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}
