import { containsPattern, escapeLike, policyActionPattern } from './text-search';

describe('text search patterns', () => {
  it('escapes the LIKE wildcards and the escape character', () => {
    expect(escapeLike('100%_done!')).toBe('100!%!_done!!');
  });

  it('matches the query lower-cased as it is written inside JSON text', () => {
    expect(containsPattern('Drop TABLE')).toBe('%drop table%');
    expect(containsPattern('say "hi"')).toBe('%say \\"hi\\"%');
    expect(containsPattern('a\\b\nc')).toBe('%a\\\\b\\nc%');
    expect(containsPattern('50%')).toBe('%50!%%');
  });

  it('filters a policy action with or without its policy', () => {
    expect(policyActionPattern('tool-call-judge.blocked')).toBe('%|tool-call-judge.blocked|%');
    expect(policyActionPattern('blocked')).toBe('%.blocked|%');
    expect(policyActionPattern('regex_block.blocked')).toBe('%|regex!_block.blocked|%');
    expect(policyActionPattern('a|b')).toBe('%.a!_b|%');
  });
});
