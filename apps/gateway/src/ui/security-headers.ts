import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import helmet from 'helmet';

type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/** CSP directives of the UI and the admin API: own scripts, styles and connections only, no framing. */
const UI_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  objectSrc: ["'none'"],
};

/**
 * CSP of the API documentation (Swagger UI): its bundled scripts and styles are files served from `/docs`, but it
 * sets inline styles on elements and renders schema images from data: URLs.
 */
const DOCS_DIRECTIVES = {
  ...UI_DIRECTIVES,
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
};

/** Helmet with Warden's choices: deny framing, no referrer, same-origin resources, the given CSP. */
function securityHeaders(directives: Record<string, string[]>): Middleware {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
  });
}

/** Path prefixes that get security headers, each with its middleware (longest match is not needed: disjoint). */
const PROTECTED: ReadonlyArray<readonly [prefix: string, middleware: Middleware]> = [
  ['/ui', securityHeaders(UI_DIRECTIVES)],
  ['/api', securityHeaders(UI_DIRECTIVES)],
  ['/docs', securityHeaders(DOCS_DIRECTIVES)],
];

/**
 * Security headers (helmet: CSP, X-Frame-Options, nosniff, Referrer-Policy, HSTS, COOP/CORP...) for the web UI,
 * the admin API and the API docs, on every response there (pages, assets, JSON, errors, 404s). Admin API responses
 * also default to `Cache-Control: no-store` (they show traffic); a handler may set its own.
 *
 * Installed as Express middleware as soon as the HTTP adapter exists (`HttpAdapterHost.init$`: while
 * `NestFactory.create` builds the app, or at `createNestApplication` in tests), before any route or body parser
 * is registered: it runs first for every request, with no change to the bootstrap. The LLM routes never reach
 * Express (see LlmRoutes) and are not affected: they answer API clients, not browsers.
 */
@Injectable()
export class SecurityHeaders {
  constructor(@Inject(HttpAdapterHost) host: HttpAdapterHost) {
    host.init$.subscribe(() => {
      host.httpAdapter.use(applySecurityHeaders);
    });
  }
}

/** The middleware: sets the headers on responses under the protected prefixes, then continues. */
export function applySecurityHeaders(
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
): void {
  // Express matches routes case-insensitively: so does this.
  const path = (req.url ?? '').toLowerCase();
  const match = PROTECTED.find(([prefix]) => underPrefix(path, prefix));
  if (match === undefined) {
    next();
    return;
  }
  if (match[0] === '/api') res.setHeader('cache-control', 'no-store');
  match[1](req, res, next);
}

function underPrefix(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`);
}
