import fc from 'fast-check';
import { containsSkDash, REDACTED, redactHeaders, redactSecrets } from './redaction';

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

  it('finds `sk-` exactly where includes does, wherever it sits among other s, k and dashes', () => {
    const text = fc.string({ unit: fc.constantFrom('s', 'k', '-', 'a', ' ', 'é') });
    fc.assert(
      fc.property(text, (t) => containsSkDash(t) === t.includes('sk-')),
      { numRuns: 2000 },
    );
    for (const t of ['sk-', 'ask-x', 'k-sk-', 'k-', 's-k', 'skk-', 'sk', '-sk', 'kk-sk-'])
      expect(containsSkDash(t)).toBe(t.includes('sk-'));
  });

  it('leaves ordinary text alone', () => {
    expect(redactSecrets('a sketch of skies')).toBe('a sketch of skies');
  });
});
