import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { errorMessage } from '@warden/observability';
import { gatewayConfig } from './config/gateway.config';
import { createGatewayApp } from './configure-app';
import { exitGracefullyOnSignals } from './lifecycle/signals';
import { shutdownTracing, startGatewayTracing } from './tracing';

const ENV_FILE = '.env';

async function bootstrap(): Promise<void> {
  if (existsSync(ENV_FILE)) process.loadEnvFile(ENV_FILE);
  startGatewayTracing(process.env);
  const cfg = gatewayConfig.parse(process.env);
  const app = await createGatewayApp(process.env);
  exitGracefullyOnSignals(app, shutdownTracing);
  await app.listen(cfg.port, cfg.host);
  Logger.log(`Warden listening on http://${cfg.host}:${cfg.port}`, 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  // The logger may not exist yet (invalid configuration): write the reason plainly and fail.
  process.stderr.write(`Warden failed to start: ${errorMessage(error)}\n`);
  process.exit(1);
});
