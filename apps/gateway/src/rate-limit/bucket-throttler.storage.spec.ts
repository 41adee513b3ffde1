import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import {
  BucketThrottlerStorage,
  openRateLimitRedis,
  REDIS_COMMAND_TIMEOUT_MS,
  REDIS_COOLDOWN_MS,
  secondsCeil,
} from './bucket-throttler.storage';

/** A logger that keeps what it was told, by level. */
class RecordingLogger {
  readonly warnings: string[] = [];
  readonly lines: string[] = [];

  warn(message: string): void {
    this.warnings.push(message);
  }

  log(message: string): void {
    this.lines.push(message);
  }

  error(message: string): void {
    this.lines.push(message);
  }
}

function recordingLogger(): RecordingLogger {
  return new RecordingLogger();
}

describe('BucketThrottlerStorage', () => {
  it('answers the ThrottlerGuard with limit as capacity and ttl as the time to refill it', async () => {
    let now = 0;
    const storage = new BucketThrottlerStorage(undefined, 'p:', recordingLogger(), () => now);
    const records = [];
    for (let i = 0; i < 4; i++) records.push(await storage.increment('k', 3000, 3));
    expect(records.map((r) => [r.totalHits, r.isBlocked])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [3, true],
    ]);
    expect(records[3]).toMatchObject({ timeToExpire: 3, timeToBlockExpire: 1 });
    now = 1_000_000;
    expect(await storage.increment('k', 3000, 3)).toMatchObject({ totalHits: 3, isBlocked: false });
  });

  it('rounds durations up to whole seconds', () => {
    expect([0, 1, 999_999, 1_000_000, 1_000_001].map(secondsCeil)).toEqual([0, 1, 1, 1, 2]);
  });

  it('serves from memory while Redis is unreachable, warning once', async () => {
    // A port that accepts nothing: bound, then closed.
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    server.close();
    const logger = recordingLogger();
    const storage = new BucketThrottlerStorage(openRateLimitRedis(`redis://127.0.0.1:${port}`), 'p:', logger);
    await storage.onModuleInit();
    const rule = { interval: 60_000_000, capacity: 2 };
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await storage.take('k', rule));
    expect(outcomes.map((o) => o.allowed)).toEqual([true, true, false]);
    expect(storage.isDegraded).toBe(true);
    expect(logger.warnings).toEqual([expect.stringContaining('Rate limiting degraded')]);
    await storage.onApplicationShutdown();
  });

  it('pays one timeout, not one per request, when Redis hangs with the connection open', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    server.close();
    await once(server, 'close');
    const redis = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    const logger = recordingLogger();
    const storage = new BucketThrottlerStorage(openRateLimitRedis(`redis://127.0.0.1:${port}`), 'p:', logger);
    try {
      for (
        let i = 0;
        i < 50 &&
        !(await storage.take('warmup', { interval: 1, capacity: 1 }).then(() => !storage.isDegraded));
        i++
      ) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(storage.isDegraded).toBe(false);
      const rule = { interval: 60_000_000, capacity: 100 };
      redis.kill('SIGSTOP');
      const started = Date.now();
      for (let i = 0; i < 20; i++) expect((await storage.take('k', rule)).allowed).toBe(true);
      const elapsed = Date.now() - started;
      // The first request waits for the command timeout; the next ones go straight to memory.
      expect(elapsed).toBeGreaterThanOrEqual(REDIS_COMMAND_TIMEOUT_MS - 20);
      expect(elapsed).toBeLessThan(REDIS_COMMAND_TIMEOUT_MS * 3);
      expect(storage.isDegraded).toBe(true);
      redis.kill('SIGCONT');
      await new Promise((r) => setTimeout(r, REDIS_COOLDOWN_MS + 100));
      await storage.take('k', rule);
      expect(storage.isDegraded).toBe(false);
    } finally {
      redis.kill('SIGCONT');
      await storage.onApplicationShutdown();
      redis.kill('SIGKILL');
    }
  });
});
