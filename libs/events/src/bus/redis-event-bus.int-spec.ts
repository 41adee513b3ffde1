/**
 * RedisEventBus and RedisControlChannel against real Redis: the shared server at 127.0.0.1:6379 (a unique channel
 * per test) and, for the outage test, a private `redis-server` child process that is killed and restarted.
 * Everything is real; nothing is faked.
 */
import { Logger } from '@nestjs/common';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { WardenEvent } from '../warden-event';
import type { ControlMessage } from './control-channel';
import { RedisControlChannel } from './redis-control-channel.adapter';
import { RedisEventBus } from './redis-event-bus.adapter';
import { freePort, startRedis, stopRedis, waitFor } from './test/redis-test-support';

const SHARED_REDIS = 'redis://127.0.0.1:6379';

function event(id: string, instance: string): WardenEvent {
  return {
    id,
    callId: `call-${id}`,
    type: 'call.started',
    at: '2026-01-01T00:00:00.000Z',
    instance,
    data: { id },
  };
}

function sorted(events: WardenEvent[]): string[] {
  return events.map((e) => e.id).sort();
}

beforeAll(() => {
  Logger.overrideLogger(false);
});

describe('RedisEventBus (real Redis)', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (closers.length > 0) await closers.pop()?.();
  });

  function bus(url: string, channel: string, instanceId: string): RedisEventBus {
    const created = new RedisEventBus({ url, channel, instanceId, reconnectMaxMs: 200 });
    closers.push(() => created.close());
    return created;
  }

  it('delivers the events of two replicas to both, each exactly once', async () => {
    const channel = `warden:test:${randomUUID()}:events`;
    const a = bus(SHARED_REDIS, channel, 'replica-a');
    const b = bus(SHARED_REDIS, channel, 'replica-b');
    await waitFor(() => a.status().connected && b.status().connected, 'both buses connected');
    const onA: WardenEvent[] = [];
    const onB: WardenEvent[] = [];
    a.subscribe((e) => onA.push(e));
    b.subscribe((e) => onB.push(e));

    await a.publish([event('a1', 'replica-a'), event('a2', 'replica-a')]);
    await b.publish([event('b1', 'replica-b')]);
    // Barriers: a PUBLISH returns after Redis has queued the message to every subscriber, so once A sees B's
    // last message (and B sees A's), any echo of their own earlier messages would already have arrived.
    await a.publish([event('a-last', 'replica-a')]);
    await b.publish([event('b-last', 'replica-b')]);
    await waitFor(
      () => onA.some((e) => e.id === 'b-last') && onB.some((e) => e.id === 'a-last'),
      'barrier events',
    );

    const all = ['a-last', 'a1', 'a2', 'b-last', 'b1'];
    expect(sorted(onA)).toEqual(all);
    expect(sorted(onB)).toEqual(all);
    expect(onB.find((e) => e.id === 'a1')).toEqual(event('a1', 'replica-a'));
    expect(a.status()).toEqual({ kind: 'redis', connected: true, unsent: 0, received: 2 });
    expect(b.status()).toEqual({ kind: 'redis', connected: true, unsent: 0, received: 3 });
  });

  it('ignores malformed messages on the channel', async () => {
    const channel = `warden:test:${randomUUID()}:events`;
    const a = bus(SHARED_REDIS, channel, 'replica-a');
    const raw = new Redis(SHARED_REDIS);
    closers.push(async () => {
      await raw.quit();
    });
    await waitFor(() => a.status().connected, 'bus connected');
    const seen: WardenEvent[] = [];
    a.subscribe((e) => seen.push(e));
    await raw.publish(channel, 'not json');
    await raw.publish(channel, JSON.stringify([{ id: 1 }]));
    await raw.publish(channel, JSON.stringify([event('ok', 'elsewhere')]));
    await waitFor(() => seen.length > 0, 'the valid message');
    expect(sorted(seen)).toEqual(['ok']);
  });

  describe('when Redis is killed and restarted', () => {
    let server: ChildProcess | undefined;
    afterEach(async () => {
      await stopRedis(server);
    });

    it('fails fast while down, counts what it could not send, reconnects and delivers again', async () => {
      const port = await freePort();
      const url = `redis://127.0.0.1:${port}`;
      server = await startRedis(port);
      const channel = `warden:test:${randomUUID()}:events`;
      const a = bus(url, channel, 'replica-a');
      const b = bus(url, channel, 'replica-b');
      const onA: WardenEvent[] = [];
      const onB: WardenEvent[] = [];
      a.subscribe((e) => onA.push(e));
      b.subscribe((e) => onB.push(e));
      await waitFor(() => a.status().connected && b.status().connected, 'both buses connected');

      await a.publish([event('before', 'replica-a')]);
      await waitFor(() => onB.some((e) => e.id === 'before'), 'event before the outage');

      await stopRedis(server);
      await waitFor(() => !a.status().connected && !b.status().connected, 'the buses to notice the outage');
      await expect(a.publish([event('during-1', 'replica-a'), event('during-2', 'replica-a')])).resolves.toBe(
        undefined,
      );
      expect(a.status()).toMatchObject({ connected: false, unsent: 2 });
      await waitFor(() => onA.some((e) => e.id === 'during-2'), 'local delivery while down');

      server = await startRedis(port);
      await waitFor(() => a.status().connected && b.status().connected, 'both buses reconnected');
      await a.publish([event('after', 'replica-a')]);
      await waitFor(() => onB.some((e) => e.id === 'after'), 'event after the restart');

      expect(sorted(onB)).toEqual(['after', 'before']);
      expect(sorted(onA)).toEqual(['after', 'before', 'during-1', 'during-2']);
      expect(a.status()).toEqual({ kind: 'redis', connected: true, unsent: 2, received: 0 });
      expect(b.status()).toMatchObject({ connected: true, received: 2 });
    });

    it('rejects a control broadcast while Redis is down', async () => {
      const port = await freePort();
      server = await startRedis(port);
      const url = `redis://127.0.0.1:${port}`;
      const channel = new RedisControlChannel({
        url,
        channel: `warden:test:${randomUUID()}:control`,
        reconnectMaxMs: 200,
      });
      closers.push(() => channel.close());
      await waitFor(() => channel.connected, 'control channel connected');
      await stopRedis(server);
      await waitFor(() => !channel.connected, 'the channel to notice the outage');
      await expect(
        channel.broadcast({ type: 'policy.swap', config: {}, version: 1, origin: channel.instanceId }),
      ).rejects.toThrow(/not connected/);
    });

    it('tells the control channel each time it connects, after an outage too, so a replica can catch up', async () => {
      const port = await freePort();
      server = await startRedis(port);
      const channel = new RedisControlChannel({
        url: `redis://127.0.0.1:${port}`,
        channel: `warden:test:${randomUUID()}:control`,
        reconnectMaxMs: 200,
      });
      closers.push(() => channel.close());
      let connects = 0;
      channel.onConnect(() => connects++);
      await waitFor(() => connects === 1, 'the first connection');
      const swap: ControlMessage = { type: 'policy.swap', config: {}, version: 1, origin: 'x', seq: 3 };
      await channel.keep(swap);
      await stopRedis(server);
      await waitFor(() => !channel.connected, 'the channel to notice the outage');
      await expect(channel.kept()).rejects.toThrow(/not connected/);
      server = await startRedis(port);
      await waitFor(() => connects === 2, 'the connection after the outage');
      // A restarted Redis without persistence kept nothing: the replica keeps its chain.
      expect(await channel.kept()).toBeUndefined();
      // Registered while connected: told at once.
      let late = 0;
      channel.onConnect(() => late++);
      await waitFor(() => late === 1, 'a listener registered while connected');
    });
  });
});

describe('RedisControlChannel (real Redis)', () => {
  const channels: RedisControlChannel[] = [];
  afterEach(async () => {
    await Promise.all(channels.splice(0).map((c) => c.close()));
  });

  it('delivers a policy swap to the other replica and not back to its origin', async () => {
    const name = `warden:test:${randomUUID()}:control`;
    const x = new RedisControlChannel({ url: SHARED_REDIS, channel: name, instanceId: 'replica-x' });
    const y = new RedisControlChannel({ url: SHARED_REDIS, channel: name, instanceId: 'replica-y' });
    channels.push(x, y);
    await waitFor(() => x.connected && y.connected, 'both channels connected');
    const onX: ControlMessage[] = [];
    const onY: ControlMessage[] = [];
    x.onMessage((m) => onX.push(m));
    y.onMessage((m) => onY.push(m));

    const swap: ControlMessage = {
      type: 'policy.swap',
      config: { policies: [{ type: 'noop' }] },
      version: 7,
      origin: x.instanceId,
    };
    await x.broadcast(swap);
    // Barrier: Y's broadcast is published after X's, so X would have received its own message before it.
    await y.broadcast({ type: 'policy.swap', config: { policies: [] }, version: 8, origin: y.instanceId });
    await waitFor(() => onX.length > 0 && onY.length > 0, 'the broadcasts');

    expect(onY).toEqual([swap]);
    expect(onX.map((m) => m.version)).toEqual([8]);
  });

  it('keeps the newest swap for replicas that start later, whatever order the replicas keep them in', async () => {
    const name = `warden:test:${randomUUID()}:control`;
    const x = new RedisControlChannel({ url: SHARED_REDIS, channel: name, instanceId: 'replica-x' });
    const y = new RedisControlChannel({ url: SHARED_REDIS, channel: name, instanceId: 'replica-y' });
    channels.push(x, y);
    await waitFor(() => x.connected && y.connected, 'both channels connected');
    const redis = new Redis(SHARED_REDIS);
    try {
      expect(await y.kept()).toBeUndefined();
      const swap = (seq: number, origin: string): ControlMessage => ({
        type: 'policy.swap',
        config: { policies: [{ type: 'noop', name: `n${seq}` }] },
        version: seq,
        origin,
        seq,
        base: 'b1',
      });
      await x.keep(swap(5, 'replica-x'));
      await y.keep(swap(3, 'replica-y'));
      expect(await y.kept()).toEqual(swap(5, 'replica-x'));
      await y.keep(swap(7, 'replica-y'));
      expect(await x.kept()).toEqual(swap(7, 'replica-y'));
      await expect(x.keep({ type: 'policy.swap', config: {}, version: 1, origin: 'x' })).rejects.toThrow(
        /sequence number/,
      );
      // Numbers as the sequence gives them (microseconds, 16 digits) compare exactly.
      const now = await x.nextSequence();
      await y.keep(swap(now + 1, 'replica-y'));
      await x.keep(swap(now, 'replica-x'));
      expect(await x.kept()).toEqual(swap(now + 1, 'replica-y'));
      await redis.hset(`${name}:policy`, 'message', 'not json');
      expect(await x.kept()).toBeUndefined();
    } finally {
      await redis.del(`${name}:policy`, `${name}:seq`);
      redis.disconnect();
    }
  });

  it('orders swaps with sequence numbers shared by the replicas, higher even after Redis lost its key', async () => {
    const name = `warden:test:${randomUUID()}:control`;
    const x = new RedisControlChannel({ url: SHARED_REDIS, channel: name, instanceId: 'replica-x' });
    const y = new RedisControlChannel({ url: SHARED_REDIS, channel: name, instanceId: 'replica-y' });
    channels.push(x, y);
    await waitFor(() => x.connected && y.connected, 'both channels connected');
    const concurrent = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? x : y).nextSequence()),
    );
    expect(new Set(concurrent).size).toBe(20);
    const highest = Math.max(...concurrent);
    const redis = new Redis(SHARED_REDIS);
    try {
      // A Redis restarted without persistence has lost the key: the clock keeps the numbers growing.
      expect(await redis.del(`${name}:seq`)).toBe(1);
      const after = await x.nextSequence();
      expect(after).toBeGreaterThan(highest);
      expect(Number.isSafeInteger(after)).toBe(true);
      // A caller holding a number ahead of the clock (a Redis host whose clock is behind) gets one above it.
      expect(await y.nextSequence(after + 10_000_000)).toBe(after + 10_000_001);

      const onY: ControlMessage[] = [];
      y.onMessage((m) => onY.push(m));
      await x.broadcast({ type: 'policy.swap', config: {}, version: 2, origin: x.instanceId, seq: after });
      await waitFor(() => onY.length > 0, 'the broadcast');
      expect(onY[0]?.seq).toBe(after);
    } finally {
      await redis.del(`${name}:seq`);
      redis.disconnect();
    }
  });
});
