import { jsonSourceOf, rememberJsonBytes, rememberJsonText } from './json-source';

describe('JSON sources', () => {
  it('remembers the bytes or the text of a value by identity, nothing for others', () => {
    const bytes = Buffer.from('{"a": 1}');
    const parsed = JSON.parse(bytes.toString('utf8')) as object;
    rememberJsonBytes(parsed, bytes);
    expect(jsonSourceOf(parsed)).toEqual({ kind: 'bytes', bytes });
    // An equal value is another value: a copy (a policy's) has no source.
    expect(jsonSourceOf({ a: 1 })).toBeUndefined();
    expect(jsonSourceOf(structuredClone(parsed))).toBeUndefined();
    const converted = { b: [2] };
    rememberJsonText(converted, '{"b":[2]}');
    expect(jsonSourceOf(converted)).toEqual({ kind: 'text', text: '{"b":[2]}' });
    for (const value of [undefined, null, 1, 'text', true]) expect(jsonSourceOf(value)).toBeUndefined();
  });

  it('keeps the latest source of a value', () => {
    const message = { content: [] };
    rememberJsonBytes(message, Buffer.from('{ "content": [] }'));
    rememberJsonText(message, '{"content":[]}');
    expect(jsonSourceOf(message)).toEqual({ kind: 'text', text: '{"content":[]}' });
  });
});
