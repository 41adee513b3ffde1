import fc from 'fast-check';
import { EVENT_TYPES } from '../event-types';
import { applyCallEvent, callRowFromStarted, storedEvent, type StorableEvent } from './call-row.mapper';
import { jsonTransformer } from './json.transformer';
import { decodeBatch, encodeBatch, PackedStoreEvent, partsOf } from './store-writer.protocol';

const at = '2026-01-01T00:00:00.000Z';
const started = callRowFromStarted(
  { id: 's', callId: 'c', type: EVENT_TYPES.callStarted, at, instance: 'i', data: { model: 'm' } },
  at,
);

/** Any JSON value a payload can be (requests and responses are objects, but nothing here relies on it). */
const payload = fc.jsonValue();

const anyEvent = fc.oneof(
  fc.record({
    type: fc.constant(EVENT_TYPES.requestReceived),
    data: fc.record({ request: payload }, { requiredKeys: [] }),
  }),
  fc.record({
    type: fc.constant(EVENT_TYPES.requestForwarded),
    data: fc.oneof(
      fc.record({ request: payload, format: fc.constantFrom('openai', 'anthropic') }),
      fc.constant({ format: 'openai', unchanged: true }),
    ),
  }),
  fc.record({
    type: fc.constant(EVENT_TYPES.responseCompleted),
    data: fc.record(
      { original: payload, final: payload, truncated: fc.boolean() },
      { requiredKeys: ['original'] },
    ),
  }),
  fc.record({
    type: fc.constantFrom(EVENT_TYPES.callCompleted, 'policy.judge.blocked'),
    data: fc.dictionary(fc.string(), fc.jsonValue()),
  }),
);

const batch = fc.array(anyEvent, { maxLength: 8 }).map((events) =>
  events.map((e, i): StorableEvent => ({
    id: `e${i}`,
    callId: 'c',
    ...(i % 2 === 0 ? { sessionId: 's' } : {}),
    type: e.type,
    at,
    instance: 'host:1',
    data: e.data,
  })),
);

/** A payload column as the database receives it. */
function stored(value: unknown): unknown {
  return jsonTransformer.to(value);
}

/** A value as the database gives it back: JSON has no -0, no undefined members, so only that form is compared. */
function readBack(value: unknown): unknown {
  return jsonTransformer.from(jsonTransformer.to(value));
}

describe('store writer protocol', () => {
  it('delivers events that store exactly what the originals would', () => {
    fc.assert(
      fc.property(batch, (events) => {
        const { events: text, payloads } = encodeBatch(events);
        // Through a worker message: strings only.
        const decoded = decodeBatch(structuredClone({ events: text, payloads }));
        expect(decoded).toHaveLength(events.length);
        events.forEach((original, i) => {
          const received = decoded[i] as StorableEvent;
          expect(readBack(storedEvent(received, at))).toEqual(readBack(storedEvent(original, at)));
          const want = applyCallEvent(started, original, at);
          const got = applyCallEvent(started, received, at);
          expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
          for (const key of Object.keys(want) as Array<keyof typeof want>)
            expect(stored(got[key])).toEqual(stored(want[key]));
        });
      }),
    );
  });

  it('sends each payload once, outside the envelope, and leaves other events as they are', () => {
    const request = { model: 'm', messages: [{ role: 'user', content: 'say "hi"' }] };
    const events: StorableEvent[] = [
      { id: 'a', callId: 'c', type: EVENT_TYPES.requestReceived, at, instance: 'i', data: { request } },
      { id: 'b', callId: 'c', type: 'policy.x.y', at, instance: 'i', data: { request } },
    ];
    const { events: text, payloads } = encodeBatch(events);
    expect(payloads).toEqual([JSON.stringify(request)]);
    expect(text.split('say').length - 1).toBe(1); // only the policy event carries it in the envelope
    expect(events[0]?.data['request']).toBe(request); // the caller's events are not changed
    const [first, second] = decodeBatch({ events: text, payloads });
    expect(first?.payloadText).toEqual({ request: JSON.stringify(request) });
    expect(second).toEqual(events[1]);
  });

  it('refuses a request whose payloads do not match its references', () => {
    const request = { model: 'm', messages: [] };
    const { events, payloads } = encodeBatch([
      { id: 'a', callId: 'c', type: EVENT_TYPES.requestReceived, at, instance: 'i', data: { request } },
    ]);
    expect(() => decodeBatch({ events, payloads: [] })).toThrow(/event a lacks its request/);
    expect(() => decodeBatch({ events, payloads: [...payloads, '{}'] })).toThrow(/2 payloads, 1 referenced/);
  });

  it('cuts a batch into parts of bounded text (envelopes and payloads), in order, none empty', () => {
    const packed = fc.array(
      fc.tuple(fc.nat({ max: 30 }), fc.array(fc.nat({ max: 50 }), { maxLength: 3 })).map(
        ([envelope, sizes]) =>
          new PackedStoreEvent(
            'e',
            `{${' '.repeat(envelope)}}`,
            sizes.map((n) => 'x'.repeat(n)),
          ),
      ),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(packed, fc.integer({ min: 1, max: 120 }), (events, max) => {
        const parts = partsOf(events, max);
        expect(parts.flat()).toEqual(events);
        const chars = (list: readonly PackedStoreEvent[]): number =>
          list.reduce((n, e) => n + e.envelope.length + e.payloads.reduce((m, p) => m + p.length, 0), 0);
        parts.forEach((part, i) => {
          expect(part.length).toBeGreaterThan(0);
          if (part.length > 1) expect(chars(part)).toBeLessThanOrEqual(max);
          // Cut only where the next event would not fit.
          const next = parts[i + 1]?.[0];
          if (next !== undefined) expect(chars(part) + chars([next])).toBeGreaterThan(max);
        });
      }),
    );
  });
});
