import fc from 'fast-check';
import type { MockReplyContext } from '../mock-protocol.types';
import { buildMockReply } from '../reply/mock-reply.plan';
import { openAiMockProtocol } from './openai-mock.protocol';

const ctx: MockReplyContext = {
  seq: 3,
  model: 'gpt-mock',
  inputTokens: 10,
  created: 1234,
  includeUsage: true,
};

interface Chunk {
  choices: { delta: Record<string, unknown>; finish_reason: string | null }[];
  usage?: Record<string, number> | null;
}

function parseFrames(frames: readonly string[]): Chunk[] {
  expect(frames[frames.length - 1]).toBe('data: [DONE]\n\n');
  return frames.slice(0, -1).map((frame) => {
    expect(frame).toMatch(/^data: .*\n\n$/s);
    return JSON.parse(frame.slice('data: '.length)) as Chunk;
  });
}

describe('openAiMockProtocol', () => {
  it('streams role, content, tool calls, finish and usage chunks', () => {
    const plan = buildMockReply({
      text: 'Two words',
      thinking: 'dropped',
      argsChunkSize: 5,
      tools: [
        { name: 'a', arguments: { q: 'x' } },
        { name: 'b', arguments: { n: 1 } },
      ],
    });
    const chunks = parseFrames(openAiMockProtocol.frames(plan, ctx).frames);
    expect(chunks[0]).toMatchObject({
      id: 'chatcmpl-mock-3',
      object: 'chat.completion.chunk',
      created: 1234,
      model: 'gpt-mock',
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
      usage: null,
    });
    expect(chunks.slice(1, 3).map((c) => c.choices[0]?.delta.content)).toEqual(['Two', ' words']);
    expect(chunks[3]?.choices[0]?.delta).toEqual({
      tool_calls: [{ index: 0, id: 'call_mock_0', type: 'function', function: { name: 'a', arguments: '' } }],
    });
    const args = new Map<number, string>();
    for (const chunk of chunks) {
      const calls = chunk.choices[0]?.delta.tool_calls as
        { index: number; function: { arguments: string } }[] | undefined;
      for (const call of calls ?? [])
        args.set(call.index, (args.get(call.index) ?? '') + call.function.arguments);
    }
    expect([...args.values()].map((a) => JSON.parse(a) as unknown)).toEqual([{ q: 'x' }, { n: 1 }]);
    const finish = chunks[chunks.length - 2];
    expect(finish?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'tool_calls' });
    expect(chunks[chunks.length - 1]).toMatchObject({
      choices: [],
      usage: {
        prompt_tokens: 10,
        completion_tokens: plan.outputTokens,
        total_tokens: 10 + plan.outputTokens,
      },
    });
  });

  it('omits usage without include_usage and maps stop reasons', () => {
    const plan = buildMockReply({ text: 'x', stopReason: 'max_tokens' });
    const chunks = parseFrames(openAiMockProtocol.frames(plan, { ...ctx, includeUsage: false }).frames);
    expect(chunks.every((c) => !('usage' in c))).toBe(true);
    expect(chunks[chunks.length - 1]?.choices[0]?.finish_reason).toBe('length');
  });

  it('counts content and argument deltas for fault cuts, not the tool header', () => {
    const plan = buildMockReply({ text: 'a b', argsChunkSize: 100, tools: [{ name: 't' }] });
    const { cuts } = openAiMockProtocol.frames(plan, ctx);
    // role | a | b | tool header | args
    expect(cuts).toEqual([1, 2, 3, 5]);
  });

  it('reassembles any streamed arguments (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.integer({ min: 1, max: 16 }),
        (args, size) => {
          const plan = buildMockReply({ tools: [{ name: 'f', arguments: args }], argsChunkSize: size });
          const joined = parseFrames(openAiMockProtocol.frames(plan, ctx).frames)
            .flatMap((c) => (c.choices[0]?.delta.tool_calls ?? []) as { function: { arguments: string } }[])
            .map((call) => call.function.arguments)
            .join('');
          expect(joined).toBe(JSON.stringify(args));
        },
      ),
    );
  });

  it('renders the non-streaming completion and errors', () => {
    const plan = buildMockReply({ tools: [{ name: 'a', arguments: '{"raw":true}', id: 'call_x' }] });
    expect(JSON.parse(openAiMockProtocol.message(plan, ctx))).toMatchObject({
      object: 'chat.completion',
      choices: [
        {
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_x', type: 'function', function: { name: 'a', arguments: '{"raw":true}' } },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 10 },
    });
    const error = (status: number): unknown =>
      JSON.parse(openAiMockProtocol.errorBody({ status, type: undefined, message: 'm' }));
    expect(error(401)).toEqual({
      error: { message: 'm', type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
    });
    expect(error(429)).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
    expect(error(503)).toMatchObject({ error: { type: 'server_error' } });
    expect(openAiMockProtocol.inBandError(undefined, undefined)).toMatch(
      /^data: \{"error":\{.*"server_error"/,
    );
    expect(openAiMockProtocol.validate({ model: 'm' })).toMatch(/messages/);
  });
});
