import { parseJsonBytes, rememberJsonText } from '@warden/llm';
import fc from 'fast-check';
import { EVENT_TYPES } from '../event-types';
import { applyCallEvent, callRowFromStarted, storedEvent, type StorableEvent } from './call-row.mapper';
import { jsonTransformer } from './json.transformer';
import {
  batchOf,
  decodeBatch,
  encodeBatch,
  MIN_BYTES_PAYLOAD,
  packEvent,
  PackedStoreEvent,
  messagesOf,
  partsOf,
  storedValuesOf,
  WIRE_CALL_FIELDS,
  type WireCall,
} from './store-writer.protocol';

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

function requestEvent(request: Record<string, unknown>): StorableEvent {
  return { id: 'r', callId: 'c', type: EVENT_TYPES.requestReceived, at, instance: 'i', data: { request } };
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

  it('sends a large payload parsed from bytes as those bytes, which the writer serializes as the main thread would', () => {
    // Any request, padded past the bound, received in any layout (indented or not): the writer stores the text
    // JSON.stringify makes of the parsed value, as when the main thread serializes it.
    const received = fc.record({
      request: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })),
      indent: fc.constantFrom(undefined, 1, '\t'),
    });
    fc.assert(
      fc.property(received, ({ request, indent }) => {
        const padded = { ...request, pad: 'x'.repeat(MIN_BYTES_PAYLOAD) };
        const bytes = Buffer.from(JSON.stringify(padded, null, indent));
        const parsed = parseJsonBytes(bytes) as Record<string, unknown>;
        const event = requestEvent(parsed);
        const packed = packEvent(event);
        expect(packed.payloads[0]).toBeInstanceOf(Uint8Array);
        const [decoded] = decodeBatch(structuredClone(batchOf([packed])));
        expect(decoded?.payloadText).toEqual({ request: JSON.stringify(parsed) });
      }),
      { numRuns: 30 },
    );
  });

  it('stores the value parsed, not the bytes: a duplicate key keeps its last value only', () => {
    const secret = 'sk-ant-api03-shadowed-by-a-duplicate-key';
    const pad = 'x'.repeat(MIN_BYTES_PAYLOAD);
    const bytes = Buffer.from(`{"metadata": {"user_id": "${secret}", "user_id": "last"}, "pad": "${pad}"}`);
    const parsed = parseJsonBytes(bytes) as Record<string, unknown>;
    const packed = packEvent(requestEvent(parsed));
    const [decoded] = decodeBatch(structuredClone(batchOf([packed])));
    const text = decoded?.payloadText?.['request'];
    expect(text).toBe(JSON.stringify({ metadata: { user_id: 'last' }, pad }));
    expect(text).not.toContain(secret);
  });

  it('sends received bytes that are a view into a larger buffer as a copy of their own', () => {
    const text = JSON.stringify({ pad: 'x'.repeat(MIN_BYTES_PAYLOAD) });
    const whole = Buffer.from(`garbage${text}garbage`);
    const request = parseJsonBytes(whole.subarray(7, 7 + text.length)) as Record<string, unknown>;
    const sent = packEvent(requestEvent(request)).payloads[0] as Uint8Array;
    expect(sent.byteLength).toBe(text.length);
    expect(sent.buffer.byteLength).toBe(text.length);
    expect(Buffer.from(sent).toString('utf8')).toBe(text);
    // Bytes that are a whole buffer go as they are (the message copies them).
    const exact = Buffer.from(text);
    expect(packEvent(requestEvent(parseJsonBytes(exact) as Record<string, unknown>)).payloads[0]).toBe(exact);
  });

  it('serializes small payloads parsed from bytes on the main thread, and reuses a text made already', () => {
    const small = parseJsonBytes(Buffer.from(JSON.stringify({ model: 'm', messages: [] }, null, 2)));
    expect(packEvent(requestEvent(small as Record<string, unknown>)).payloads).toEqual([
      JSON.stringify(small),
    ]);
    // The text the upstream was sent goes as it is, without walking the value again.
    const converted = { model: 'm', max_tokens: 1, messages: [] };
    const text = JSON.stringify(converted);
    rememberJsonText(converted, text);
    expect(packEvent(requestEvent(converted)).payloads[0]).toBe(text);
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
        const parts = partsOf(events, (e) => e.size, max);
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

  it('sends the rows of folded calls before the events, in bounded messages, and stores their JSON as text', () => {
    const row = (id: string, request: string | Uint8Array): WireCall =>
      WIRE_CALL_FIELDS.map((field) => (field === 'id' ? id : field === 'originalRequest' ? request : null));
    const bytes = new TextEncoder().encode('{ "model" : "m",\n  "messages": [] }');
    const calls = [row('a', '{"model":"m"}'), row('b', bytes)];
    const events = [new PackedStoreEvent('e', 'x'.repeat(30), [])];
    expect(messagesOf(calls, events)).toEqual([{ calls, events }]);
    // Rows of 14 and 36 characters (bytes counted as such), then an event of 30: three messages of at most 40.
    expect(messagesOf(calls, events, 40)).toEqual([
      { calls: [calls[0]], events: [] },
      { calls: [calls[1]], events: [] },
      { calls: [], events },
    ]);
    const stored = storedValuesOf(structuredClone(calls[1] as WireCall));
    expect(stored[WIRE_CALL_FIELDS.indexOf('originalRequest')]).toBe('{"model":"m","messages":[]}');
    expect(() => storedValuesOf(['a'])).toThrow(/a call of 1 values/);
  });
});
