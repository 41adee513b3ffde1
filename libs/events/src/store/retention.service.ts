import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { errorMessage } from '@warden/observability';
import { ConversationStore } from '../conversation-store.port';
import { eventsConfig, type EventsConfig } from '../events.config';

/** How often old history is purged. */
export const RETENTION_INTERVAL_MS = 60 * 60 * 1000;
/** After a failed purge (database down), the next try comes this soon rather than an hour later. */
export const RETENTION_RETRY_MS = 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes calls older than HISTORY_RETENTION_DAYS (0: keeps everything): once at startup, then every hour. Runs
 * never overlap; failures are logged, never thrown; timers are unref'd and cleared at shutdown.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('HistoryRetention');
  private interval: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: ConversationStore,
    @Inject(eventsConfig.KEY) private readonly cfg: Pick<EventsConfig, 'retentionDays'>,
  ) {}

  onApplicationBootstrap(): void {
    if (this.cfg.retentionDays <= 0 || !this.store.enabled) return;
    this.interval = setInterval(() => void this.purge(), RETENTION_INTERVAL_MS);
    this.interval.unref();
    void this.purge();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.interval);
    clearTimeout(this.retry);
    this.interval = undefined;
    this.retry = undefined;
    await this.running;
  }

  /** One purge (a no-op while another runs); resolves when it is done, whatever the outcome. */
  purge(): Promise<void> {
    this.running ??= this.purgeOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async purgeOnce(): Promise<void> {
    const before = new Date(Date.now() - this.cfg.retentionDays * DAY_MS);
    try {
      const deleted = await this.store.purgeOlderThan(before);
      if (deleted > 0) {
        this.logger.log(`purged ${deleted} calls started before ${before.toISOString()} (with their events)`);
      } else {
        this.logger.debug(`nothing to purge before ${before.toISOString()}`);
      }
    } catch (error) {
      this.logger.warn(`history purge failed: ${errorMessage(error)}`);
      if (this.interval !== undefined && this.retry === undefined) {
        this.retry = setTimeout(() => {
          this.retry = undefined;
          void this.purge();
        }, RETENTION_RETRY_MS);
        this.retry.unref();
      }
    }
  }
}
