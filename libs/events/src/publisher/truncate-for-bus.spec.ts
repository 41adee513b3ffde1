import type { WardenEvent } from '../warden-event';
import { MAX_KEYS_LISTED, TRUNCATED_KEY, truncateForBus } from './truncate-for-bus';

function event(data: WardenEvent['data']): WardenEvent {
  return {
    id: 'e1',
    callId: 'c1',
    type: 'response.completed',
    at: '2026-01-01T00:00:00.000Z',
    instance: 'i',
    data,
  };
}

describe('truncateForBus', () => {
  it('returns a small event unchanged (same object)', () => {
    const small = event({ text: 'hello' });
    expect(truncateForBus(small, 1024)).toBe(small);
  });

  it('shortens long strings, keeps short ones, and marks the event', () => {
    const out = truncateForBus(
      event({ final: { content: [{ text: 'y'.repeat(10_000) }] }, model: 'm' }),
      2048,
    );
    expect(Buffer.byteLength(JSON.stringify(out))).toBeLessThanOrEqual(2048);
    expect(out.data.model).toBe('m');
    expect(JSON.stringify(out.data.final)).toMatch(
      /^\{"content":\[\{"text":"y+… \[truncated: 10000 chars\]"\}\]\}$/,
    );
    expect(out.data[TRUNCATED_KEY]).toEqual({ originalBytes: expect.any(Number) as number });
  });

  it('falls back to the key names when many small values are still too big', () => {
    const data: Record<string, string> = {};
    for (let i = 0; i < 2000; i++) data[`k${i}`] = 'short';
    const out = truncateForBus(event(data), 2048);
    expect(Buffer.byteLength(JSON.stringify(out))).toBeLessThanOrEqual(2048);
    expect(out.data.keys).toHaveLength(MAX_KEYS_LISTED);
    expect(out.data[TRUNCATED_KEY]).toBeDefined();
  });
});
