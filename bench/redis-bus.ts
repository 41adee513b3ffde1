import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { RedisEventBus, type WardenEvent } from '@warden/events';

/** Events sent through the bus in one measurement. */
const EVENTS = 50_000;
/** Events per `publish` call: what the tracked publisher hands the bus per tick under load. */
const BATCH = 100;
/** Payload of each event: about the size of a `call.completed` or trimmed `response.completed` event. */
const PAYLOAD = 'x'.repeat(600);
/** Longest wait for the last event to arrive. */
const TIMEOUT_MS = 60_000;

/** Throughput and delivery latency of the Redis event bus between two replicas. */
export interface RedisBusResult {
  events: number;
  batch: number;
  eventBytes: number;
  seconds: number;
  eventsPerSecond: number;
  /** ms from `publish` on replica A to delivery on replica B, per batch. */
  latencyMs: { p50: number; p99: number; max: number };
  lost: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function event(instance: string, seq: number): WardenEvent {
  return {
    id: randomUUID(),
    callId: `bench-${seq >> 3}`,
    type: 'call.completed',
    at: new Date().toISOString(),
    instance,
    data: { seq, status: 200, durationMs: 1.5, note: PAYLOAD },
  };
}

/**
 * Two `RedisEventBus` instances with different replica ids on one channel: A publishes {@link EVENTS} events in
 * batches as fast as Redis takes them, B counts what it receives. Measures end-to-end events per second and the
 * publish-to-delivery latency of each batch under that load.
 */
export async function measureRedisBus(url: string): Promise<RedisBusResult> {
  Logger.overrideLogger(['error']);
  const channel = `warden:bench:${randomUUID()}`;
  const a = new RedisEventBus({ url, channel, instanceId: 'bench-a' });
  const b = new RedisEventBus({ url, channel, instanceId: 'bench-b' });
  try {
    const sentAt = new Map<number, number>();
    const latencies: number[] = [];
    let received = 0;
    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    b.subscribe((e) => {
      received++;
      const seq = Number((e.data as { seq: number }).seq);
      if (seq % BATCH === 0) {
        const at = sentAt.get(seq);
        if (at !== undefined) latencies.push(performance.now() - at);
      }
      if (received === EVENTS) resolveDone();
    });
    const ready = Date.now() + 10_000;
    while (!(a.status().connected && b.status().connected)) {
      if (Date.now() > ready) throw new Error('Redis bus did not connect');
      await new Promise((r) => setTimeout(r, 20));
    }
    // The subscription is live once a probe makes the round trip.
    await new Promise((r) => setTimeout(r, 200));
    const started = performance.now();
    for (let seq = 0; seq < EVENTS; seq += BATCH) {
      const batch: WardenEvent[] = [];
      for (let i = seq; i < seq + BATCH; i++) batch.push(event('bench-a', i));
      sentAt.set(seq, performance.now());
      await a.publish(batch);
    }
    await Promise.race([done, new Promise((r) => setTimeout(r, TIMEOUT_MS))]);
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((x, y) => x - y);
    return {
      events: EVENTS,
      batch: BATCH,
      eventBytes: JSON.stringify(event('bench-a', 0)).length,
      seconds: Math.round(seconds * 1000) / 1000,
      eventsPerSecond: Math.round(received / seconds),
      latencyMs: {
        p50: Math.round(percentile(latencies, 50) * 100) / 100,
        p99: Math.round(percentile(latencies, 99) * 100) / 100,
        max: Math.round((latencies.at(-1) ?? 0) * 100) / 100,
      },
      lost: EVENTS - received,
    };
  } finally {
    await a.close();
    await b.close();
  }
}
