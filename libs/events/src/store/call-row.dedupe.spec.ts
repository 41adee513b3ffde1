import { EVENT_TYPES } from '../event-types';
import type { WardenEvent } from '../warden-event';
import { applyCallEvent, callRowFromStarted, storedEvent, toCallRecord } from './call-row.mapper';

const at = '2026-11-25T10:00:00.000Z';

function event(type: string, data: Record<string, unknown>): WardenEvent & { callId: string } {
  return { id: `${type}-1`, callId: 'call-1', sessionId: 's', type, at, instance: 'i', data };
}

describe('payloads are stored once', () => {
  const request = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
  const message = { id: 'msg', content: [{ type: 'text', text: 'hello' }] };

  function recordAfter(events: Array<WardenEvent & { callId: string }>) {
    let row = callRowFromStarted(
      event(EVENT_TYPES.callStarted, { model: 'm', clientFormat: 'anthropic' }),
      at,
    );
    for (const e of events) row = { ...row, ...applyCallEvent(row, e, at) };
    return toCallRecord(row);
  }

  it('resolves an unchanged forwarded request and response to the originals on read', () => {
    const record = recordAfter([
      event(EVENT_TYPES.requestReceived, { request }),
      event(EVENT_TYPES.requestForwarded, { format: 'anthropic', unchanged: true }),
      event(EVENT_TYPES.responseCompleted, { original: message, unchanged: true }),
    ]);
    expect(record.finalRequest).toEqual(request);
    expect(record.finalResponse).toEqual(message);
  });

  it('keeps changed finals as sent', () => {
    const rewritten = { ...message, content: [{ type: 'text', text: 'bye' }] };
    const record = recordAfter([
      event(EVENT_TYPES.requestReceived, { request }),
      event(EVENT_TYPES.requestForwarded, { format: 'openai', request: { converted: true } }),
      event(EVENT_TYPES.responseCompleted, { original: message, final: rewritten }),
    ]);
    expect(record.finalRequest).toEqual({ converted: true });
    expect(record.finalResponse).toEqual(rewritten);
  });

  it('keeps pointers, not second copies, in the stored events', () => {
    const row = storedEvent(
      event(EVENT_TYPES.responseCompleted, { original: message, final: message, truncated: false }),
      at,
    );
    expect(row.data).toEqual({
      original: { $storedIn: 'call' },
      final: { $storedIn: 'call' },
      truncated: false,
    });
    const policy = storedEvent(event('policy.x.blocked', { tool: 'bash' }), at);
    expect(policy.data).toEqual({ tool: 'bash' });
  });
});
