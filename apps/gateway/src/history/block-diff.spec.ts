import { diffBlocks, diffMessages } from './block-diff';
import { alignSequences } from './sequence-alignment';

const text = (t: string): { type: string; text: string } => ({ type: 'text', text: t });
const tool = (id: string, command: string): Record<string, unknown> => ({
  type: 'tool_use',
  id,
  name: 'bash',
  input: { command },
});

describe('alignSequences', () => {
  it('matches a common subsequence and pairs what lies between', () => {
    expect(alignSequences(['a', 'b', 'c'], ['a', 'x', 'c'])).toEqual([
      { kind: 'same', before: 0, after: 0 },
      { kind: 'paired', before: 1, after: 1 },
      { kind: 'same', before: 2, after: 2 },
    ]);
    expect(alignSequences(['a', 'b'], ['b', 'c', 'd'])).toEqual([
      { kind: 'removed', before: 0 },
      { kind: 'same', before: 1, after: 0 },
      { kind: 'added', after: 1 },
      { kind: 'added', after: 2 },
    ]);
    expect(alignSequences([], [])).toEqual([]);
  });
});

describe('diffBlocks', () => {
  it('keeps equal blocks', () => {
    expect(diffBlocks([text('a')], [text('a')])).toEqual([
      { kind: 'kept', beforeIndex: 0, afterIndex: 0, after: text('a') },
    ]);
  });

  it('shows a blocked tool call replaced by its explanation (same position)', () => {
    const before = [text('I will clean up.'), tool('t1', 'rm -rf ~'), tool('t2', 'ls')];
    const after = [text('I will clean up.'), text('Blocked: rm -rf ~'), tool('t2', 'ls')];
    expect(diffBlocks(before, after).map((b) => [b.kind, b.beforeIndex, b.afterIndex])).toEqual([
      ['kept', 0, 0],
      ['replaced', 1, 1],
      ['kept', 2, 2],
    ]);
    expect(diffBlocks(before, after)[1]).toMatchObject({
      before: tool('t1', 'rm -rf ~'),
      after: text('Blocked: rm -rf ~'),
    });
  });

  it('pairs a removed tool call with the explanation text placed elsewhere', () => {
    // The judge puts replacement text before the tool calls that passed.
    const before = [text('ok'), tool('t1', 'ls'), tool('t2', 'rm -rf /')];
    const after = [text('ok'), text('Blocked: rm -rf /'), tool('t1', 'ls')];
    const rows = diffBlocks(before, after);
    expect(rows.map((b) => [b.kind, b.beforeIndex, b.afterIndex])).toEqual([
      ['kept', 0, 0],
      ['replaced', 2, 1],
      ['kept', 1, 2],
    ]);
  });

  it('lists removed and added blocks', () => {
    expect(diffBlocks([text('a'), text('b')], [text('a')]).map((b) => b.kind)).toEqual(['kept', 'removed']);
    expect(diffBlocks([], [text('new')])).toEqual([{ kind: 'added', afterIndex: 0, after: text('new') }]);
    // A removed tool call with no added text stays removed.
    expect(diffBlocks([tool('t', 'x')], []).map((b) => b.kind)).toEqual(['removed']);
  });
});

describe('diffMessages', () => {
  const user = (t: string): { role: string; content: Array<{ type: string; text: string }> } => ({
    role: 'user',
    content: [text(t)],
  });

  it('lists only the messages that changed, with their block view, and counts the rest', () => {
    const before = [user('one'), { role: 'assistant', content: [text('two')] }, user('pip install x')];
    const after = [user('one'), { role: 'assistant', content: [text('two')] }, user('uv add x')];
    const { messages, kept } = diffMessages(before, after);
    expect(kept).toBe(2);
    expect(messages).toEqual([
      {
        kind: 'changed',
        role: 'user',
        beforeIndex: 2,
        afterIndex: 2,
        blocks: [
          {
            kind: 'replaced',
            beforeIndex: 0,
            afterIndex: 0,
            before: text('pip install x'),
            after: text('uv add x'),
          },
        ],
      },
    ]);
  });

  it('reports removed and added messages, and kept ones on request', () => {
    const { messages } = diffMessages([user('a'), user('b')], [user('a')], true);
    expect(messages.map((m) => m.kind)).toEqual(['kept', 'removed']);
    expect(diffMessages([], [user('x')]).messages[0]).toMatchObject({ kind: 'added', afterIndex: 0 });
  });
});
