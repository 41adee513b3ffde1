import type { WardenEvent } from './warden-event';

/** A subscriber of published events. */
export type EventListener = (event: WardenEvent) => void;

/**
 * Where calls publish their events. Publishing never blocks the call and never throws into it: adapters queue,
 * batch and count what they drop. A port: the events module provides the adapter.
 */
export abstract class EventPublisher {
  abstract publish(event: WardenEvent): void;
  /** Receives every event published from now on; returns the unsubscribe function. */
  abstract subscribe(listener: EventListener): () => void;
}
