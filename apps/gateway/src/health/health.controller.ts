import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ConversationStore, EventBus, TrackedEventPublisher } from '@warden/events';
import type { Response } from 'express';

/** How long the database check may take before it counts as down. */
const DATABASE_CHECK_MS = 2000;

/** Overall state: `degraded` means serving calls with an optional part impaired (history, live bus). */
type Overall = 'ok' | 'degraded';

/**
 * Liveness and dependency health. Calls never depend on the database or Redis (events wait in a bounded queue),
 * so those being down makes the gateway `degraded`, not down.
 */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(ConversationStore) private readonly store: ConversationStore,
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(TrackedEventPublisher) private readonly publisher: TrackedEventPublisher,
  ) {}

  /** The process answers. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Every dependency, with `status` ok | degraded (HTTP 200 either way: the gateway serves). */
  @Get()
  async health(@Res({ passthrough: true }) res: Response): Promise<Record<string, unknown>> {
    const database = await this.database();
    const bus = this.bus.status();
    const events = this.publisher.stats();
    const degraded = database.status !== 'up' || !bus.connected;
    const overall: Overall = degraded ? 'degraded' : 'ok';
    res.setHeader('cache-control', 'no-store');
    return {
      status: overall,
      checks: { database, bus: { status: bus.connected ? 'up' : 'down', ...bus }, events },
    };
  }

  private async database(): Promise<{ status: 'up' | 'down'; error?: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${DATABASE_CHECK_MS} ms`)),
        DATABASE_CHECK_MS,
      );
    });
    try {
      await Promise.race([this.store.ping(), timeout]);
      return { status: 'up' };
    } catch (error) {
      return { status: 'down', error: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}
