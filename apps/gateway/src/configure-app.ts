import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Env } from '@warden/config';
import { json } from 'express';
import { createAppLogger, observabilityConfig } from '@warden/observability';
import { AppModule } from './app.module';
import { ClientAddress } from './auth/client-address';
import { LlmExceptionFilter } from './llm/llm-exception.filter';
import { LlmRoutes } from './llm/llm-routes';
import { setupOpenApi } from './openapi/openapi.setup';

/** Largest admin request body. */
const ADMIN_BODY_LIMIT = '1mb';

/**
 * Builds the gateway app from an environment: the one place `main.ts` and the e2e tests share, so tests run
 * exactly what production runs. Config is validated first: a bad variable fails here, naming it.
 */
export async function createGatewayApp(env: Env): Promise<INestApplication> {
  const logging = observabilityConfig.parse(env);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(env), {
    // LLM routes read their raw body themselves (size limit first, parsed once, forwarded byte for byte).
    bodyParser: false,
    logger: createAppLogger({ level: logging.logLevel, format: logging.logFormat }),
    abortOnError: false,
  });
  configureApp(app);
  return app;
}

/** HTTP-level settings applied to every instance of the app. */
export function configureApp(app: INestApplication): void {
  const express = app as NestExpressApplication;
  express.disable('x-powered-by');
  express.set('etag', false);
  // req.ip on Nest routes follows TRUST_PROXY, like every per-IP decision (see ClientAddress).
  const addresses = app.get(ClientAddress);
  express.set('trust proxy', (address: string) => addresses.trusts(address));
  // Admin routes take small JSON bodies; the LLM routes read their own (see LlmRoutes).
  express.use('/api', json({ limit: ADMIN_BODY_LIMIT }));
  app.useGlobalFilters(new LlmExceptionFilter());
  setupOpenApi(app);
  mountLlmRoutes(app);
}

/** Puts the LLM routes ahead of Express on the HTTP server (see {@link LlmRoutes}). */
function mountLlmRoutes(app: INestApplication): void {
  const routes = app.get(LlmRoutes);
  const server = app.getHttpServer() as Server;
  const fallbacks = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (routes.dispatch(req, res)) return;
    for (const fallback of fallbacks) fallback(req, res);
  });
}
