import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import type { Env } from '@warden/config';
import { ConversationStore, EventPublisher, eventsConfig } from '@warden/events';
import { ConfigModule } from '@nestjs/config';
import { startMockLlm, type MockLlmHandle } from '@warden/mock-llm';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/configure-app';
import { LiveEventBuffer } from '../../src/history/live-event-buffer';
import { LiveFeedOptions } from '../../src/history/live-feed.options';
import { GATEWAY_ANTHROPIC_KEY, GATEWAY_OPENAI_KEY, type TestGateway } from './harness';
import { InMemoryConversationStore } from './in-memory-conversation-store';

/** A test gateway with the history and live-feed seams exposed. */
export interface HistoryTestGateway extends TestGateway {
  store: InMemoryConversationStore;
  feed: LiveEventBuffer;
}

/** Options of {@link startHistoryGateway}. */
export interface HistoryGatewayOptions {
  mock?: MockLlmHandle;
  /** Heartbeat period of the live feed (15 s in production). */
  heartbeatMs?: number;
}

/** Provides the in-memory store to every module (used while the app itself provides no ConversationStore). */
@Global()
@Module({})
class InMemoryStoreModule {
  static with(store: ConversationStore, env: Env): DynamicModule {
    return {
      module: InMemoryStoreModule,
      global: true,
      imports: [ConfigModule.forFeature(eventsConfig.withEnv(env))], // TEMP until app.module loads eventsConfig
      providers: [{ provide: ConversationStore, useValue: store }],
      exports: [ConversationStore],
    };
  }
}

/**
 * Boots the real app (AppModule + configureApp, as createGatewayApp does) on port 0 against the mock LLM, with two
 * test seams: the ConversationStore is an {@link InMemoryConversationStore} fed by the EventPublisher (writes are
 * idempotent, so a publisher that also writes to the store does no harm), and the feed heartbeat is shortened.
 */
export async function startHistoryGateway(
  overrides: Env = {},
  options: HistoryGatewayOptions = {},
): Promise<HistoryTestGateway> {
  const upstream = options.mock ?? (await startMockLlm());
  const env: Env = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'error',
    DATABASE_URL: 'sqlite::memory:',
    UPSTREAM_OPENAI_BASE_URL: `${upstream.url}/v1`,
    UPSTREAM_ANTHROPIC_BASE_URL: upstream.url,
    OPENAI_API_KEY: GATEWAY_OPENAI_KEY,
    ANTHROPIC_API_KEY: GATEWAY_ANTHROPIC_KEY,
    ...overrides,
  };
  const store = new InMemoryConversationStore();
  const feedOptions = Object.assign(new LiveFeedOptions(), {
    heartbeatMs: options.heartbeatMs ?? new LiveFeedOptions().heartbeatMs,
  });
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.register(env), InMemoryStoreModule.with(store, env)],
  })
    .overrideProvider(ConversationStore)
    .useValue(store)
    .overrideProvider(LiveFeedOptions)
    .useValue(feedOptions)
    .compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    bodyParser: false,
    logger: ['error', 'fatal'],
    abortOnError: false,
  });
  configureApp(app);
  const unsubscribe = app.get(EventPublisher).subscribe((event) => {
    void store.writeEvents([event]);
  });
  await app.listen(0, '127.0.0.1');
  const address = (app.getHttpServer() as Server).address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    app,
    mock: upstream,
    store,
    feed: app.get(LiveEventBuffer),
    close: async () => {
      unsubscribe();
      await app.close();
      if (options.mock === undefined) await upstream.close();
    },
  };
}
