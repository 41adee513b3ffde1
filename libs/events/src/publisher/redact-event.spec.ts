import type { WardenEvent } from '../warden-event';
import { isSecretKey, redactEvent, UNREPRESENTABLE } from './redact-event';

const base: Omit<WardenEvent, 'data'> = {
  id: 'e1',
  callId: 'c1',
  type: 'request.received',
  at: '2026-01-01T00:00:00.000Z',
  instance: 'test',
};

describe('redactEvent', () => {
  it('recognises credential keys in any casing and separator, not token counts', () => {
    for (const key of [
      'authorization',
      'Authorization',
      'x-api-key',
      'api_key',
      'apiKey',
      'X-Goog-Api-Key',
    ]) {
      expect(isSecretKey(key)).toBe(true);
    }
    for (const key of [
      'password',
      'db_password',
      'secret',
      'client_secret',
      'token',
      'access_token',
      'Cookie',
    ]) {
      expect(isSecretKey(key)).toBe(true);
    }
    for (const key of ['max_tokens', 'input_tokens', 'tokens', 'firstTokenMs', 'model', 'content', 'key']) {
      expect(isSecretKey(key)).toBe(false);
    }
  });

  it('redacts secret-looking strings at any depth and leaves the original untouched', () => {
    const data = { a: [{ b: { c: 'use sk-ant-api03-abcdefghijklmnop please' } }], n: 1, ok: true, nil: null };
    const out = redactEvent({ ...base, data });
    expect(out.data).toEqual({ a: [{ b: { c: 'use [redacted] please' } }], n: 1, ok: true, nil: null });
    expect(data.a[0]?.b.c).toContain('sk-ant-api03');
  });

  it('turns the value into plain JSON: toJSON, bigint, undefined, functions, cycles', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const shared = { v: 1 };
    const out = redactEvent({
      ...base,
      data: {
        when: new Date('2026-01-02T00:00:00.000Z'),
        big: BigInt(12),
        gone: undefined,
        fn: () => 1,
        list: [undefined, 2],
        cyclic,
        twice: [shared, shared],
      },
    });
    expect(out.data).toEqual({
      when: '2026-01-02T00:00:00.000Z',
      big: '12',
      list: [null, 2],
      cyclic: { name: 'loop', self: UNREPRESENTABLE },
      twice: [{ v: 1 }, { v: 1 }],
    });
  });

  it('replaces values nested absurdly deep instead of overflowing the stack', () => {
    let deep: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    expect(() => redactEvent({ ...base, data: deep })).not.toThrow();
    expect(JSON.stringify(redactEvent({ ...base, data: deep }))).toContain(UNREPRESENTABLE);
  });

  it('shares what needs no change instead of copying it, and copies only the path to a change', () => {
    const clean = { messages: [{ role: 'user', content: 'hello' }], model: 'm' };
    const mixed = { a: { b: 'plain' }, c: { d: 'key sk-ant-api03-abcdefghijklmnop' } };
    const out = redactEvent({ ...base, data: { clean, mixed } });
    const data = out.data as { clean: unknown; mixed: { a: unknown; c: { d: string } } };
    expect(data.clean).toBe(clean);
    expect(data.mixed).not.toBe(mixed);
    expect(data.mixed.a).toBe(mixed.a);
    expect(data.mixed.c.d).toBe('key [redacted]');
  });

  it('keeps a key named __proto__ as data (as JSON.parse makes it), and copies class instances', () => {
    const parsed = JSON.parse('{"__proto__":{"polluted":"sk-ant-api03-abcdefghijklmnop"},"x":1}') as object;
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    const out = redactEvent({ ...base, data: { parsed, point: new Point(1, 2) } });
    expect(JSON.stringify(out.data)).toBe(
      '{"parsed":{"__proto__":{"polluted":"[redacted]"},"x":1},"point":{"x":1,"y":2}}',
    );
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.getPrototypeOf((out.data as { point: object }).point)).toBe(Object.prototype);
  });
});
