import { Logger } from '@nestjs/common';
import type { ConversationStore } from '../conversation-store.port';
import { RETENTION_INTERVAL_MS, RETENTION_RETRY_MS, RetentionService } from './retention.service';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('RetentionService', () => {
  let purgeOlderThan: jest.Mock<Promise<number>, [Date]>;
  let store: ConversationStore;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-03-01T00:00:00.000Z') });
    purgeOlderThan = jest.fn<Promise<number>, [Date]>().mockResolvedValue(3);
    store = { enabled: true, purgeOlderThan } as unknown as ConversationStore;
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('purges once at start, then every hour, calls older than the retention', async () => {
    const service = new RetentionService(store, { retentionDays: 30 });
    service.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
    expect(purgeOlderThan).toHaveBeenCalledTimes(1);
    expect(purgeOlderThan.mock.calls[0]?.[0]).toEqual(
      new Date(Date.parse('2026-03-01T00:00:00.000Z') - 30 * DAY_MS),
    );
    await jest.advanceTimersByTimeAsync(RETENTION_INTERVAL_MS);
    expect(purgeOlderThan).toHaveBeenCalledTimes(2);
    await service.onApplicationShutdown();
    await jest.advanceTimersByTimeAsync(RETENTION_INTERVAL_MS * 3);
    expect(purgeOlderThan).toHaveBeenCalledTimes(2);
  });

  it('keeps history forever when the retention is 0', async () => {
    const service = new RetentionService(store, { retentionDays: 0 });
    service.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(RETENTION_INTERVAL_MS * 2);
    expect(purgeOlderThan).not.toHaveBeenCalled();
    await service.onApplicationShutdown();
  });

  it('does nothing when history is disabled', async () => {
    const disabled = { enabled: false, purgeOlderThan } as unknown as ConversationStore;
    const service = new RetentionService(disabled, { retentionDays: 30 });
    service.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(RETENTION_INTERVAL_MS * 2);
    expect(purgeOlderThan).not.toHaveBeenCalled();
    await service.onApplicationShutdown();
  });

  it('logs a failure, never throws, and retries soon', async () => {
    purgeOlderThan.mockRejectedValueOnce(new Error('database down'));
    const service = new RetentionService(store, { retentionDays: 7 });
    service.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
    expect(purgeOlderThan).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(RETENTION_RETRY_MS);
    expect(purgeOlderThan).toHaveBeenCalledTimes(2);
    await service.onApplicationShutdown();
  });

  it('never runs two purges at once', async () => {
    let finish: (n: number) => void = () => undefined;
    purgeOlderThan.mockReturnValueOnce(new Promise<number>((resolve) => (finish = resolve)));
    const service = new RetentionService(store, { retentionDays: 1 });
    const first = service.purge();
    const second = service.purge();
    expect(purgeOlderThan).toHaveBeenCalledTimes(1);
    finish(2);
    await Promise.all([first, second]);
    await service.purge();
    expect(purgeOlderThan).toHaveBeenCalledTimes(2);
  });
});
