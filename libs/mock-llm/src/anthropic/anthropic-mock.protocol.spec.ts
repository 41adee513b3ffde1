import fc from 'fast-check';
import type { MockReplyContext } from '../mock-protocol.types';
import { buildMockReply } from '../reply/mock-reply.plan';
import { anthropicMockProtocol } from './anthropic-mock.protocol';

const ctx: MockReplyContext = {
  seq: 7,
  model: 'mock-large',
  inputTokens: 42,
  created: 0,
  includeUsage: false,
};

interface Frame {
  event: string;
  data: Record<string, unknown>;
}

function parseFrame(frame: string): Frame {
  const match = /^event: (\S+)\ndata: (.*)\n\n$/s.exec(frame);
  if (match === null) throw new Error(`bad frame ${frame}`);
  return { event: match[1] ?? '', data: JSON.parse(match[2] ?? '') as Record<string, unknown> };
}

describe('anthropicMockProtocol', () => {
  it('streams thinking, text and tool blocks in order with indices 0..n', () => {
    const plan = buildMockReply({
      thinking: 'step one two',
      text: 'Hi there',
      tools: [
        { name: 'a', arguments: { city: 'Paris' } },
        { name: 'b', arguments: '{}', id: 'toolu_custom' },
      ],
    });
    const { frames } = anthropicMockProtocol.frames(plan, ctx);
    const parsed = frames.map(parseFrame);
    expect(parsed.map((f) => f.event)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    for (const f of parsed) expect(f.data.type).toBe(f.event);
    expect(parsed[0]?.data.message).toMatchObject({
      id: 'msg_mock_7',
      model: 'mock-large',
      content: [],
      usage: { input_tokens: 42, output_tokens: 1 },
    });
    expect(parsed[6]?.data.delta).toEqual({ type: 'signature_delta', signature: plan.signature });
    expect(parsed[12]?.data).toMatchObject({
      index: 2,
      content_block: { type: 'tool_use', id: 'toolu_mock_0', name: 'a', input: {} },
    });
    expect(parsed[16]?.data).toMatchObject({ index: 3, content_block: { id: 'toolu_custom' } });
    expect(parsed[19]?.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { output_tokens: plan.outputTokens },
    });
  });

  it('places fault cuts after the preamble and after each delta', () => {
    const plan = buildMockReply({ words: 3 });
    const { frames, cuts } = anthropicMockProtocol.frames(plan, ctx);
    expect(cuts).toEqual([2, 4, 5, 6]);
    expect(frames[cuts[1]! - 1]).toContain('"text":"alpha"');
  });

  it('is deterministic and reassembles the text (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 60 }), fc.integer({ min: 1, max: 4 }), (words, wordsPerChunk) => {
        const plan = buildMockReply({ words, wordsPerChunk });
        const frames = anthropicMockProtocol.frames(plan, ctx).frames;
        expect(anthropicMockProtocol.frames(buildMockReply({ words, wordsPerChunk }), ctx).frames).toEqual(
          frames,
        );
        const text = frames
          .map(parseFrame)
          .filter((f) => f.event === 'content_block_delta')
          .map((f) => (f.data.delta as { text: string }).text)
          .join('');
        expect(text).toBe(plan.text);
      }),
    );
  });

  it('renders the non-streaming message with parsed tool input and signature', () => {
    const plan = buildMockReply({
      thinking: 'hmm',
      text: 'ok',
      tools: [{ name: 'a', arguments: { x: [1] } }],
    });
    expect(JSON.parse(anthropicMockProtocol.message(plan, ctx))).toEqual({
      id: 'msg_mock_7',
      type: 'message',
      role: 'assistant',
      model: 'mock-large',
      content: [
        { type: 'thinking', thinking: 'hmm', signature: plan.signature },
        { type: 'text', text: 'ok' },
        { type: 'tool_use', id: 'toolu_mock_0', name: 'a', input: { x: [1] } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: {
        input_tokens: 42,
        output_tokens: plan.outputTokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
  });

  it('maps statuses to error types, in and out of band', () => {
    const body = (status: number): unknown =>
      JSON.parse(anthropicMockProtocol.errorBody({ status, type: undefined, message: undefined }));
    expect(body(429)).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(body(529)).toMatchObject({ error: { type: 'overloaded_error', message: 'Overloaded' } });
    expect(body(418)).toMatchObject({ error: { type: 'invalid_request_error' } });
    expect(body(503)).toMatchObject({ error: { type: 'api_error' } });
    expect(parseFrame(anthropicMockProtocol.inBandError(undefined, 'boom'))).toEqual({
      event: 'error',
      data: { type: 'error', error: { type: 'overloaded_error', message: 'boom' } },
    });
    expect(anthropicMockProtocol.inBandErrorStatus(undefined)).toBe(529);
    expect(anthropicMockProtocol.inBandErrorStatus('rate_limit_error')).toBe(429);
    expect(anthropicMockProtocol.validate({ model: 'm', messages: [] })).toMatch(/max_tokens/);
  });
});
