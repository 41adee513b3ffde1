import { ProtocolViolation } from '../canonical/protocol-violation';
import { SseDecoder } from './sse-decoder';
import {
  OPENAI_DONE_FRAME,
  OPENAI_KEEPALIVE_FRAME,
  encodeAnthropicEvent,
  encodeOpenAIChunk,
  encodeSseFrame,
} from './sse-encoder';

describe('SSE encoder', () => {
  it('writes an optional event line, one data line per line of data, and a blank line', () => {
    expect(encodeSseFrame('x')).toBe('data: x\n\n');
    expect(encodeSseFrame('x', 'ping')).toBe('event: ping\ndata: x\n\n');
    expect(encodeSseFrame('a\nb\r\nc\rd')).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n');
    expect(encodeSseFrame('')).toBe('data: \n\n');
  });

  it('refuses an event name with a line break', () => {
    expect(() => encodeSseFrame('x', 'a\nb')).toThrow(ProtocolViolation);
  });

  it('encodes Anthropic events with their type as the event name', () => {
    expect(encodeAnthropicEvent({ type: 'ping' })).toBe('event: ping\ndata: {"type":"ping"}\n\n');
    const text = encodeAnthropicEvent({
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: 'a\nb' },
    });
    const [frame] = new SseDecoder().push(text);
    expect(frame?.event).toBe('content_block_delta');
    expect(JSON.parse(frame?.data ?? '')).toEqual({
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: 'a\nb' },
    });
  });

  it('encodes OpenAI chunks as bare data frames, and has the [DONE] and keep-alive frames', () => {
    expect(encodeOpenAIChunk({ a: 1 })).toBe('data: {"a":1}\n\n');
    expect(OPENAI_DONE_FRAME).toBe('data: [DONE]\n\n');
    expect(new SseDecoder().push(OPENAI_KEEPALIVE_FRAME)).toEqual([]);
  });
});
