import type { WardenEvent } from '../warden-event';
import {
  addCallToDelta,
  addPolicyAction,
  applyCallEvent,
  callRowFromStarted,
  decodePolicyActions,
  isStorableEvent,
  mergeSession,
  normalizeTimestamp,
  PAYLOAD_FIELDS,
  policyActionOf,
  MAX_EVENTS_PER_CALL,
  recordEvent,
  SUMMARY_FIELDS,
  toCallRecord,
  toSessionSummary,
  toWardenEvents,
  type NewCall,
} from './call-row.mapper';

const START = '2026-01-01T00:00:00.000Z';

function event(type: string, data: Record<string, unknown> = {}, extra: Partial<WardenEvent> = {}) {
  return { id: 'e1', callId: 'c1', type, at: START, instance: 'host:1', data, ...extra } as WardenEvent & {
    callId: string;
  };
}

function started(extra: Partial<WardenEvent> = {}): NewCall {
  return callRowFromStarted(
    event(
      'call.started',
      { model: 'gpt-4o', provider: 'openai', clientFormat: 'openai', upstreamFormat: 'openai', stream: true },
      extra,
    ),
    START,
  );
}

describe('call row mapping', () => {
  it('creates an in-progress call from call.started; a call without session is its own session', () => {
    expect(started()).toMatchObject({
      id: 'c1',
      sessionId: 'c1',
      keyId: null,
      model: 'gpt-4o',
      provider: 'openai',
      stream: true,
      status: 'in_progress',
      startedAt: START,
      policyActions: '',
      originalRequest: null,
    });
    expect(started({ sessionId: 'sess' }).sessionId).toBe('sess');
    expect(started({ sessionId: 'x'.repeat(300) }).sessionId).toHaveLength(255);
    expect(callRowFromStarted(event('call.started', { model: 'a\u0000b' }), START)).toMatchObject({
      model: 'ab',
      clientFormat: 'unknown',
      stream: false,
    });
  });

  it('maps each event of the contract to the columns it fills', () => {
    const row = started();
    expect(applyCallEvent(row, event('request.received', { request: { a: 1 } }), START)).toEqual({
      originalRequest: { a: 1 },
    });
    expect(
      applyCallEvent(row, event('request.forwarded', { request: { b: 2 }, format: 'anthropic' }), START),
    ).toEqual({ finalRequest: { b: 2 }, upstreamFormat: 'anthropic' });
    expect(applyCallEvent(row, event('response.first_token', { firstTokenMs: 99.6 }), START)).toEqual({
      firstTokenMs: 100,
    });
    expect(applyCallEvent(row, event('response.completed', { original: 'o', final: 'f' }), START)).toEqual({
      originalResponse: 'o',
      finalResponse: 'f',
    });
    expect(
      applyCallEvent(
        row,
        event('call.completed', { status: 200, durationMs: 12.4, inputTokens: 3, outputTokens: 4 }),
        '2026-01-01T00:00:01.000Z',
      ),
    ).toEqual({
      status: 'completed',
      httpStatus: 200,
      completedAt: '2026-01-01T00:00:01.000Z',
      durationMs: 12,
      firstTokenMs: null,
      inputTokens: 3,
      outputTokens: 4,
    });
    expect(applyCallEvent(row, event('response.unknown', { x: 1 }), START)).toEqual({});
  });

  it('tells failures from client aborts, and keeps the first terminal state', () => {
    const row = started();
    const end = '2026-01-01T00:00:02.500Z';
    expect(applyCallEvent(row, event('call.failed', { error: 'upstream timeout' }), end)).toEqual({
      status: 'failed',
      error: 'upstream timeout',
      httpStatus: null,
      completedAt: end,
      durationMs: 2500,
    });
    expect(
      applyCallEvent(row, event('call.failed', { error: 'client_aborted', stream: true }), end),
    ).toMatchObject({
      status: 'aborted',
    });
    expect(applyCallEvent(row, event('call.failed', { error: { code: 1 }, status: 502 }), end)).toMatchObject(
      {
        status: 'failed',
        error: '{"code":1}',
        httpStatus: 502,
      },
    );
    const done = { ...row, status: 'completed' as const };
    expect(applyCallEvent(done, event('call.failed', { error: 'late' }), end)).toEqual({});
    expect(applyCallEvent(done, event('call.completed', { status: 200 }), end)).toEqual({});
  });

  it('records policy actions as a set', () => {
    const row = started();
    const patch = applyCallEvent(row, event('policy.tool-call-judge.blocked'), START);
    expect(patch).toEqual({ policyActions: '|tool-call-judge.blocked|' });
    const again = { ...row, ...patch };
    expect(applyCallEvent(again, event('policy.tool-call-judge.blocked'), START)).toEqual({});
    expect(applyCallEvent(again, event('policy.regex-block.blocked'), START)).toEqual({
      policyActions: '|tool-call-judge.blocked|regex-block.blocked|',
    });
    expect(decodePolicyActions('|tool-call-judge.blocked|regex-block.blocked|')).toEqual([
      'tool-call-judge.blocked',
      'regex-block.blocked',
    ]);
    expect(decodePolicyActions('')).toEqual([]);
    expect(addPolicyAction('', 'a.b')).toBe('|a.b|');
  });

  it.each([
    ['policy.tool-call-judge.blocked', 'tool-call-judge.blocked'],
    ['policy.a|b.x', 'a_b.x'],
    ['policy.config.updated', undefined],
    ['policy.nodot', undefined],
    ['policy.trailing.', undefined],
    ['call.completed', undefined],
  ])('policyActionOf(%s) = %s', (type, expected) => {
    expect(policyActionOf(type)).toBe(expected);
  });

  it('keeps only call events whose ids fit', () => {
    expect(isStorableEvent(event('x'))).toBe(true);
    expect(isStorableEvent(event('x', {}, { callId: null }))).toBe(false);
    expect(isStorableEvent(event('x', {}, { id: 'i'.repeat(65) }))).toBe(false);
    expect(isStorableEvent(event('x', {}, { callId: '' }))).toBe(false);
  });

  it('normalizes timestamps to one sortable width', () => {
    expect(normalizeTimestamp('2026-01-01T01:00:00+01:00')).toBe(START);
    expect(normalizeTimestamp(new Date(START))).toBe(START);
    expect(normalizeTimestamp('not a date')).toBeUndefined();
    expect(normalizeTimestamp('+020000-01-01T00:00:00.000Z')).toBeUndefined();
  });

  it('reads rows back as records and events', () => {
    const record = toCallRecord({ ...started(), policyActions: '|a.b|' });
    expect(record.policyActions).toEqual(['a.b']);
    expect(record.finalResponse).toBeNull();
    const later = '2026-01-01T00:00:01.000Z';
    const events = toWardenEvents({
      id: 'c',
      sessionId: 'sess',
      events: [
        { id: 'e3', type: 'late', at: later, instance: 'i', data: {} },
        { id: 'e2', type: 't', at: START, instance: 'i', data: [1] },
        { id: 'e1', type: 'u', at: START, instance: 'i', data: { x: 1 } },
      ],
    });
    // Oldest first, events of one millisecond by id; a non-object data read as {}.
    expect(events).toEqual([
      { id: 'e1', callId: 'c', sessionId: 'sess', type: 'u', at: START, instance: 'i', data: { x: 1 } },
      { id: 'e2', callId: 'c', sessionId: 'sess', type: 't', at: START, instance: 'i', data: {} },
      { id: 'e3', callId: 'c', sessionId: 'sess', type: 'late', at: later, instance: 'i', data: {} },
    ]);
    // Whatever a damaged column holds, reading it does not throw.
    expect(toWardenEvents({ id: 'c', sessionId: 's', events: null })).toEqual([]);
    expect(toWardenEvents({ id: 'c', sessionId: 's', events: [1, { id: 'x' }] as unknown as [] })).toEqual(
      [],
    );
  });

  it('keeps each event once, and at most MAX_EVENTS_PER_CALL of them but the terminal one', () => {
    const row = started();
    expect(row.events.map((e) => e.type)).toEqual(['call.started']);
    expect(recordEvent(row, event('policy.a.b', {}, { id: 'p' }), START)).toBe('kept');
    expect(recordEvent(row, event('policy.a.b', {}, { id: 'p' }), START)).toBe('duplicate');
    for (let i = row.events.length; i < MAX_EVENTS_PER_CALL; i++)
      expect(recordEvent(row, event('policy.a.b', {}, { id: `p${i}` }), START)).toBe('kept');
    // Full: a new event is not kept (its changes may still apply); the call's end always is.
    expect(recordEvent(row, event('policy.a.c', {}, { id: 'over' }), START)).toBe('over-limit');
    expect(recordEvent(row, event('call.completed', { status: 200 }, { id: 'end' }), START)).toBe('kept');
    expect(row.events).toHaveLength(MAX_EVENTS_PER_CALL + 1);
    expect(row.events.at(-1)?.id).toBe('end');
    expect(row.events.some((e) => e.id === 'over')).toBe(false);
  });

  it('lists every column but the payloads and the events in a summary', () => {
    expect([...SUMMARY_FIELDS, ...PAYLOAD_FIELDS, 'events'].sort()).toEqual(Object.keys(started()).sort());
  });

  it('sums the calls of a batch into a session', () => {
    let delta = addCallToDelta(undefined, { startedAt: '2026-01-02T00:00:00.000Z', model: 'b' });
    delta = addCallToDelta(delta, { startedAt: START, model: 'a' });
    delta = addCallToDelta(delta, { startedAt: '2026-01-03T00:00:00.000Z', model: 'b' });
    expect(delta).toEqual({
      firstAt: START,
      lastAt: '2026-01-03T00:00:00.000Z',
      callCount: 3,
      models: ['b', 'a'],
    });
    const merged = mergeSession(
      {
        id: 's',
        firstAt: '2026-01-02T12:00:00.000Z',
        lastAt: '2026-01-04T00:00:00.000Z',
        callCount: 2,
        models: ['c', 'a'],
      },
      delta,
    );
    expect(toSessionSummary(merged)).toEqual({
      id: 's',
      firstAt: START,
      lastAt: '2026-01-04T00:00:00.000Z',
      callCount: 5,
      models: ['c', 'a', 'b'],
    });
  });
});
