import type { IncomingMessage } from 'node:http';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { type ConfigType } from '@nestjs/config';
import { GatewayErrorCode, GatewayException } from '@warden/control-plane';
import { isLoopback } from '../auth/client-auth.service';
import { digestOf, matchesDigest } from '../auth/constant-time';
import { gatewayConfig } from '../config/gateway.config';

/**
 * Guards everything that shows traffic or changes behaviour: `ADMIN_API_KEY` as `Authorization: Bearer` or
 * `x-api-key`, compared in constant time; without an admin key, only clients on this machine are served.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly digest: Buffer | undefined;

  constructor(@Inject(gatewayConfig.KEY) cfg: ConfigType<typeof gatewayConfig>) {
    this.digest = cfg.adminApiKey === undefined ? undefined : digestOf(cfg.adminApiKey);
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<IncomingMessage>();
    if (this.digest === undefined) {
      if (isLoopback(req)) return true;
      throw new GatewayException(
        GatewayErrorCode.Permission,
        'ADMIN_API_KEY is not set: the admin API serves loopback only',
      );
    }
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    const header = req.headers['x-api-key'];
    const presented = bearer ?? (typeof header === 'string' ? header : undefined);
    if (presented !== undefined && matchesDigest(presented, this.digest)) return true;
    throw new GatewayException(GatewayErrorCode.Authentication, 'Invalid or missing admin API key');
  }
}
