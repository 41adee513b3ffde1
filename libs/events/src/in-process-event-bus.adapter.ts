import { Injectable, Logger } from '@nestjs/common';
import { EventPublisher, type EventListener } from './event-publisher.port';
import type { WardenEvent } from './warden-event';

/** In-process event bus (the zero-service default): listeners run after the current call step, never inside it. */
@Injectable()
export class InProcessEventBus extends EventPublisher {
  private readonly logger = new Logger('Events');
  private readonly listeners = new Set<EventListener>();

  publish(event: WardenEvent): void {
    if (this.listeners.size === 0) return;
    queueMicrotask(() => {
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (error) {
          this.logger.warn(
            `event listener failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
    });
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
