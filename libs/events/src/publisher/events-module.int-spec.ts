/**
 * EventsModule wiring, booted with Nest against real backends: SQLite in memory for the history, and either the
 * in-process bus or a private redis-server (never the shared `warden:events` channel, which other tests may watch).
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { ConfigRootModule, type Env } from '@warden/config';
import { ControlChannel } from '../bus/control-channel';
import { EventBus } from '../bus/event-bus.port';
import { InProcessControlChannel } from '../bus/in-process-control-channel.adapter';
import { InProcessEventBus } from '../bus/in-process-event-bus.adapter';
import { RedisControlChannel } from '../bus/redis-control-channel.adapter';
import { RedisEventBus } from '../bus/redis-event-bus.adapter';
import { freePort, startRedis, stopRedis, waitFor } from '../bus/test/redis-test-support';
import { ConversationStore } from '../conversation-store.port';
import { EventPublisher } from '../event-publisher.port';
import { eventsConfig } from '../events.config';
import { EventsModule } from '../events.module';
import type { WardenEvent } from '../warden-event';
import { TrackedEventPublisher } from './tracked-event-publisher';

beforeAll(() => {
  Logger.overrideLogger(false);
});

async function boot(env: Env): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigRootModule.forRoot(env, [eventsConfig]), EventsModule],
  }).compile();
  moduleRef.enableShutdownHooks();
  return moduleRef.init();
}

function callStarted(callId: string): WardenEvent {
  return {
    id: randomUUID(),
    callId,
    sessionId: `session-${callId}`,
    type: 'call.started',
    at: new Date().toISOString(),
    instance: 'module-test',
    data: {
      model: 'mock-model',
      provider: 'mock',
      clientFormat: 'anthropic',
      upstreamFormat: 'anthropic',
      stream: false,
      keyId: null,
      headers: { authorization: 'Bearer sk-ant-api03-CANARYmoduletest' },
    },
  };
}

/** Publishes through the app's EventPublisher and waits until the history has the call and a listener saw it. */
async function publishAndRead(moduleRef: TestingModule): Promise<void> {
  const publisher = moduleRef.get(EventPublisher);
  const store = moduleRef.get(ConversationStore);
  const seen: WardenEvent[] = [];
  const stop = publisher.subscribe((e) => seen.push(e));
  const callId = randomUUID();
  publisher.publish(callStarted(callId));
  await waitFor(() => seen.some((e) => e.callId === callId), 'the live event');
  let stored: Awaited<ReturnType<ConversationStore['getCall']>>;
  const deadline = Date.now() + 10_000;
  do {
    await moduleRef.get(TrackedEventPublisher).flush();
    stored = await store.getCall(callId).catch(() => undefined);
  } while (stored === undefined && Date.now() < deadline);
  stop();
  expect(stored?.call.model).toBe('mock-model');
  expect(JSON.stringify(stored?.events)).not.toContain('CANARY');
  expect(JSON.stringify(seen)).not.toContain('CANARY');
}

describe('EventsModule', () => {
  it('without REDIS_URL: in-process bus and control channel, tracked publisher over the store', async () => {
    const moduleRef = await boot({ DATABASE_URL: 'sqlite::memory:' });
    try {
      expect(moduleRef.get(EventBus)).toBeInstanceOf(InProcessEventBus);
      expect(moduleRef.get(ControlChannel)).toBeInstanceOf(InProcessControlChannel);
      expect(moduleRef.get(EventPublisher)).toBe(moduleRef.get(TrackedEventPublisher));
      await publishAndRead(moduleRef);
      expect(moduleRef.get(TrackedEventPublisher).stats()).toMatchObject({ queued: 0, dropped: 0 });
    } finally {
      await moduleRef.close();
    }
  });

  it('writes every queued event to the history when the app shuts down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-events-'));
    const env = {
      DATABASE_URL: `sqlite:${join(dir, 'history.db')}`,
      EVENT_FLUSH_MS: '60000',
      EVENT_BATCH_SIZE: '50',
    };
    try {
      const first = await boot(env);
      const callIds = Array.from({ length: 120 }, () => randomUUID());
      for (const callId of callIds) first.get(EventPublisher).publish(callStarted(callId));
      await first.close(); // no flush before: the shutdown hooks must write them
      expect(first.get(TrackedEventPublisher).stats()).toMatchObject({ queued: 0, dropped: 0 });

      const second = await boot(env);
      try {
        const store = second.get(ConversationStore);
        let page: Awaited<ReturnType<ConversationStore['listCalls']>> = { items: [], nextCursor: null };
        const deadline = Date.now() + 10_000;
        do {
          page = await store.listCalls({ limit: 200 }).catch(() => page);
        } while (page.items.length === 0 && Date.now() < deadline);
        expect(page.items.map((c) => c.id).sort()).toEqual([...callIds].sort());
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('with REDIS_URL', () => {
    let server: ChildProcess | undefined;
    afterEach(async () => {
      await stopRedis(server);
    });

    it('uses Redis for the bus and the control channel, and closes them on shutdown', async () => {
      const port = await freePort();
      server = await startRedis(port);
      const moduleRef = await boot({
        DATABASE_URL: 'sqlite::memory:',
        REDIS_URL: `redis://127.0.0.1:${port}`,
      });
      const bus = moduleRef.get(EventBus);
      const control = moduleRef.get(ControlChannel);
      try {
        expect(bus).toBeInstanceOf(RedisEventBus);
        expect(control).toBeInstanceOf(RedisControlChannel);
        await waitFor(() => bus.status().connected, 'the bus to connect');
        await publishAndRead(moduleRef);
      } finally {
        await moduleRef.close();
      }
      expect(bus.status().connected).toBe(false);
      await expect(
        control.broadcast({ type: 'policy.swap', config: {}, version: 1, origin: control.instanceId }),
      ).rejects.toThrow();
    });
  });
});
