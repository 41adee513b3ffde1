import {
  encodeAnthropicEvent,
  encodeOpenAIChunk,
  OPENAI_DONE_FRAME,
  ProtocolViolation,
  SseDecoder,
  type AnthropicStreamEvent,
  type OpenAIChunk,
  type OpenAIChunkDelta,
  type SseFrame,
} from '@warden/llm';
import type { FrameRelay } from './frame-relay';
import { AnthropicPassthroughRelay, OpenAIPassthroughRelay } from './passthrough-relays';

function framesOf(text: string): SseFrame[] {
  const decoder = new SseDecoder();
  return [...decoder.push(text), ...decoder.end()];
}

/** Feeds every frame of `upstream`; returns the concatenated client text. */
function relayAll(relay: FrameRelay, upstream: string): string {
  let out = '';
  for (const frame of framesOf(upstream)) {
    const text = relay.frame(frame);
    if (typeof text !== 'string') throw new Error('a passthrough relay is synchronous');
    out += text;
  }
  return out;
}

function single(text: string): SseFrame {
  const [frame] = framesOf(text);
  if (frame === undefined) throw new Error('no frame');
  return frame;
}

describe('AnthropicPassthroughRelay', () => {
  // Written by hand: CRLF line endings, no space after the colon, a comment inside a frame, odd JSON spacing,
  // a thinking signature and fields this gateway does not know. None of it may be re-encoded.
  const upstream = [
    'event: message_start\r\ndata:{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1,"service_tier":"standard"}}}\r\n\r\n',
    ': upstream comment\nevent: ping\ndata: { "type" : "ping" }\n\n',
    'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}\n\n',
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hmm"}}\n\n',
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCkYIARgCIkA="}}\n\n',
    'event: content_block_stop\ndata: {"type":"content_block_stop","index":0,"future_field":[1,2]}\n\n',
    'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":20}}\n\n',
    'event: message_stop\ndata: {"type":"message_stop"}\n\n',
  ].join('');

  it('forwards the upstream bytes unchanged and records the usage', () => {
    const relay = new AnthropicPassthroughRelay();
    expect(relayAll(relay, upstream)).toBe(upstream);
    expect(relay.finished).toBe(true);
    expect(relay.end()).toBe('');
    expect(relay.usage).toEqual({ inputTokens: 12, outputTokens: 20 });
  });

  it('ends with a blank line a last frame the upstream cut short, so that an error written after it stays apart', () => {
    const relay = new AnthropicPassthroughRelay();
    const cut = upstream.slice(0, upstream.lastIndexOf('\n\n'));
    const out = relayAll(relay, cut) + relay.fail('protocol', 'cut');
    expect(framesOf(out).map((f) => f.event)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
      'error',
    ]);
  });

  it('writes nothing for a frame with empty data', () => {
    expect(new AnthropicPassthroughRelay().frame(single('data:\n\n'))).toBe('');
  });

  it.each<[string, AnthropicStreamEvent[]]>([
    ['an event before message_start', [{ type: 'content_block_stop', index: 0 }]],
    [
      'a delta for a block that is not open',
      [
        {
          type: 'message_start',
          message: {
            id: 'm',
            type: 'message',
            role: 'assistant',
            model: 'm',
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: {},
          },
        },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'x' } },
      ],
    ],
  ])('rejects %s', (_name, events) => {
    const relay = new AnthropicPassthroughRelay();
    expect(() => relayAll(relay, events.map((e) => encodeAnthropicEvent(e)).join(''))).toThrow(
      ProtocolViolation,
    );
  });

  it('rejects malformed JSON', () => {
    expect(() => new AnthropicPassthroughRelay().frame(single('event: ping\ndata: {"type":\n\n'))).toThrow(
      ProtocolViolation,
    );
  });

  it('throws at end() before message_stop', () => {
    const relay = new AnthropicPassthroughRelay();
    const cut = upstream.slice(0, upstream.indexOf('event: message_delta'));
    relayAll(relay, cut);
    expect(relay.finished).toBe(false);
    expect(() => relay.end()).toThrow(ProtocolViolation);
  });

  it('forwards an upstream error event, which completes the stream', () => {
    const relay = new AnthropicPassthroughRelay();
    const error =
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
    expect(relayAll(relay, upstream.slice(0, upstream.indexOf(': upstream comment')) + error)).toMatch(
      new RegExp(`${error}$`),
    );
    expect(relay.finished).toBe(true);
    expect(relay.end()).toBe('');
  });

  it('fails with an Anthropic error event', () => {
    expect(new AnthropicPassthroughRelay().fail('timeout', 'no data for 300 s')).toBe(
      'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"no data for 300 s"}}\n\n',
    );
  });
});

function chunk(delta: OpenAIChunkDelta, finishReason: string | null = null): OpenAIChunk {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'gpt-4o',
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
}

describe('OpenAIPassthroughRelay', () => {
  const body = [
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"obfuscation":"x1"}\n\n',
    'data:{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\r\n\r\n',
    encodeOpenAIChunk(chunk({}, 'stop')),
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}\n\n',
  ].join('');
  const upstream = body + OPENAI_DONE_FRAME;

  it('forwards the upstream bytes unchanged, [DONE] included, and records the usage', () => {
    const relay = new OpenAIPassthroughRelay();
    expect(relayAll(relay, upstream)).toBe(upstream);
    expect(relay.finished).toBe(true);
    expect(relay.end()).toBe('');
    expect(relay.usage).toEqual({ inputTokens: 9, outputTokens: 3 });
  });

  it.each<[string, string]>([
    [
      'a chunk that is not a chat.completion.chunk',
      encodeOpenAIChunk({ object: 'chat.completion', choices: [] }),
    ],
    [
      'content after finish_reason',
      encodeOpenAIChunk(chunk({}, 'stop')) + encodeOpenAIChunk(chunk({ content: 'x' })),
    ],
    ['[DONE] before any finish_reason', encodeOpenAIChunk(chunk({ content: 'x' })) + OPENAI_DONE_FRAME],
    ['a chunk after [DONE]', upstream + encodeOpenAIChunk(chunk({}))],
    ['malformed JSON', 'data: {"id":\n\n'],
  ])('rejects %s', (_name, text) => {
    expect(() => relayAll(new OpenAIPassthroughRelay(), text)).toThrow(ProtocolViolation);
  });

  it('throws at end() before [DONE], even after finish_reason', () => {
    const relay = new OpenAIPassthroughRelay();
    relayAll(relay, body);
    expect(relay.finished).toBe(false);
    expect(() => relay.end()).toThrow(ProtocolViolation);
  });

  it('appends [DONE] to an upstream {error} frame, which completes the stream', () => {
    const relay = new OpenAIPassthroughRelay();
    const error =
      'data: {"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}\n\n';
    const first = encodeOpenAIChunk(chunk({ role: 'assistant', content: '' }));
    expect(relayAll(relay, first + error)).toBe(first + error + OPENAI_DONE_FRAME);
    expect(relay.finished).toBe(true);
    expect(relay.end()).toBe('');
  });

  it('fails with an OpenAI error chunk and [DONE]', () => {
    const frames = framesOf(new OpenAIPassthroughRelay().fail('upstream', 'connection reset'));
    expect(frames.map((f) => f.data)).toEqual([
      JSON.stringify({
        error: { message: 'connection reset', type: 'server_error', param: null, code: 'upstream_error' },
      }),
      '[DONE]',
    ]);
  });
});
