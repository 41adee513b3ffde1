import { Logger } from '@nestjs/common';
import type { EventListener } from '../event-publisher.port';
import type { WardenEvent } from '../warden-event';
import { EventBus, type BusStatus } from './event-bus.port';
import { ListenerSet } from './listener-set';

/** The zero-service bus (no `REDIS_URL`): listeners of this process only, called asynchronously. */
export class InProcessEventBus extends EventBus {
  private readonly listeners = new ListenerSet<WardenEvent>(new Logger('EventBus'), 'event');
  private received = 0;

  publish(events: readonly WardenEvent[]): Promise<void> {
    this.received += events.length;
    this.listeners.deliver(events);
    return Promise.resolve();
  }

  subscribe(listener: EventListener): () => void {
    return this.listeners.add(listener);
  }

  status(): BusStatus {
    return { kind: 'in-process', connected: true, unsent: 0, received: this.received };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
