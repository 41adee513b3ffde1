import { Logger } from '@nestjs/common';
import type { WardenEvent } from '../warden-event';
import type { ControlMessage } from './control-channel';
import { InProcessControlChannel, type InProcessControlHub } from './in-process-control-channel.adapter';
import { InProcessEventBus } from './in-process-event-bus.adapter';

/** Lets queued microtasks (listener deliveries) run. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function event(id: string): WardenEvent {
  return {
    id,
    callId: null,
    type: 'policy.config.updated',
    at: '2026-01-01T00:00:00.000Z',
    instance: 'i',
    data: {},
  };
}

beforeAll(() => {
  Logger.overrideLogger(false);
});

describe('InProcessEventBus', () => {
  it('delivers asynchronously, in order, and isolates a failing listener', async () => {
    const bus = new InProcessEventBus();
    const seen: string[] = [];
    bus.subscribe(() => {
      throw new Error('broken listener');
    });
    const stop = bus.subscribe((e) => seen.push(e.id));
    const sent = bus.publish([event('1'), event('2')]);
    expect(seen).toEqual([]); // not inside publish
    await sent;
    await tick();
    expect(seen).toEqual(['1', '2']);
    stop();
    await bus.publish([event('3')]);
    await tick();
    expect(seen).toEqual(['1', '2']);
    expect(bus.status()).toEqual({ kind: 'in-process', connected: true, unsent: 0, received: 3 });
  });
});

describe('InProcessControlChannel', () => {
  const swap = (origin: string, version: number): ControlMessage => ({
    type: 'policy.swap',
    config: { policies: [] },
    version,
    origin,
  });

  it('alone, a broadcast reaches no one (the sender does not re-apply)', async () => {
    const channel = new InProcessControlChannel({ instanceId: 'solo' });
    const seen: ControlMessage[] = [];
    channel.onMessage((m) => seen.push(m));
    await channel.broadcast(swap('solo', 1));
    await tick();
    expect(seen).toEqual([]);
  });

  it('gives increasing sequence numbers across the channels of the process, from the clock', async () => {
    const hub: InProcessControlHub = new Set();
    const a = new InProcessControlChannel({ instanceId: 'a', hub });
    const b = new InProcessControlChannel({ instanceId: 'b', hub });
    const before = Date.now() * 1000;
    const seqs = [await a.nextSequence(), await b.nextSequence(), await a.nextSequence()];
    expect(seqs[0]).toBeGreaterThanOrEqual(before);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(3);
  });

  it('keeps the newest swap of a hub, and tells each listener once that it is connected', async () => {
    const hub: InProcessControlHub = new Set();
    const a = new InProcessControlChannel({ instanceId: 'a', hub });
    const b = new InProcessControlChannel({ instanceId: 'b', hub });
    expect(await b.kept()).toBeUndefined();
    await a.keep({ ...swap('a', 2), seq: 9 });
    await b.keep({ ...swap('b', 1), seq: 4 });
    expect(await b.kept()).toEqual({ ...swap('a', 2), seq: 9 });
    expect(await new InProcessControlChannel().kept()).toBeUndefined();
    let connects = 0;
    a.onConnect(() => connects++);
    const off = b.onConnect(() => connects++);
    off();
    await tick();
    expect(connects).toBe(1);
  });

  it('on a shared hub, reaches the other channels only', async () => {
    const hub: InProcessControlHub = new Set();
    const a = new InProcessControlChannel({ instanceId: 'a', hub });
    const b = new InProcessControlChannel({ instanceId: 'b', hub });
    const onA: ControlMessage[] = [];
    const onB: ControlMessage[] = [];
    a.onMessage((m) => onA.push(m));
    b.onMessage((m) => onB.push(m));
    await a.broadcast(swap(a.instanceId, 2));
    await tick();
    expect(onA).toEqual([]);
    expect(onB).toEqual([swap('a', 2)]);
    await b.close();
    await a.broadcast(swap('a', 3));
    await tick();
    expect(onB).toHaveLength(1);
  });
});
