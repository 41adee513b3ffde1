import { jsonSourceOf, parseJsonBytes, rememberJsonText } from './json-source';

describe('JSON sources', () => {
  it('remembers the bytes or the text of a value by identity, nothing for others', () => {
    const bytes = Buffer.from('{"a": 1}');
    const parsed = parseJsonBytes(bytes);
    expect(parsed).toEqual({ a: 1 });
    expect(jsonSourceOf(parsed)).toEqual({ kind: 'bytes', bytes });
    // An equal value is another value: a copy (a policy's) has no source.
    expect(jsonSourceOf({ a: 1 })).toBeUndefined();
    expect(jsonSourceOf(structuredClone(parsed))).toBeUndefined();
    const converted = { b: [2] };
    rememberJsonText(converted, '{"b":[2]}');
    expect(jsonSourceOf(converted)).toEqual({ kind: 'text', text: '{"b":[2]}' });
    for (const value of [undefined, null, 1, 'text', true]) expect(jsonSourceOf(value)).toBeUndefined();
  });

  it('parses as JSON.parse does, throwing what it throws, and remembers objects and arrays only', () => {
    expect(parseJsonBytes(Buffer.from('"text"'))).toBe('text');
    expect(parseJsonBytes(Buffer.from('[1]'))).toEqual([1]);
    expect(jsonSourceOf(parseJsonBytes(Buffer.from('[1]')))).toMatchObject({ kind: 'bytes' });
    expect(() => parseJsonBytes(Buffer.from('{"a":'))).toThrow(SyntaxError);
  });

  it('keeps the latest source of a value', () => {
    const message = parseJsonBytes(Buffer.from('{ "content": [] }')) as object;
    rememberJsonText(message, '{"content":[]}');
    expect(jsonSourceOf(message)).toEqual({ kind: 'text', text: '{"content":[]}' });
  });
});
