import { type DynamicModule, Module } from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ConversationStore } from '../conversation-store.port';
import { eventsConfig, type EventsConfig } from '../events.config';
import { DisabledConversationStore } from './disabled-conversation-store.adapter';
import { RetentionService } from './retention.service';
import type { StoreTimings } from './store-connection';
import { buildDataSourceOptions, STORE_ENTITIES } from './store-options';
import { STORE_TIMINGS, TypeOrmConversationStore } from './typeorm-conversation-store.adapter';

/**
 * The conversation history: TypeORM on SQLite or PostgreSQL from `eventsConfig` (which the app's config root must
 * load), the ConversationStore adapter and the retention purge. The DataSource is created but not connected by
 * TypeOrmModule (`manualInitialization`): the adapter connects it in the background, so a database that is down
 * never fails startup (see store/README.md). With HISTORY_ENABLED=false the store is {@link DisabledConversationStore}
 * and the DataSource is never connected: no file is created, no server contacted.
 */
@Module({})
export class ConversationStoreModule {
  static forRoot(): DynamicModule {
    return {
      module: ConversationStoreModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [eventsConfig.KEY],
          useFactory: (cfg: EventsConfig) => ({
            ...buildDataSourceOptions(cfg),
            autoLoadEntities: true,
            manualInitialization: true,
            retryAttempts: 0,
          }),
        }),
        TypeOrmModule.forFeature(STORE_ENTITIES),
      ],
      providers: [
        {
          provide: ConversationStore,
          inject: [getDataSourceToken(), eventsConfig.KEY, { token: STORE_TIMINGS, optional: true }],
          useFactory: (
            dataSource: DataSource,
            cfg: EventsConfig,
            timings: Partial<StoreTimings> | undefined,
          ): ConversationStore =>
            cfg.historyEnabled
              ? new TypeOrmConversationStore(dataSource, cfg, timings)
              : new DisabledConversationStore(),
        },
        RetentionService,
      ],
      exports: [ConversationStore],
    };
  }
}
