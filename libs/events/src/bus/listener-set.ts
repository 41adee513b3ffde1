import type { Logger } from '@nestjs/common';
import { errorMessage } from '@warden/observability';

/**
 * A set of listeners called asynchronously (in a microtask, never inside the caller's step). One listener's
 * failure is logged and does not affect the others.
 */
export class ListenerSet<T> {
  private readonly listeners = new Set<(item: T) => void>();

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  get size(): number {
    return this.listeners.size;
  }

  add(listener: (item: T) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Schedules delivery of `items`, in order, to the listeners registered at delivery time. */
  deliver(items: readonly T[]): void {
    if (this.listeners.size === 0 || items.length === 0) return;
    queueMicrotask(() => {
      for (const item of items) {
        for (const listener of this.listeners) {
          try {
            listener(item);
          } catch (error) {
            this.logger.warn(`${this.what} listener failed: ${errorMessage(error)}`);
          }
        }
      }
    });
  }
}
