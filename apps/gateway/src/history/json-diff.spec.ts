import { canonicalJson, jsonDiff, jsonEqual } from './json-diff';

describe('jsonDiff', () => {
  it('finds nothing between equal values, whatever the key order', () => {
    expect(jsonDiff({ a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'x' }], a: 1 })).toEqual({
      changes: [],
      truncated: false,
    });
  });

  it('lists added, removed and changed keys with paths', () => {
    const { changes } = jsonDiff(
      { model: 'a', max_tokens: 10, metadata: { user: 'u' } },
      { model: 'b', metadata: { user: 'u', tag: 't' }, stream: true },
    );
    expect(changes).toEqual([
      { path: 'model', kind: 'changed', before: 'a', after: 'b' },
      { path: 'max_tokens', kind: 'removed', before: 10 },
      { path: 'metadata.tag', kind: 'added', after: 't' },
      { path: 'stream', kind: 'added', after: true },
    ]);
  });

  it('compares arrays index by index and reports extra items at their index', () => {
    const before = {
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'yo' },
      ],
    };
    const after = { messages: [{ role: 'user', content: 'hello' }] };
    expect(jsonDiff(before, after).changes).toEqual([
      { path: 'messages[0].content', kind: 'changed', before: 'hi', after: 'hello' },
      { path: 'messages[1]', kind: 'removed', before: { role: 'assistant', content: 'yo' } },
    ]);
    expect(jsonDiff([1], [1, 2]).changes).toEqual([{ path: '[1]', kind: 'added', after: 2 }]);
  });

  it('reports a type change as one change, not its parts', () => {
    expect(jsonDiff({ content: 'text' }, { content: [{ type: 'text', text: 'text' }] }).changes).toEqual([
      { path: 'content', kind: 'changed', before: 'text', after: [{ type: 'text', text: 'text' }] },
    ]);
    expect(jsonDiff(null, { a: 1 }).changes).toEqual([
      { path: '', kind: 'changed', before: null, after: { a: 1 } },
    ]);
  });

  it('quotes keys that are not identifiers', () => {
    expect(jsonDiff({ 'x-id': 1, '0': 2 }, { 'x-id': 2, '0': 3 }).changes.map((c) => c.path)).toEqual([
      '["0"]',
      '["x-id"]',
    ]);
  });

  it('treats undefined fields as absent', () => {
    expect(jsonDiff({ a: 1, b: undefined }, { a: 1 }).changes).toEqual([]);
  });

  it('stops at the cap and says so', () => {
    const before = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]));
    const after = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i + 1]));
    const diff = jsonDiff(before, after, 5);
    expect(diff.changes).toHaveLength(5);
    expect(diff.truncated).toBe(true);
  });
});

describe('jsonEqual and canonicalJson', () => {
  it('ignore key order', () => {
    expect(jsonEqual({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(canonicalJson({ b: 1, a: [true, null] })).toBe(canonicalJson({ a: [true, null], b: 1 }));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: '1' }));
  });
});
