import { z } from 'zod';

/** Replace the policy chain on every replica with `config` (already validated and applied by the origin). */
export interface PolicySwapMessage {
  type: 'policy.swap';
  config: unknown;
  version: number;
  /** The replica that sent it (its `instanceId`); it is not delivered back there. */
  origin: string;
}

/** A message between replicas. */
export type ControlMessage = PolicySwapMessage;

/** A receiver of control messages from other replicas. */
export type ControlListener = (message: ControlMessage) => void;

/** A control message as it arrives from Redis (validated at the edge). */
export const controlMessageSchema = z.object({
  type: z.literal('policy.swap'),
  config: z.unknown(),
  version: z.number().int(),
  origin: z.string(),
});

/**
 * Broadcasts control messages (policy hot swaps) to the other replicas. Listeners receive only messages from other
 * origins, so the sender does not re-apply its own change. Not durable: a replica that is disconnected when a
 * message is sent misses it. A port; the events module provides the adapter (Redis or in-process).
 */
export abstract class ControlChannel {
  /** This replica's id: the `origin` to put in broadcast messages. */
  abstract readonly instanceId: string;
  /** Sends to the other replicas; rejects when it could not be sent (Redis down), so the caller can report it. */
  abstract broadcast(message: ControlMessage): Promise<void>;
  /** Receives messages from other replicas (asynchronously); returns the unsubscribe function. */
  abstract onMessage(listener: ControlListener): () => void;
  /** Releases the transport; idempotent. */
  abstract close(): Promise<void>;
}
