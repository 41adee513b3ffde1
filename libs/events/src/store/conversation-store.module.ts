import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConversationStore } from '../conversation-store.port';
import { eventsConfig, type EventsConfig } from '../events.config';
import { RetentionService } from './retention.service';
import { buildDataSourceOptions, STORE_ENTITIES } from './store-options';
import { TypeOrmConversationStore } from './typeorm-conversation-store.adapter';

/**
 * The conversation history: TypeORM on SQLite or PostgreSQL from `eventsConfig` (which the app's config root must
 * load), the ConversationStore adapter and the retention purge. The DataSource is created but not connected by
 * TypeOrmModule (`manualInitialization`): the adapter connects it in the background, so a database that is down
 * never fails startup (see store/README.md).
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
      providers: [{ provide: ConversationStore, useClass: TypeOrmConversationStore }, RetentionService],
      exports: [ConversationStore],
    };
  }
}
