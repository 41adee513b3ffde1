import fc from 'fast-check';
import { JudgeError } from './judge.error';
import {
  clampProbability,
  fillTemplate,
  judgeFailureReason,
  readExplanation,
  truncateText,
} from './judge-options';

describe('judge option helpers', () => {
  it('fills known placeholders once and keeps unknown ones', () => {
    expect(fillTemplate('{tool}: {explanation} {other}', { tool: 'bash', explanation: 'uses {tool}' })).toBe(
      'bash: uses {tool} {other}',
    );
  });

  it('truncates with a marker and never splits a surrogate pair', () => {
    expect(truncateText('abc', 3)).toBe('abc');
    expect(truncateText('abcdef', 3)).toBe('abc… [3 more characters]');
    expect(truncateText('a😀b', 2)).toBe('a… [3 more characters]');
  });

  it('clamps any number into [0, 1] and keeps values already inside', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (value) => {
        const clamped = clampProbability(value);
        expect(clamped >= 0 && clamped <= 1).toBe(true);
        if (value >= 0 && value <= 1) expect(clamped === value).toBe(true);
      }),
    );
  });

  it('reads explanations and failure reasons', () => {
    expect(readExplanation(undefined, 'none')).toBe('none');
    expect(readExplanation(' ok ', 'none')).toBe('ok');
    expect(judgeFailureReason(new JudgeError('timeout', 'too slow'))).toBe('too slow');
    expect(judgeFailureReason(new TypeError('boom'))).toBe('unexpected error: boom');
  });
});
