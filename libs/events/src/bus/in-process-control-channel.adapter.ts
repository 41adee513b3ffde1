import { Logger } from '@nestjs/common';
import { INSTANCE_ID } from '../instance-id';
import { ControlChannel, type ControlListener, type ControlMessage } from './control-channel';
import { ListenerSet } from './listener-set';

const MICROS_PER_MS = 1000;
/** The last sequence number given in this process (its channels stand for replicas sharing one Redis). */
let lastSequence = 0;
/** The swap each hub keeps (see ControlChannel.keep). */
const keptSwaps = new WeakMap<InProcessControlHub, ControlMessage>();

/** Channels that reach each other in one process (tests simulating replicas); by default a channel is alone. */
export type InProcessControlHub = Set<InProcessControlChannel>;

/**
 * The control channel without Redis: a single replica has no one to tell, so a broadcast reaches only the other
 * channels of a shared {@link InProcessControlHub}, never its own listeners.
 */
export class InProcessControlChannel extends ControlChannel {
  readonly instanceId: string;
  private readonly listeners = new ListenerSet<ControlMessage>(new Logger('ControlChannel'), 'control');
  private readonly hub: InProcessControlHub;

  constructor(options: { instanceId?: string; hub?: InProcessControlHub } = {}) {
    super();
    this.instanceId = options.instanceId ?? INSTANCE_ID;
    this.hub = options.hub ?? new Set();
    this.hub.add(this);
  }

  broadcast(message: ControlMessage): Promise<void> {
    for (const channel of this.hub) {
      if (channel !== this && message.origin !== channel.instanceId) channel.listeners.deliver([message]);
    }
    return Promise.resolve();
  }

  nextSequence(after = 0): Promise<number> {
    lastSequence = Math.max(Date.now() * MICROS_PER_MS, lastSequence + 1, after + 1);
    return Promise.resolve(lastSequence);
  }

  keep(message: ControlMessage): Promise<void> {
    const current = keptSwaps.get(this.hub);
    if ((current?.seq ?? 0) < (message.seq ?? 0)) keptSwaps.set(this.hub, message);
    return Promise.resolve();
  }

  kept(): Promise<ControlMessage | undefined> {
    return Promise.resolve(keptSwaps.get(this.hub));
  }

  /** Connected from the start: `listener` is called once. */
  onConnect(listener: () => void): () => void {
    let subscribed = true;
    queueMicrotask(() => {
      if (subscribed) listener();
    });
    return () => {
      subscribed = false;
    };
  }

  onMessage(listener: ControlListener): () => void {
    return this.listeners.add(listener);
  }

  close(): Promise<void> {
    this.hub.delete(this);
    return Promise.resolve();
  }
}
