import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { type ConfigType } from '@nestjs/config';
import { ApiBody, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { GatewayErrorCode, GatewayException } from '@warden/control-plane';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { AdminAuthGuard, type AdminAccessMethod } from '../admin/admin-auth.guard';
import { digestOf, matchesDigest } from '../auth/constant-time';
import { gatewayConfig } from '../config/gateway.config';
import { parseInput } from '../history/history-query.schemas';
import { ApiErrorResponse, ApiJsonOk, API_TAGS } from '../openapi/api-docs.decorators';
import { ref } from '../openapi/schemas/schema-ref';
import { LoginThrottle } from './login-throttle';
import { UiSessionService } from './ui-session.service';

/** `GET /api/auth/session`: what the UI needs to decide between the app and the login form. */
export interface SessionState {
  authenticated: boolean;
  via: AdminAccessMethod | null;
  /** True when ADMIN_API_KEY is set: the UI logs in with it. */
  loginRequired: boolean;
}

/** Longest admin key accepted in a login body. */
const MAX_KEY_LENGTH = 1024;
const loginSchema = z.object({ key: z.string().min(1).max(MAX_KEY_LENGTH) }).strict();

/**
 * UI login with the admin key: `POST /api/auth/login` `{ key }` sets the session cookie (204), `POST
 * /api/auth/logout` clears it, `GET /api/auth/session` tells whether this browser is in. The key is compared in
 * constant time; repeated failures from one address are throttled.
 */
@Controller('api/auth')
@ApiTags(API_TAGS.uiAuth)
export class AuthController {
  private readonly digest: Buffer | undefined;
  private readonly throttle = new LoginThrottle();

  constructor(
    @Inject(gatewayConfig.KEY) cfg: ConfigType<typeof gatewayConfig>,
    @Inject(UiSessionService) private readonly sessions: UiSessionService,
    @Inject(AdminAuthGuard) private readonly guard: AdminAuthGuard,
  ) {
    this.digest = cfg.adminApiKey === undefined ? undefined : digestOf(cfg.adminApiKey);
  }

  @Get('session')
  @ApiOperation({
    summary: 'UI session state',
    description:
      'Whether this browser has admin access (and how), and whether a login is needed. No authentication.',
  })
  @ApiJsonOk('UiSessionState', 'The state.')
  session(@Req() req: Request): SessionState {
    const access = this.guard.check(req);
    return {
      authenticated: access.granted,
      via: access.granted ? access.via : null,
      loginRequired: this.sessions.enabled,
    };
  }

  @Post('login')
  @ApiOperation({
    summary: 'Log in to the UI',
    description:
      'Checks the admin key (constant time) and sets the `warden_session` cookie (HttpOnly, SameSite=Strict, 12 h, ' +
      'Secure over HTTPS). Repeated failures from one address are throttled.',
  })
  @ApiBody({ schema: ref('UiLogin') })
  @ApiNoContentResponse({ description: 'Logged in: `Set-Cookie: warden_session=...`.' })
  @ApiErrorResponse(400, 'Bad body, or ADMIN_API_KEY is not set (nothing to log in to).')
  @ApiErrorResponse(401, 'Wrong admin key.')
  @ApiErrorResponse(429, 'Too many failed logins from this address (`Retry-After`).')
  @HttpCode(204)
  login(@Body() body: unknown, @Req() req: Request, @Res({ passthrough: true }) res: Response): void {
    if (this.digest === undefined) {
      throw new GatewayException(
        GatewayErrorCode.InvalidRequest,
        'ADMIN_API_KEY is not set: there is nothing to log in to (loopback clients are let in directly)',
      );
    }
    // req.ip follows TRUST_PROXY (set on the Express app from ClientAddress).
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const retryAfterMs = this.throttle.retryAfterMs(address);
    if (retryAfterMs > 0) {
      throw new GatewayException(GatewayErrorCode.RateLimited, 'Too many failed logins; try again later', {
        headers: { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) },
      });
    }
    const { key } = parseInput(loginSchema, body);
    if (!matchesDigest(key, this.digest)) {
      this.throttle.failed(address);
      throw new GatewayException(GatewayErrorCode.Authentication, 'Invalid admin API key');
    }
    this.throttle.succeeded(address);
    const issued = this.sessions.issueCookie(isSecure(req));
    if (issued !== undefined) res.setHeader('set-cookie', issued.cookie);
  }

  @Post('logout')
  @ApiOperation({
    summary: 'Log out of the UI',
    description: 'Clears the session cookie. No authentication.',
  })
  @ApiNoContentResponse({ description: 'Logged out: the cookie is cleared.' })
  @HttpCode(204)
  logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): void {
    res.setHeader('set-cookie', this.sessions.clearCookie(isSecure(req)));
  }
}

function isSecure(req: Request): boolean {
  return req.secure || req.headers['x-forwarded-proto'] === 'https';
}
