import { z } from 'zod';

/** Replace the policy chain on every replica with `config` (already validated and applied by the origin). */
export interface PolicySwapMessage {
  type: 'policy.swap';
  config: unknown;
  version: number;
  /** The replica that sent it (its `instanceId`); it is not delivered back there. */
  origin: string;
  /**
   * Its place among the swaps of every replica ({@link ControlChannel.nextSequence}): a replica applies a swap only
   * if it is newer than the one it holds, so all end with the same chain whatever order messages arrive in.
   * Absent from a replica of an earlier release (rolling upgrade): applied as it comes, as that release did.
   */
  seq?: number;
  /**
   * The policy configuration file (its digest) the origin started with: a replica that starts later takes the kept
   * swap ({@link ControlChannel.kept}) only over the same file; a changed file wins over an older runtime swap.
   */
  base?: string;
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
  seq: z.number().int().positive().optional(),
  base: z.string().optional(),
});

/**
 * Broadcasts control messages (policy hot swaps) to the other replicas. Listeners receive only messages from other
 * origins, so the sender does not re-apply its own change. Messages are not durable (a replica that is disconnected
 * when one is sent misses it): the newest swap is kept ({@link keep}) for a replica to read when it connects
 * ({@link onConnect}). A port; the events module provides the adapter (Redis or in-process).
 */
export abstract class ControlChannel {
  /** This replica's id: the `origin` to put in broadcast messages. */
  abstract readonly instanceId: string;
  /** Sends to the other replicas; rejects when it could not be sent (Redis down), so the caller can report it. */
  abstract broadcast(message: ControlMessage): Promise<void>;
  /**
   * A number greater than `after` and than any this gave before, on this replica or any other sharing the channel
   * (from the clock, in microseconds, so that it keeps growing when Redis restarts without its data), to order
   * policy swaps. Rejects when it cannot be had.
   */
  abstract nextSequence(after?: number): Promise<number>;
  /**
   * Keeps `message` as the newest swap for replicas that start or reconnect later, unless one with a higher `seq`
   * is kept already. Rejects when it cannot be stored.
   */
  abstract keep(message: ControlMessage): Promise<void>;
  /** The swap {@link keep} holds, if any; rejects when it cannot be read. */
  abstract kept(): Promise<ControlMessage | undefined>;
  /** Receives messages from other replicas (asynchronously); returns the unsubscribe function. */
  abstract onMessage(listener: ControlListener): () => void;
  /**
   * Calls `listener` each time the channel connects, the first time included (asynchronously): messages sent while
   * it was away did not arrive, {@link kept} tells the newest. Returns the unsubscribe function.
   */
  abstract onConnect(listener: () => void): () => void;
  /** Releases the transport; idempotent. */
  abstract close(): Promise<void>;
}
