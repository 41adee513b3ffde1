import { REDACTED, redactHeaders, redactSecrets } from './redaction';

describe('redaction', () => {
  it('redacts credential headers whatever their case', () => {
    const out = redactHeaders({
      Authorization: 'Bearer abc',
      'x-api-key': 'k',
      'content-type': 'application/json',
    });
    expect(out).toEqual({
      Authorization: REDACTED,
      'x-api-key': REDACTED,
      'content-type': 'application/json',
    });
  });

  it('redacts key-looking strings in free text', () => {
    const text = 'upstream said: bad key sk-ant-api03-abcdefghijkl and Bearer 0123456789abcdef';
    expect(redactSecrets(text)).toBe(`upstream said: bad key ${REDACTED} and ${REDACTED}`);
  });

  it('leaves ordinary text alone', () => {
    expect(redactSecrets('a sketch of skies')).toBe('a sketch of skies');
  });
});
