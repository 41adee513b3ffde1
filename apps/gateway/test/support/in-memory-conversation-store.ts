import {
  ConversationStore,
  type CallFilter,
  type CallRecord,
  type CallStatus,
  type CallSummary,
  type Page,
  type SessionSummary,
  type WardenEvent,
} from '@warden/events';

/**
 * A small in-memory {@link ConversationStore} for e2e tests of the history API and UI: builds call records from
 * events as the event contract describes (event-types.ts), idempotent per event id, newest-first cursor pages.
 */
export class InMemoryConversationStore extends ConversationStore {
  private readonly calls = new Map<string, CallRecord>();
  private readonly events = new Map<string, WardenEvent[]>();
  private readonly seen = new Set<string>();

  writeEvents(events: readonly WardenEvent[]): Promise<void> {
    for (const event of events) {
      if (this.seen.has(event.id) || event.callId === null) continue;
      this.seen.add(event.id);
      this.apply(event.callId, event);
    }
    return Promise.resolve();
  }

  listCalls(filter: CallFilter): Promise<Page<CallSummary>> {
    const q = filter.q?.toLowerCase();
    const calls = this.sorted().filter(
      (c) =>
        (filter.sessionId === undefined || c.sessionId === filter.sessionId) &&
        (filter.model === undefined || c.model === filter.model) &&
        (filter.status === undefined || c.status === filter.status) &&
        (filter.policyAction === undefined ||
          c.policyActions.some((a) => a === filter.policyAction || a.endsWith(`.${filter.policyAction}`))) &&
        (filter.from === undefined || c.startedAt >= filter.from) &&
        (filter.to === undefined || c.startedAt <= filter.to) &&
        (q === undefined || searchable(c).includes(q)),
    );
    const page = paginate(calls, filter.limit, filter.cursor, (c) => [c.startedAt, c.id]);
    return Promise.resolve({ items: page.items.map(summaryOf), nextCursor: page.nextCursor });
  }

  getCall(id: string): Promise<{ call: CallRecord; events: WardenEvent[] } | undefined> {
    const call = this.calls.get(id);
    return Promise.resolve(
      call === undefined ? undefined : { call, events: [...(this.events.get(id) ?? [])] },
    );
  }

  listSessions(filter: { limit: number; cursor?: string; q?: string }): Promise<Page<SessionSummary>> {
    const q = filter.q?.toLowerCase();
    const sessions = [...this.sessions().values()]
      .filter((s) => q === undefined || s.calls.some((c) => searchable(c).includes(q)))
      .map((s) => s.summary)
      .sort((a, b) => b.lastAt.localeCompare(a.lastAt) || b.id.localeCompare(a.id));
    return Promise.resolve(paginate(sessions, filter.limit, filter.cursor, (s) => [s.lastAt, s.id]));
  }

  getSession(id: string): Promise<{ session: SessionSummary; calls: CallRecord[] } | undefined> {
    const session = this.sessions().get(id);
    return Promise.resolve(
      session === undefined
        ? undefined
        : {
            session: session.summary,
            calls: [...session.calls].sort((a, b) => a.startedAt.localeCompare(b.startedAt)),
          },
    );
  }

  purgeOlderThan(before: Date): Promise<number> {
    let purged = 0;
    for (const [id, call] of this.calls) {
      if (call.startedAt < before.toISOString()) {
        this.calls.delete(id);
        this.events.delete(id);
        purged++;
      }
    }
    return Promise.resolve(purged);
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  private apply(callId: string, event: WardenEvent): void {
    const call = this.calls.get(callId) ?? newCall(callId, event);
    this.calls.set(callId, call);
    const list = this.events.get(callId) ?? [];
    list.push(event);
    this.events.set(callId, list);
    const d = event.data;
    const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
    switch (event.type) {
      case 'call.started':
        call.model = typeof d.model === 'string' ? d.model : call.model;
        call.provider = typeof d.provider === 'string' ? d.provider : null;
        call.clientFormat = typeof d.clientFormat === 'string' ? d.clientFormat : call.clientFormat;
        call.upstreamFormat = typeof d.upstreamFormat === 'string' ? d.upstreamFormat : null;
        call.stream = d.stream === true;
        call.keyId = typeof d.keyId === 'string' ? d.keyId : null;
        call.startedAt = event.at;
        break;
      case 'request.received':
        call.originalRequest = d.request ?? null;
        break;
      case 'request.forwarded':
        call.finalRequest = d.request ?? null;
        break;
      case 'response.first_token':
        call.firstTokenMs = num(d.firstTokenMs);
        break;
      case 'response.completed':
        call.originalResponse = d.original ?? null;
        call.finalResponse = d.final ?? null;
        break;
      case 'call.completed':
        call.status = 'completed';
        call.httpStatus = num(d.status);
        call.durationMs = num(d.durationMs);
        call.firstTokenMs = num(d.firstTokenMs) ?? call.firstTokenMs;
        call.inputTokens = num(d.inputTokens);
        call.outputTokens = num(d.outputTokens);
        call.completedAt = event.at;
        break;
      case 'call.failed':
        call.status = 'failed';
        call.error = typeof d.error === 'string' ? d.error : JSON.stringify(d.error ?? null);
        call.httpStatus = num(d.status) ?? call.httpStatus;
        call.completedAt = event.at;
        break;
      default:
        if (event.type.startsWith('policy.')) {
          const action = event.type.slice('policy.'.length);
          if (!call.policyActions.includes(action)) call.policyActions.push(action);
        }
    }
  }

  private sorted(): CallRecord[] {
    return [...this.calls.values()].sort(
      (a, b) => b.startedAt.localeCompare(a.startedAt) || b.id.localeCompare(a.id),
    );
  }

  private sessions(): Map<string, { summary: SessionSummary; calls: CallRecord[] }> {
    const out = new Map<string, { summary: SessionSummary; calls: CallRecord[] }>();
    for (const call of this.calls.values()) {
      const entry = out.get(call.sessionId) ?? {
        summary: {
          id: call.sessionId,
          firstAt: call.startedAt,
          lastAt: call.startedAt,
          callCount: 0,
          models: [],
        },
        calls: [],
      };
      entry.calls.push(call);
      entry.summary.callCount++;
      if (call.startedAt < entry.summary.firstAt) entry.summary.firstAt = call.startedAt;
      if (call.startedAt > entry.summary.lastAt) entry.summary.lastAt = call.startedAt;
      if (!entry.summary.models.includes(call.model)) entry.summary.models.push(call.model);
      out.set(call.sessionId, entry);
    }
    return out;
  }
}

function newCall(id: string, event: WardenEvent): CallRecord {
  return {
    id,
    sessionId: event.sessionId ?? id,
    keyId: null,
    clientFormat: 'anthropic',
    upstreamFormat: null,
    provider: null,
    model: 'unknown',
    stream: false,
    status: 'in_progress' satisfies CallStatus,
    httpStatus: null,
    startedAt: event.at,
    completedAt: null,
    firstTokenMs: null,
    durationMs: null,
    inputTokens: null,
    outputTokens: null,
    error: null,
    policyActions: [],
    originalRequest: null,
    finalRequest: null,
    originalResponse: null,
    finalResponse: null,
  };
}

function summaryOf(call: CallRecord): CallSummary {
  const { originalRequest: _a, finalRequest: _b, originalResponse: _c, finalResponse: _d, ...summary } = call;
  return summary;
}

function searchable(call: CallRecord): string {
  return JSON.stringify([
    call.originalRequest,
    call.finalRequest,
    call.originalResponse,
    call.finalResponse,
  ]).toLowerCase();
}

/** Newest-first keyset pagination: the cursor is the (time, id) of the last item served. */
function paginate<T>(
  items: T[],
  limit: number,
  cursor: string | undefined,
  key: (item: T) => [string, string],
): Page<T> {
  let start = 0;
  if (cursor !== undefined) {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    start = items.findIndex((item) => {
      const [t, i] = key(item);
      return t < at || (t === at && i < id);
    });
    if (start === -1) start = items.length;
  }
  const page = items.slice(start, start + limit);
  const last = page.at(-1);
  const more = start + limit < items.length;
  return {
    items: page,
    nextCursor:
      more && last !== undefined ? Buffer.from(JSON.stringify(key(last))).toString('base64url') : null,
  };
}
