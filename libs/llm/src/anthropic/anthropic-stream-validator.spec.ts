import { ProtocolViolation } from '../canonical/protocol-violation';
import { AnthropicStreamValidator } from './anthropic-stream-validator';
import type { AnthropicStreamEvent } from './anthropic.types';

const start: AnthropicStreamEvent = {
  type: 'message_start',
  message: {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'm',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 1, output_tokens: 1 },
  },
};
const textStart = (index: number): AnthropicStreamEvent => ({
  type: 'content_block_start',
  index,
  content_block: { type: 'text', text: '' },
});
const toolStart = (index: number): AnthropicStreamEvent => ({
  type: 'content_block_start',
  index,
  content_block: { type: 'tool_use', id: 't', name: 'n', input: {} },
});
const textDelta = (index: number): AnthropicStreamEvent => ({
  type: 'content_block_delta',
  index,
  delta: { type: 'text_delta', text: 'x' },
});
const stop = (index: number): AnthropicStreamEvent => ({ type: 'content_block_stop', index });
const messageDelta: AnthropicStreamEvent = {
  type: 'message_delta',
  delta: { stop_reason: 'end_turn', stop_sequence: null },
  usage: { output_tokens: 3 },
};
const messageStop: AnthropicStreamEvent = { type: 'message_stop' };
const ping: AnthropicStreamEvent = { type: 'ping' };
const error: AnthropicStreamEvent = {
  type: 'error',
  error: { type: 'overloaded_error', message: 'Overloaded' },
};

/** Checks all events but the last, then returns what checking the last one does. */
function lastCheck(events: AnthropicStreamEvent[]): () => void {
  const validator = new AnthropicStreamValidator();
  const last = events[events.length - 1];
  for (const ev of events.slice(0, -1)) validator.check(ev);
  return () => {
    if (last !== undefined) validator.check(last);
  };
}

describe('AnthropicStreamValidator', () => {
  it('accepts a complete stream, with pings anywhere, and is finished after message_stop', () => {
    const validator = new AnthropicStreamValidator();
    const events = [
      ping,
      start,
      ping,
      textStart(0),
      textDelta(0),
      ping,
      stop(0),
      toolStart(1),
      stop(1),
      messageDelta,
      ping,
    ];
    for (const ev of events) validator.check(ev);
    expect(validator.finished).toBe(false);
    validator.check(messageStop);
    expect(validator.finished).toBe(true);
  });

  it('accepts thinking, signature, input_json and unknown deltas on the right blocks', () => {
    const validator = new AnthropicStreamValidator();
    for (const ev of [
      start,
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hm' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } },
      stop(0),
      {
        type: 'content_block_start',
        index: 1,
        content_block: { type: 'server_tool_use', id: 's', name: 'web_search', input: {} },
      },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{}' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'future_delta', x: 1 } },
      stop(1),
    ] satisfies AnthropicStreamEvent[]) {
      validator.check(ev);
    }
  });

  it.each<[string, AnthropicStreamEvent[], RegExp]>([
    ['a delta before message_start', [textDelta(0)], /before message_start/],
    ['a delta before its block starts', [start, textDelta(0)], /no block is open/],
    ['a second message_start', [start, start], /second message_start/],
    [
      'message_start with content',
      [
        {
          ...start,
          message: { ...start.message, content: [{ type: 'text', text: 'x' }] },
        },
      ],
      /empty content/,
    ],
    ['a first block at index 1', [start, textStart(1)], /index 1, expected 0/],
    ['a repeated index', [start, textStart(0), stop(0), textStart(0)], /index 0, expected 1/],
    ['two open blocks', [start, textStart(0), textStart(1)], /block 0 is open/],
    [
      'a delta for another index',
      [start, textStart(0), stop(0), textStart(1), textDelta(2)],
      /index 2 but block 1 is open/,
    ],
    ['a stop for another index', [start, textStart(0), stop(1)], /index 1 but block 0 is open/],
    [
      'a text delta on a tool block',
      [start, toolStart(0), textDelta(0)],
      /text_delta for block 0 of type tool_use/,
    ],
    [
      'an input_json delta on a text block',
      [
        start,
        textStart(0),
        { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '' } },
      ],
      /input_json_delta/,
    ],
    ['message_delta with a block open', [start, textStart(0), messageDelta], /while block 0 is open/],
    [
      'message_delta without stop_reason',
      [start, { type: 'message_delta', delta: { stop_reason: null } }],
      /without a stop_reason/,
    ],
    ['two message_deltas', [start, messageDelta, messageDelta], /message_delta after message_delta/],
    ['a block after message_delta', [start, messageDelta, textStart(0)], /after message_delta/],
    ['message_stop without message_delta', [start, messageStop], /message_stop before message_delta/],
    ['an event after message_stop', [start, messageDelta, messageStop, ping], /after the end of the stream/],
    ['an event after an error', [start, error, textStart(0)], /after the end of the stream/],
  ])('rejects %s', (_name, events, message) => {
    const check = lastCheck(events);
    expect(check).toThrow(ProtocolViolation);
    expect(check).toThrow(message);
  });

  it('accepts an error anywhere, which finishes the stream', () => {
    for (const prefix of [[], [start], [start, textStart(0)], [start, messageDelta]]) {
      const validator = new AnthropicStreamValidator();
      for (const ev of prefix) validator.check(ev);
      validator.check(error);
      expect(validator.finished).toBe(true);
    }
  });
});
