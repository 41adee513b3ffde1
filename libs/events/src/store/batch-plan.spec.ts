import fc from 'fast-check';
import { EVENT_TYPES } from '../event-types';
import { planBatch } from './batch-plan';
import { MAX_EVENTS_PER_CALL, type CallState, type NewCall, type StorableEvent } from './call-row.mapper';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

/** A `calls` table in memory, written the way both writers carry a plan out. */
class MemoryCalls {
  readonly rows = new Map<string, NewCall>();
  readonly sessions = new Map<string, number>();

  write(batch: readonly StorableEvent[]): ReturnType<typeof planBatch> {
    // The writers read stored rows back from the database: hand out copies, never the stored objects.
    const plan = planBatch(batch, (id) => this.read(id), new Date(T0).toISOString());
    for (const [id, delta] of plan.sessions)
      this.sessions.set(id, (this.sessions.get(id) ?? 0) + delta.callCount);
    for (const row of plan.created.values()) this.rows.set(row.id, structuredClone(row));
    for (const [id, patch] of plan.patches) {
      const row = this.rows.get(id);
      if (row !== undefined) Object.assign(row, structuredClone(patch));
    }
    return plan;
  }

  private read(id: string): CallState | undefined {
    const row = this.rows.get(id);
    if (row === undefined) return undefined;
    const { originalRequest, finalRequest, originalResponse, finalResponse, ...state } = structuredClone(row);
    void [originalRequest, finalRequest, originalResponse, finalResponse];
    return state;
  }
}

function event(callId: string, n: number, type: string, data: Record<string, unknown> = {}): StorableEvent {
  return {
    id: `${callId}-${n}`,
    callId,
    ...(callId.startsWith('a') ? { sessionId: 'shared' } : {}),
    type,
    at: new Date(T0 + n).toISOString(),
    instance: 'host:1',
    data,
  };
}

/** The events one call publishes, in order. */
function lifecycle(callId: string, policyEvents: number, failed: boolean): StorableEvent[] {
  const events = [
    event(callId, 0, EVENT_TYPES.callStarted, { model: `m-${callId}`, clientFormat: 'openai' }),
    event(callId, 1, EVENT_TYPES.requestReceived, { request: { model: 'm', messages: [] } }),
    event(callId, 2, EVENT_TYPES.requestForwarded, { format: 'openai', unchanged: true }),
  ];
  for (let i = 0; i < policyEvents; i++)
    events.push(event(callId, 3 + i, `policy.judge.rated${i % 2}`, { i }));
  const n = 3 + policyEvents;
  events.push(
    event(callId, n, EVENT_TYPES.responseCompleted, { original: { content: [] }, unchanged: true }),
  );
  events.push(
    failed
      ? event(callId, n + 1, EVENT_TYPES.callFailed, { error: 'upstream reset' })
      : event(callId, n + 1, EVENT_TYPES.callCompleted, { status: 200, durationMs: 5 }),
  );
  return events;
}

const calls = fc.array(fc.record({ policyEvents: fc.nat({ max: 4 }), failed: fc.boolean() }), {
  minLength: 1,
  maxLength: 5,
});

/** The calls' events interleaved in some order (each call's own order kept or not), cut into batches. */
const scenario = calls.chain((specs) => {
  const all = specs.flatMap((s, i) => lifecycle(`${i % 2 === 0 ? 'a' : 'b'}${i}`, s.policyEvents, s.failed));
  return fc.record({
    events: fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
    cuts: fc.array(fc.nat({ max: all.length }), { maxLength: 6 }),
  });
});

function batches(events: StorableEvent[], cuts: number[]): StorableEvent[][] {
  const points = [...new Set([0, ...cuts, events.length])].sort((a, b) => a - b);
  return points.slice(1).map((end, i) => events.slice(points[i], end));
}

describe('planBatch', () => {
  it('records the same calls, however the events are ordered within a batch and re-delivered', () => {
    fc.assert(
      fc.property(scenario, ({ events }) => {
        const once = new MemoryCalls();
        once.write(events);
        const twice = new MemoryCalls();
        twice.write(events);
        // A whole re-delivered batch changes nothing.
        const again = twice.write(events);
        expect(again.created.size + again.patches.size).toBe(0);
        expect(twice.rows).toEqual(once.rows);
        expect(twice.sessions).toEqual(once.sessions);
        for (const row of once.rows.values()) {
          expect(row.status).not.toBe('in_progress');
          // Each event once, whatever the order of the batch; every payload in its column.
          const ids = events.filter((e) => e.callId === row.id).map((e) => e.id);
          expect(row.events.map((e) => e.id).sort()).toEqual([...ids].sort());
          expect(row.originalRequest).toEqual({ model: 'm', messages: [] });
          expect(row.originalResponse).toEqual({ content: [] });
        }
      }),
    );
  });

  it('keeps events across batches; skips events of calls whose start is in no batch so far', () => {
    fc.assert(
      fc.property(scenario, ({ events, cuts }) => {
        const store = new MemoryCalls();
        const skipped = new Set<string>();
        const started = new Set<string>();
        for (const batch of batches(events, cuts)) {
          for (const e of batch) if (e.type === EVENT_TYPES.callStarted) started.add(e.callId);
          for (const e of batch) if (!started.has(e.callId)) skipped.add(e.id);
          expect(store.write(batch).skipped).toBe(batch.filter((e) => skipped.has(e.id)).length);
        }
        for (const row of store.rows.values()) {
          const kept = events.filter((e) => e.callId === row.id && !skipped.has(e.id)).map((e) => e.id);
          expect(row.events.map((e) => e.id).sort()).toEqual([...kept].sort());
          // Sessions count each call once, whichever batch started it.
          expect(store.sessions.get(row.sessionId)).toBe(
            [...store.rows.values()].filter((r) => r.sessionId === row.sessionId).length,
          );
        }
      }),
    );
  });

  it('ignores any re-delivered slice of events already stored', () => {
    fc.assert(
      fc.property(scenario, fc.nat(), fc.nat(), ({ events }, a, b) => {
        const store = new MemoryCalls();
        store.write(events);
        const before = structuredClone(store.rows);
        const [from, to] = [a % (events.length + 1), b % (events.length + 1)].sort((x, y) => x - y);
        const again = store.write(events.slice(from, to));
        expect(again.created.size + again.patches.size + again.sessions.size).toBe(0);
        expect(store.rows).toEqual(before);
      }),
    );
  });

  it('keeps a full call as it is: events over the limit change its columns only, and only once', () => {
    const store = new MemoryCalls();
    const many = Array.from({ length: MAX_EVENTS_PER_CALL + 4 }, (_, i) =>
      event('a1', 10 + i, i === MAX_EVENTS_PER_CALL + 2 ? 'policy.judge.late' : 'policy.judge.rated'),
    );
    store.write([...lifecycle('a1', 0, false).slice(0, 3), ...many.slice(0, MAX_EVENTS_PER_CALL)]);
    const tail = many.slice(MAX_EVENTS_PER_CALL);
    const first = store.write(tail);
    // The new action is recorded in the column; the events stay as they were (no rewrite of a full list).
    expect(first.patches.get('a1')).toEqual({ policyActions: '|judge.rated|judge.late|' });
    expect(store.write(tail).patches.size).toBe(0);
    const end = store.write([event('a1', 5_000, EVENT_TYPES.callCompleted, { status: 200 })]);
    expect(end.patches.get('a1')?.status).toBe('completed');
    expect(store.rows.get('a1')?.events.at(-1)?.type).toBe(EVENT_TYPES.callCompleted);
    expect(store.rows.get('a1')?.events).toHaveLength(MAX_EVENTS_PER_CALL + 1);
  });

  it('looks each call up once per batch and leaves the stored objects alone', () => {
    const store = new MemoryCalls();
    store.write(lifecycle('a1', 0, false).slice(0, 3));
    const lookups: string[] = [];
    const stored = store.rows.get('a1');
    const plan = planBatch(lifecycle('a1', 2, false).slice(3), (id) => {
      lookups.push(id);
      return id === 'a1' && stored !== undefined ? structuredClone(stored) : undefined;
    });
    expect(lookups).toEqual(['a1']);
    expect(plan.created.size).toBe(0);
    expect(plan.patches.get('a1')).toMatchObject({
      status: 'completed',
      policyActions: '|judge.rated0|judge.rated1|',
    });
    expect(plan.patches.get('a1')?.events?.map((e) => e.type)).toEqual([
      'call.started',
      'request.received',
      'request.forwarded',
      'policy.judge.rated0',
      'policy.judge.rated1',
      'response.completed',
      'call.completed',
    ]);
    expect(stored?.events).toHaveLength(3);
  });
});
