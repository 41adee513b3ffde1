import fc from 'fast-check';
import { joinQueries } from './upstream-client';

/** A query string as the gateway holds one: empty, or `?` and URL-encoded pairs. */
const query = fc
  .array(fc.tuple(fc.string({ minLength: 1 }), fc.string()), { maxLength: 4 })
  .map((pairs) => (pairs.length === 0 ? '' : `?${new URLSearchParams(pairs).toString()}`));

const pairsOf = (q: string): Array<[string, string]> => [...new URLSearchParams(q).entries()];

describe('joinQueries', () => {
  it("keeps the base URL's parameters, then the client's, each once", () => {
    fc.assert(
      fc.property(query, query, (base, client) => {
        const joined = joinQueries(base, client);
        expect(joined === '' || joined.startsWith('?')).toBe(true);
        expect(joined.includes('?', 1)).toBe(false);
        expect(pairsOf(joined)).toEqual([...pairsOf(base), ...pairsOf(client)]);
      }),
    );
  });

  it('joins with one separator and ignores a bare ?', () => {
    expect(joinQueries('?api-version=2024-10-21', '?beta=true')).toBe('?api-version=2024-10-21&beta=true');
    expect(joinQueries('', '?beta=true')).toBe('?beta=true');
    expect(joinQueries('?api-version=1', '')).toBe('?api-version=1');
    expect(joinQueries('?api-version=1', '?')).toBe('?api-version=1');
    expect(joinQueries('', '')).toBe('');
  });
});
