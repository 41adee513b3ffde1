import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { type ConfigType } from '@nestjs/config';
import { UpstreamClient } from './client/upstream-client';
import { ResilientUpstreamClient } from './resilience/resilient-upstream-client';
import { UpstreamHealth } from './resilience/upstream-health';
import { ModelRouter } from './routing/model-router';
import { loadRoutesFile } from './routing/routes-file';
import { upstreamConfig } from './upstream.config';
import { ENV, type Env } from '@warden/config';

/**
 * Upstream providers: the model router (built-in OpenAI and Anthropic providers plus the routes file's) and the
 * pooled HTTP client with retries and a circuit breaker per provider (also exported as {@link UpstreamHealth}). The app registers further providers (the embedded mock) on the router at boot.
 */
@Module({
  providers: [
    {
      provide: ModelRouter,
      inject: [upstreamConfig.KEY, ENV],
      useFactory: (cfg: ConfigType<typeof upstreamConfig>, env: Env) => {
        const file = loadRoutesFile(cfg.routesFile, env);
        const router = new ModelRouter(cfg.timeouts, file);
        router.register({
          name: 'openai',
          baseUrls: { openai: cfg.openaiBaseUrl },
          apiKey: cfg.openaiApiKey,
        });
        router.register({
          name: 'anthropic',
          baseUrls: { anthropic: cfg.anthropicBaseUrl },
          apiKey: cfg.anthropicApiKey,
        });
        for (const [name, p] of Object.entries(file.providers)) {
          router.register({
            name,
            baseUrls: { openai: p.openaiBaseUrl, anthropic: p.anthropicBaseUrl },
            apiKey: p.apiKey,
            ...(p.acceptsAnyCredential === undefined ? {} : { acceptsAnyCredential: p.acceptsAnyCredential }),
            ...(p.credentialHeader === undefined ? {} : { credentialHeader: p.credentialHeader }),
          });
        }
        return router;
      },
    },
    {
      provide: UpstreamClient,
      inject: [upstreamConfig.KEY],
      useFactory: (cfg: ConfigType<typeof upstreamConfig>) => new ResilientUpstreamClient(cfg.resilience),
    },
    { provide: UpstreamHealth, useExisting: UpstreamClient },
  ],
  exports: [ModelRouter, UpstreamClient, UpstreamHealth],
})
export class UpstreamModule implements OnApplicationShutdown {
  constructor(@Inject(UpstreamClient) private readonly client: UpstreamClient) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
