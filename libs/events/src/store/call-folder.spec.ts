import fc from 'fast-check';
import { PackedEvent } from '../conversation-store.port';
import { EVENT_TYPES } from '../event-types';
import { planBatch } from './batch-plan';
import { CallFolder, FoldedEvent, MAX_FOLDING } from './call-folder';
import { type CallState, MAX_EVENTS_PER_CALL, type StorableEvent } from './call-row.mapper';
import { storedValuesOf, WIRE_CALL_FIELDS, type WireCall } from './store-writer.protocol';

/** A stored row as plain JSON data (payloads and events parsed), for comparisons. */
type Row = Record<string, unknown>;

/**
 * A history in memory that behaves as the writers do: folded rows are inserted unless stored already (and then
 * count in their session), other events go through the batch plan (found calls patched, unknown ones skipped).
 */
class MemoryHistory {
  readonly rows = new Map<string, Row>();
  readonly sessionCalls = new Map<string, number>();

  write(calls: readonly WireCall[], events: readonly StorableEvent[]): void {
    for (const wire of calls) {
      const row = rowOf(wire);
      const id = String(row['id']);
      if (this.rows.has(id)) continue;
      this.rows.set(id, row);
      this.count(String(row['sessionId']));
    }
    const plan = planBatch(events, (id) => this.rows.get(id) as CallState | undefined);
    for (const [id, created] of plan.created) {
      this.rows.set(id, plain(created));
      this.count(created.sessionId);
    }
    for (const [id, patch] of plan.patches) Object.assign(this.rows.get(id) ?? {}, plain(patch));
  }

  private count(session: string): void {
    this.sessionCalls.set(session, (this.sessionCalls.get(session) ?? 0) + 1);
  }
}

/** A wire row as a row: JSON columns parsed. */
function rowOf(wire: WireCall): Row {
  const values = storedValuesOf(structuredClone(wire));
  const row: Row = {};
  WIRE_CALL_FIELDS.forEach((field, i) => {
    const value = values[i];
    const json = field === 'events' || field.endsWith('Request') || field.endsWith('Response');
    row[field] = json && typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  });
  return row;
}

function plain<T>(value: T): Row {
  return JSON.parse(JSON.stringify(value)) as Row;
}

const at = (ms: number): string => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();

const payload = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  // Large enough to travel as the bytes it was parsed from, had it been parsed from bytes.
  fc.string({ minLength: 0, maxLength: 40 }).map((text) => ({ messages: [{ role: 'user', content: text }] })),
);

/** What can happen on a call after it started (in publish order), before and after its end. */
const step = fc.oneof(
  payload.map((request) => ({ type: EVENT_TYPES.requestReceived, data: { request } })),
  fc.oneof(
    payload.map((request) => ({ type: EVENT_TYPES.requestForwarded, data: { request, format: 'openai' } })),
    fc.constant({ type: EVENT_TYPES.requestForwarded, data: { format: 'anthropic', unchanged: true } }),
  ),
  fc.nat(5000).map((ms) => ({ type: EVENT_TYPES.firstToken, data: { firstTokenMs: ms } })),
  fc.constantFrom('policy.judge.blocked', 'policy.judge.allowed', 'policy.regex.redacted').map((type) => ({
    type,
    data: { tool: 'bash' },
  })),
  fc.tuple(payload, fc.boolean()).map(([original, unchanged]) => ({
    type: EVENT_TYPES.responseCompleted,
    data: unchanged ? { original, unchanged: true } : { original, final: { edited: original } },
  })),
  fc.record({ status: fc.constantFrom(200, 400, 529), durationMs: fc.nat(9000) }).map((data) => ({
    type: EVENT_TYPES.callCompleted,
    data: { ...data, inputTokens: 3, outputTokens: 4 },
  })),
  fc.constantFrom('upstream said no', 'client_aborted').map((error) => ({
    type: EVENT_TYPES.callFailed,
    data: { error },
  })),
);

/** The events of a few calls, interleaved, each started first; some published twice (a re-delivery). */
const publications = fc
  .array(
    fc.record({
      session: fc.option(fc.constantFrom('s1', 's2'), { nil: undefined }),
      steps: fc.array(step, { maxLength: 8 }),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .chain((calls) => {
    const perCall = calls.map(({ session, steps }, c) => {
      const callId = `call-${c}`;
      const base = { callId, instance: 'host:1', ...(session === undefined ? {} : { sessionId: session }) };
      const started: StorableEvent = {
        ...base,
        id: `${callId}-start`,
        type: EVENT_TYPES.callStarted,
        at: at(c),
        data: { model: `m${c % 2}`, provider: 'p', clientFormat: 'openai', stream: c % 2 === 0, keyId: null },
      };
      return [
        started,
        ...steps.map((s, i): StorableEvent => ({
          ...base,
          id: `${callId}-${i}`,
          at: at(c + 10 * (i + 1)),
          ...s,
        })),
      ];
    });
    const total = perCall.reduce((n, events) => n + events.length, 0);
    // Which call publishes next, and which published events are published again.
    return fc.tuple(
      fc.constant(perCall),
      fc.shuffledSubarray(
        perCall.flatMap((events, c) => events.map(() => c)),
        { minLength: total, maxLength: total },
      ),
      fc.array(fc.nat(total - 1), { maxLength: 3 }),
    );
  })
  .map(([perCall, order, again]) => {
    const next = perCall.map(() => 0);
    const published: StorableEvent[] = [];
    for (const c of order) {
      const event = perCall[c]?.[next[c] ?? 0];
      next[c] = (next[c] ?? 0) + 1;
      if (event !== undefined) published.push(event);
    }
    for (const i of again) {
      const event = published[i];
      if (event !== undefined) published.splice(i + 1 + (i % 3), 0, event);
    }
    return published;
  });

/** After each publication: how many queued items a batch takes then (0: none), and whether that write fails. */
const writes = fc.array(fc.record({ take: fc.nat(6), fails: fc.nat(4).map((n) => n === 0) }), {
  maxLength: 40,
});

describe('CallFolder', () => {
  it('writes every call as writing its events one by one does, whatever the batches and failed writes', () => {
    fc.assert(
      fc.property(publications, writes, (events, plan) => {
        const folder = new CallFolder();
        const history = new MemoryHistory();
        let queue: Array<FoldedEvent | StorableEvent> = [];
        const write = (items: Array<FoldedEvent | StorableEvent>, fails: boolean): boolean => {
          const calls = folder.rowsOf(items);
          if (fails) return false;
          history.write(
            calls,
            items.filter((i): i is StorableEvent => !(i instanceof PackedEvent)),
          );
          folder.written(items);
          return true;
        };
        events.forEach((event, i) => {
          queue.push(folder.fold(event) ?? event);
          const { take, fails } = plan[i] ?? { take: 0, fails: false };
          if (take === 0) return;
          const batch = queue.slice(0, take);
          // A failed batch stays in front of the queue and is written again, whole, with the next.
          if (write(batch, fails)) queue = queue.slice(batch.length);
        });
        write(queue, false);

        const reference = planBatch(events, () => undefined);
        expect(new Set(history.rows.keys())).toEqual(new Set(reference.created.keys()));
        for (const [id, row] of reference.created) expect(history.rows.get(id)).toEqual(plain(row));
        const sessions = new Map<string, number>();
        for (const row of reference.created.values())
          sessions.set(row.sessionId, (sessions.get(row.sessionId) ?? 0) + 1);
        expect(history.sessionCalls).toEqual(sessions);
        expect(folder.size).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  const started = (callId: string): StorableEvent => ({
    id: `${callId}-start`,
    callId,
    type: EVENT_TYPES.callStarted,
    at: at(0),
    instance: 'host:1',
    data: { model: 'm' },
  });
  const completed = (callId: string): StorableEvent => ({
    ...started(callId),
    id: `${callId}-end`,
    type: EVENT_TYPES.callCompleted,
    data: { status: 200, durationMs: 3 },
  });

  it('takes a row as its text when the call ends, and sizes each item by what it added', () => {
    const folder = new CallFolder();
    const request = { model: 'm', messages: [{ role: 'user', content: 'x'.repeat(500) }] };
    const items = [
      folder.fold(started('c')),
      folder.fold({ ...started('c'), id: 'r', type: EVENT_TYPES.requestReceived, data: { request } }),
    ];
    expect(folder.size).toBe(1);
    expect(items[1]?.size).toBeGreaterThan(JSON.stringify(request).length);
    items.push(folder.fold(completed('c')));
    // Ended: no longer folding; the next event of the call is not folded (it patches the stored row).
    expect(folder.size).toBe(0);
    expect(folder.fold({ ...completed('c'), id: 'late', type: 'policy.judge.allowed' })).toBeUndefined();
    const [row] = folder.rowsOf(items);
    expect(row?.every((v) => typeof v !== 'object' || v === null || v instanceof Uint8Array)).toBe(true);
    expect(rowOf(row ?? [])).toMatchObject({ id: 'c', status: 'completed', originalRequest: request });
    // The same row again until its batch is written, then never.
    expect(folder.rowsOf(items)).toEqual([row]);
    folder.written(items);
    expect(folder.rowsOf(items)).toEqual([]);
  });

  it('does not fold events before their call started, and stops folding the oldest call when full', () => {
    const folder = new CallFolder(2);
    expect(folder.fold(completed('early'))).toBeUndefined();
    const a = folder.fold(started('a'));
    folder.fold(started('b'));
    folder.fold(started('c'));
    expect(folder.size).toBe(2);
    // `a` is no longer folding, but its queued start still writes its row.
    expect(folder.fold(completed('a'))).toBeUndefined();
    expect(folder.rowsOf([a]).map((r) => r[0])).toEqual(['a']);
    expect(MAX_FOLDING).toBeGreaterThan(1000);
  });

  it('leaves a row as it was when an event cannot be serialized, and a row that cannot be out of every batch', () => {
    const folder = new CallFolder();
    const start = folder.fold(started('c'));
    // Redacted events are plain JSON; a bigint stands for whatever JSON.stringify would refuse.
    const unserializable = {
      ...started('c'),
      id: 'r',
      type: EVENT_TYPES.requestReceived,
      data: { request: 1n },
    };
    expect(() => folder.fold(unserializable as unknown as StorableEvent)).toThrow(TypeError);
    expect(rowOf(folder.rowsOf([start])[0] ?? [])).toMatchObject({
      originalRequest: null,
      events: [{ id: 'c-start' }],
    });

    const broken = folder.fold({
      ...started('b'),
      data: { model: 'm', size: 1n },
    });
    expect(() => folder.fold(completed('b'))).toThrow(TypeError);
    const lost: string[] = [];
    expect(folder.rowsOf([broken], (id) => lost.push(id))).toEqual([]);
    expect(lost).toEqual(['b']);
    expect(folder.rowsOf([broken])).toEqual([]);
    expect(folder.size).toBe(0);
  });

  it('lets go of what the publisher gave up: payloads leave the row, a call with nothing queued stops folding', () => {
    const folder = new CallFolder();
    const request = (callId: string): StorableEvent => ({
      ...started(callId),
      id: `${callId}-req`,
      type: EVENT_TYPES.requestReceived,
      data: { request: { prompt: 'x'.repeat(100) } },
    });
    // Still folding: the given-up request leaves the row.
    const a = [folder.fold(started('a')), folder.fold(request('a'))];
    folder.discard([a[1]]);
    expect(rowOf(folder.rowsOf([a[0]])[0] ?? [])).toMatchObject({ id: 'a', originalRequest: null });
    // Ended (its row taken): the same, on the row as it is written.
    const b = [folder.fold(started('b')), folder.fold(request('b')), folder.fold(completed('b'))];
    folder.discard([b[1]]);
    expect(rowOf(folder.rowsOf([b[0]])[0] ?? [])).toMatchObject({ id: 'b', originalRequest: null });
    // Every event of a call still folding given up: the call is dropped, its later events are not folded.
    const c = [folder.fold(started('c')), folder.fold(request('c'))];
    expect(folder.size).toBe(1);
    folder.discard(c);
    expect(folder.size).toBe(0);
    expect(folder.fold(completed('c'))).toBeUndefined();
    expect(folder.rowsOf(c)).toEqual([]);
    // Written: what is given up later changes nothing, and a written row is not kept.
    const d = [folder.fold(started('d')), folder.fold(request('d')), folder.fold(completed('d'))];
    const [row] = folder.rowsOf([d[0]]);
    folder.written([d[0]]);
    folder.discard([d[1]]);
    expect(rowOf(row ?? [])).toMatchObject({ id: 'd', originalRequest: { prompt: 'x'.repeat(100) } });
    expect(folder.rowsOf(d)).toEqual([]);
    // The end of a call counts the events column it completes.
    const events = rowOf(row ?? [])['events'];
    expect(d[2]?.size).toBeGreaterThanOrEqual(JSON.stringify(events).length);
  });

  it('keeps at most MAX_EVENTS_PER_CALL events of a call, its end always, as the batch plan does', () => {
    const folder = new CallFolder();
    const events: StorableEvent[] = [started('busy')];
    for (let i = 0; i < MAX_EVENTS_PER_CALL + 5; i++)
      events.push({ ...started('busy'), id: `p${i}`, type: `policy.judge.step${i % 3}`, data: { i } });
    events.push(completed('busy'));
    const items = events.map((e) => folder.fold(e));
    const row = rowOf(folder.rowsOf(items)[0] ?? []);
    const reference = plain(planBatch(events, () => undefined).created.get('busy'));
    expect(row).toEqual(reference);
    expect((row['events'] as unknown[]).length).toBe(MAX_EVENTS_PER_CALL + 1);
    expect(row['policyActions']).toBe('|judge.step0|judge.step1|judge.step2|');
  });
});
