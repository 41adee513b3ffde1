import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type ConfigType } from '@nestjs/config';
import { startMockLlm, type MockLlmHandle } from '@warden/mock-llm';
import { MOCK_PROVIDER, ModelRouter } from '@warden/upstream';
import { gatewayConfig } from '../config/gateway.config';

const LOOPBACK = '127.0.0.1';

/**
 * Serves `mock-*` models in-process: the mock LLM listens on an ephemeral loopback port inside the gateway process
 * and is registered as the `mock` provider, so mock calls take exactly the same upstream path as real ones.
 */
@Injectable()
export class EmbeddedMockService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('EmbeddedMock');
  private handle: MockLlmHandle | undefined;

  constructor(
    @Inject(gatewayConfig.KEY) private readonly cfg: ConfigType<typeof gatewayConfig>,
    @Inject(ModelRouter) private readonly router: ModelRouter,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.cfg.mockModelsEnabled) {
      this.handle = await startMockLlm({ port: 0, host: LOOPBACK });
      this.router.register({
        name: MOCK_PROVIDER,
        baseUrls: { openai: `${this.handle.url}/v1`, anthropic: this.handle.url },
        acceptsAnyCredential: true,
      });
      this.logger.log(`mock-* models served by the embedded mock LLM at ${this.handle.url}`);
    }
    const problems = this.router.verify();
    if (problems.length > 0) throw new Error(`Invalid routes configuration: ${problems.join('; ')}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
}
