import type {
  CallFilter,
  CallRecord,
  CallSummary,
  Page,
  SessionSummary,
  StoreItem,
} from '../conversation-store.port';
import { ConversationStore } from '../conversation-store.port';
import type { WardenEvent } from '../warden-event';
import { HistoryDisabledError } from './history-disabled.error';

/**
 * The store of a gateway that records no history (HISTORY_ENABLED=false): no database is opened, the publisher
 * sends events to the live bus only (it checks {@link enabled}), and every read is refused with
 * {@link HistoryDisabledError}. Nothing to reach, so `ping` succeeds.
 */
export class DisabledConversationStore extends ConversationStore {
  override readonly enabled = false;

  writeEvents(_events: readonly StoreItem[]): Promise<void> {
    return Promise.resolve();
  }

  listCalls(_filter: CallFilter): Promise<Page<CallSummary>> {
    return Promise.reject(new HistoryDisabledError());
  }

  getCall(_id: string): Promise<{ call: CallRecord; events: WardenEvent[] } | undefined> {
    return Promise.reject(new HistoryDisabledError());
  }

  listSessions(_filter: { limit: number; cursor?: string; q?: string }): Promise<Page<SessionSummary>> {
    return Promise.reject(new HistoryDisabledError());
  }

  getSession(_id: string): Promise<{ session: SessionSummary; calls: CallRecord[] } | undefined> {
    return Promise.reject(new HistoryDisabledError());
  }

  purgeOlderThan(_before: Date): Promise<number> {
    return Promise.resolve(0);
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }
}
