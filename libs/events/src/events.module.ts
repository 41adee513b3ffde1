import { Module } from '@nestjs/common';
import { EventPublisher } from './event-publisher.port';
import { InProcessEventBus } from './in-process-event-bus.adapter';

/** Event publishing: the in-process bus. */
@Module({
  providers: [{ provide: EventPublisher, useClass: InProcessEventBus }],
  exports: [EventPublisher],
})
export class EventsModule {}
