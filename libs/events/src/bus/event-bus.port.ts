import type { EventListener } from '../event-publisher.port';
import type { WardenEvent } from '../warden-event';

/** What a bus reports for health and metrics. */
export interface BusStatus {
  kind: 'in-process' | 'redis';
  /** Whether the transport is up (always true in process). */
  connected: boolean;
  /** Events this bus could not send (transport down or failing); they are not retried. */
  unsent: number;
  /** Events received from the transport and handed to listeners (Redis: from other replicas). */
  received: number;
}

/**
 * The live event bus: carries events to every `subscribe` listener of every replica (the live view). Best effort,
 * never durable: the history is the conversation store's job. A port; the events module provides the adapter.
 */
export abstract class EventBus {
  /**
   * Sends a batch. Never throws and never rejects: what cannot be sent is counted in {@link BusStatus.unsent},
   * and nothing is buffered while the transport is down.
   */
  abstract publish(events: readonly WardenEvent[]): Promise<void>;
  /** Receives every event published on the bus from now on, each once; returns the unsubscribe function. */
  abstract subscribe(listener: EventListener): () => void;
  abstract status(): BusStatus;
  /** Releases the transport; idempotent. */
  abstract close(): Promise<void>;
}
