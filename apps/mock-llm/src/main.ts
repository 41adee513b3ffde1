import { startMockLlm } from '@warden/mock-llm';
import { mockLlmConfig } from './mock-llm.config';

/** Standalone scripted mock LLM: listens per the environment, stops on SIGTERM / SIGINT. */
async function main(): Promise<void> {
  const config = mockLlmConfig();
  const mock = await startMockLlm({ port: config.port, host: config.host, apiKey: config.apiKey });
  console.log(
    `Warden mock LLM listening on ${mock.url}${config.apiKey === undefined ? '' : ' (API key required)'}`,
  );

  const shutdown = (): void => {
    process.off('SIGTERM', shutdown);
    process.off('SIGINT', shutdown);
    mock.close().catch((err: unknown) => {
      console.error('mock LLM close failed', err);
      process.exitCode = 1;
    });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
