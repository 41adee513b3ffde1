import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

/** Content Security Policy of the UI and the admin API: own scripts, styles and connections only, no framing. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** Headers set on every response under the guarded prefixes. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** Path prefixes that get the headers: the web UI and the admin API. */
const PREFIXES = ['/ui', '/api'];

/**
 * Security headers for `/ui` and `/api`, on every response there (pages, assets, JSON, errors, 404s). Admin API
 * responses also default to `Cache-Control: no-store` (they show traffic); a handler may set its own.
 *
 * Installed as Express middleware as soon as the HTTP adapter exists (`HttpAdapterHost.init$`: while
 * `NestFactory.create` builds the app, or at `createNestApplication` in tests), before any route or body parser
 * is registered: it runs first for every request, with no change to the bootstrap. The LLM routes never reach
 * Express (see LlmRoutes) and are not affected.
 */
@Injectable()
export class SecurityHeaders {
  constructor(@Inject(HttpAdapterHost) host: HttpAdapterHost) {
    host.init$.subscribe(() => {
      host.httpAdapter.use(applySecurityHeaders);
    });
  }
}

/** The middleware: sets the headers on responses to the UI and the admin API, then continues. */
export function applySecurityHeaders(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  // Express matches routes case-insensitively: so does this.
  const path = (req.url ?? '').toLowerCase();
  if (
    PREFIXES.some(
      (prefix) => path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`),
    )
  ) {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (path.startsWith('/api')) res.setHeader('cache-control', 'no-store');
  }
  next();
}
