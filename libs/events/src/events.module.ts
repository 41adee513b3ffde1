import { Module } from '@nestjs/common';
import { ControlChannel } from './bus/control-channel';
import { EventBus } from './bus/event-bus.port';
import { InProcessControlChannel } from './bus/in-process-control-channel.adapter';
import { InProcessEventBus } from './bus/in-process-event-bus.adapter';
import { RedisControlChannel } from './bus/redis-control-channel.adapter';
import { RedisEventBus } from './bus/redis-event-bus.adapter';
import { ConversationStore } from './conversation-store.port';
import { EventPublisher } from './event-publisher.port';
import { eventsConfig, type EventsConfig } from './events.config';
import { TrackedEventPublisher } from './publisher/tracked-event-publisher';
import { ConversationStoreModule } from './store/conversation-store.module';

/**
 * Events and history: the live bus and the control channel (Redis when `REDIS_URL` is set, else in-process), the
 * tracked publisher (bus + conversation store), and the store itself (re-exported). Needs `eventsConfig` loaded by
 * the app's config root. On shutdown the publisher flushes first (it depends on the bus, so Nest calls its hook
 * earlier), then the Redis connections close.
 */
@Module({
  imports: [ConversationStoreModule.forRoot()],
  providers: [
    {
      provide: EventBus,
      inject: [eventsConfig.KEY],
      useFactory: (cfg: EventsConfig): EventBus =>
        cfg.redisUrl === undefined ? new InProcessEventBus() : new RedisEventBus({ url: cfg.redisUrl }),
    },
    {
      provide: ControlChannel,
      inject: [eventsConfig.KEY],
      useFactory: (cfg: EventsConfig): ControlChannel =>
        cfg.redisUrl === undefined
          ? new InProcessControlChannel()
          : new RedisControlChannel({ url: cfg.redisUrl }),
    },
    {
      provide: TrackedEventPublisher,
      inject: [EventBus, ConversationStore, eventsConfig.KEY],
      useFactory: (bus: EventBus, store: ConversationStore, cfg: EventsConfig) =>
        new TrackedEventPublisher(bus, store, {
          queueMax: cfg.queueMax,
          queueMaxBytes: cfg.queueMaxBytes,
          batchSize: cfg.batchSize,
          batchMaxBytes: cfg.batchMaxBytes,
          flushMs: cfg.flushMs,
        }),
    },
    { provide: EventPublisher, useExisting: TrackedEventPublisher },
  ],
  exports: [EventPublisher, TrackedEventPublisher, EventBus, ControlChannel, ConversationStoreModule],
})
export class EventsModule {}
