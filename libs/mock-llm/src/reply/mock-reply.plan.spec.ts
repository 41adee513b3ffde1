import { buildMockReply, DEFAULT_REPLY_TEXT } from './mock-reply.plan';

describe('buildMockReply', () => {
  it('defaults to the fixed reply, one word per delta', () => {
    const plan = buildMockReply({});
    expect(plan.text).toBe(DEFAULT_REPLY_TEXT);
    expect(plan.textChunks.join('')).toBe(DEFAULT_REPLY_TEXT);
    expect(plan.textChunks[1]).toBe(' from');
    expect(plan.thinking).toBeNull();
    expect(plan.tools).toEqual([]);
    expect(plan.stopReason).toBe('end_turn');
    expect(plan.outputTokens).toBe(Math.ceil(DEFAULT_REPLY_TEXT.length / 4));
  });

  it('has no text with tools only, and text first when both are scripted', () => {
    const toolsOnly = buildMockReply({ tools: [{ name: 'a' }] });
    expect(toolsOnly.text).toBeNull();
    expect(toolsOnly.textChunks).toEqual([]);
    expect(toolsOnly.stopReason).toBe('tool_use');
    expect(toolsOnly.tools[0]).toMatchObject({ name: 'a', arguments: '{}', input: {} });
    const both = buildMockReply({ text: 'Calling.', tools: [{ name: 'a', arguments: { q: 1 } }] });
    expect(both.text).toBe('Calling.');
  });

  it('serializes and splits arguments, keeping raw strings verbatim', () => {
    const plan = buildMockReply({
      argsChunkSize: 4,
      tools: [
        { name: 'obj', arguments: { city: 'Paris' }, id: 'my_id' },
        { name: 'raw', arguments: '{"x": 1' },
      ],
    });
    expect(plan.tools[0]).toMatchObject({
      id: 'my_id',
      arguments: '{"city":"Paris"}',
      input: { city: 'Paris' },
    });
    expect(plan.tools[0]?.fragments).toEqual(['{"ci', 'ty":', '"Par', 'is"}']);
    expect(plan.tools[1]).toMatchObject({ id: undefined, arguments: '{"x": 1', input: '{"x": 1' });
  });

  it('applies words, thinking, stop reason and usage overrides', () => {
    const plan = buildMockReply({
      words: 5,
      wordsPerChunk: 2,
      thinking: 'a b c',
      stopReason: 'max_tokens',
      usage: { input_tokens: 11, output_tokens: 22 },
    });
    expect(plan.text).toBe('alpha bravo charlie delta echo');
    expect(plan.textChunks).toEqual(['alpha bravo', ' charlie delta', ' echo']);
    expect(plan.thinkingChunks).toEqual(['a b', ' c']);
    expect(plan.signature).toMatch(/^mocksig_/);
    expect(plan.stopReason).toBe('max_tokens');
    expect(plan.inputTokens).toBe(11);
    expect(plan.outputTokens).toBe(22);
  });

  it('is deterministic', () => {
    const script = { words: 30, thinking: 'x y', tools: [{ name: 't', arguments: { a: [1, 2] } }] };
    expect(buildMockReply(script)).toEqual(buildMockReply(script));
  });
});
