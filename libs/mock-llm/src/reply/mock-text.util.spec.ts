import fc from 'fast-check';
import {
  chunkWords,
  estimateTokens,
  MOCK_WORDS,
  mockSignature,
  mockWords,
  splitFragments,
} from './mock-text.util';

describe('mockWords', () => {
  it('cycles the fixed vocabulary with single spaces', () => {
    expect(mockWords(0)).toBe('');
    expect(mockWords(3)).toBe('alpha bravo charlie');
    const many = mockWords(MOCK_WORDS.length + 2).split(' ');
    expect(many).toHaveLength(MOCK_WORDS.length + 2);
    expect(many.slice(-2)).toEqual(['alpha', 'bravo']);
  });

  it('gives exactly n words, deterministically (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), (n) => {
        const text = mockWords(n);
        expect(text.split(' ')).toHaveLength(n);
        expect(mockWords(n)).toBe(text);
      }),
    );
  });
});

describe('chunkWords', () => {
  it('starts with the first word, then prefixes the separator', () => {
    expect(chunkWords('Hello from the mock.', 1)).toEqual(['Hello', ' from', ' the', ' mock.']);
    expect(chunkWords('a b c d e', 2)).toEqual(['a b', ' c d', ' e']);
    expect(chunkWords('', 1)).toEqual([]);
    expect(chunkWords('  ', 1)).toEqual(['  ']);
    expect(chunkWords(' lead  and trail\n', 1)).toEqual([' lead', '  and', ' trail\n']);
  });

  it('concatenates back to the text, with at most n words per chunk (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\n', 'é') }),
        fc.integer({ min: 1, max: 5 }),
        (text, n) => {
          const chunks = chunkWords(text, n);
          expect(chunks.join('')).toBe(text);
          for (const chunk of chunks)
            expect(chunk.trim().split(/\s+/).filter(Boolean).length).toBeLessThanOrEqual(n);
        },
      ),
    );
  });
});

describe('splitFragments', () => {
  it('cuts fixed-size fragments', () => {
    expect(splitFragments('{"city":"Paris"}', 8)).toEqual(['{"city":', '"Paris"}']);
    expect(splitFragments('', 8)).toEqual([]);
  });

  it('reassembles any JSON arguments (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.integer({ min: 1, max: 40 }),
        (args, size) => {
          const json = JSON.stringify(args);
          const fragments = splitFragments(json, size);
          expect(fragments.join('')).toBe(json);
          expect(JSON.parse(fragments.join(''))).toEqual(JSON.parse(json));
          expect(fragments.every((f) => f.length > 0 && f.length <= size)).toBe(true);
        },
      ),
    );
  });
});

describe('mockSignature and estimateTokens', () => {
  it('signs deterministically and distinctly', () => {
    expect(mockSignature('think')).toBe(mockSignature('think'));
    expect(mockSignature('think')).toMatch(/^mocksig_[0-9a-f]{16}$/);
    expect(mockSignature('think')).not.toBe(mockSignature('thinks'));
  });

  it('estimates ceil(chars / 4)', () => {
    expect(estimateTokens(0)).toBe(0);
    expect(estimateTokens(1)).toBe(1);
    expect(estimateTokens(8)).toBe(2);
    expect(estimateTokens(9)).toBe(3);
  });
});
