import fc from 'fast-check';
import { jsonSourceOf, parseJsonBytes, rememberJsonText, withStringMember } from './json-source';

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

describe('withStringMember', () => {
  const space = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ');
  /** A top-level member as text: a key (the model key among others, maybe escaped), any JSON value as written. */
  const member = fc.tuple(
    fc.oneof(
      fc.constant('"model"'),
      fc.constant('"mod\\u0065l"'),
      fc.string().map((k) => JSON.stringify(k)),
    ),
    space,
    space,
    fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v, null, 1)),
      // Numbers JSON.stringify would write otherwise: they must reach the upstream as the client wrote them.
      fc.constantFrom('1.0', '12345678901234567890', '1e2', '-0', '"caf\\u00e9 ☕"'),
    ),
  );

  it('property: only the values of the top-level "model" members change, every other byte is kept', () => {
    fc.assert(
      fc.property(fc.array(member, { maxLength: 6 }), space, fc.string(), (members, outer, model) => {
        const texts = members.map(([key, before, after, value]) => `${key}${before}:${after}${value}`);
        const text = `${outer}{${outer}${[...texts, '"model":"old"'].join(`,${outer}`)}${outer}}${outer}`;
        const request = parseJsonBytes(Buffer.from(text)) as Record<string, unknown>;
        const changed = withStringMember(request, 'model', model);
        expect(changed).toBeDefined();
        const expected = `${outer}{${outer}${[
          ...members.map(([key, before, after, value]) =>
            JSON.parse(key) === 'model'
              ? `${key}${before}:${after}${JSON.stringify(model)}`
              : `${key}${before}:${after}${value}`,
          ),
          `"model":${JSON.stringify(model)}`,
        ].join(`,${outer}`)}${outer}}${outer}`;
        expect(changed?.bytes.toString()).toBe(expected);
        expect(changed?.value).toEqual({ ...request, model });
        expect(JSON.parse(changed?.bytes.toString() ?? '')).toEqual(changed?.value);
        expect(jsonSourceOf(changed?.value)).toEqual({ kind: 'bytes', bytes: changed?.bytes });
      }),
    );
  });

  it('is undefined for a value without bytes, or bytes without the member', () => {
    expect(withStringMember({ model: 'a' }, 'model', 'b')).toBeUndefined();
    expect(withStringMember(parseJsonBytes(Buffer.from('{"x":1}')) as object, 'model', 'b')).toBeUndefined();
    expect(withStringMember(parseJsonBytes(Buffer.from('[1]')) as object, 'model', 'b')).toBeUndefined();
  });
});
