import fc from 'fast-check';
import { AnthropicStreamValidator } from '../anthropic/anthropic-stream-validator';
import type {
  AnthropicContentBlock,
  AnthropicResponse,
  AnthropicStreamEvent,
  AnthropicUsage,
} from '../anthropic/anthropic.types';
import type { JsonObject } from '../json';
import { SseDecoder } from '../sse/sse-decoder';
import { encodeAnthropicEvent } from '../sse/sse-encoder';
import {
  MessageAssembler,
  RAW_TOOL_INPUT_FIELD,
  mergeAnthropicUsage,
  messageToEvents,
} from './message-assembler';
import { ProtocolViolation } from './protocol-violation';

/* ---------- generator of valid canonical streams (with the message they stream) ---------- */

type BlockSpec =
  | { kind: 'text'; pieces: string[] }
  | { kind: 'thinking'; pieces: string[]; signature: string }
  | { kind: 'tool'; id: string; name: string; input: JsonObject; cuts: number[] }
  | { kind: 'redacted'; data: string };

interface StreamSpec {
  id: string;
  model: string;
  extra: string | undefined;
  blocks: BlockSpec[];
  stopReason: string;
  stopSequence: string | null;
  startUsage: AnthropicUsage;
  outputTokens: number;
  pings: boolean[];
}

const text = fc.string({ unit: 'binary', maxLength: 16 });
const pieces = fc.array(text, { maxLength: 4 });
const jsonInput = fc
  .dictionary(
    fc.string({ maxLength: 6 }).filter((k) => k !== '__proto__'),
    fc.jsonValue({ maxDepth: 2 }),
    { maxKeys: 4 },
  )
  .map((o) => JSON.parse(JSON.stringify(o)) as JsonObject);

const blockSpec: fc.Arbitrary<BlockSpec> = fc.oneof(
  fc.record({ kind: fc.constant('text' as const), pieces }),
  fc.record({
    kind: fc.constant('thinking' as const),
    pieces,
    signature: fc.base64String({ maxLength: 24 }),
  }),
  fc.record({
    kind: fc.constant('tool' as const),
    id: fc.string({ minLength: 1, maxLength: 8 }).map((s) => `toolu_${s}`),
    name: fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,10}$/),
    input: jsonInput,
    cuts: fc.array(fc.nat(), { maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant('redacted' as const), data: fc.base64String({ maxLength: 16 }) }),
);

const usage = fc.record(
  {
    input_tokens: fc.nat(10_000),
    output_tokens: fc.nat(5),
    cache_read_input_tokens: fc.option(fc.nat(10_000), { nil: null }),
    cache_creation_input_tokens: fc.option(fc.nat(10_000), { nil: null }),
  },
  { requiredKeys: ['input_tokens', 'output_tokens'] },
);

const streamSpec: fc.Arbitrary<StreamSpec> = fc
  .record({
    id: fc.string({ maxLength: 8 }).map((s) => `msg_${s}`),
    model: fc.constantFrom('claude-sonnet-4-5', 'mock-model'),
    extra: fc.option(text, { nil: undefined }),
    blocks: fc.array(blockSpec, { maxLength: 5 }),
    stopReason: fc.constantFrom(
      'end_turn',
      'max_tokens',
      'stop_sequence',
      'tool_use',
      'pause_turn',
      'refusal',
    ),
    stopSequence: fc.option(text, { nil: null }),
    startUsage: usage,
    outputTokens: fc.nat(10_000),
    pings: fc.array(fc.boolean(), { maxLength: 40 }),
  })
  .map((s) => ({ ...s, stopSequence: s.stopReason === 'stop_sequence' ? s.stopSequence : null }));

function cutString(s: string, cuts: number[]): string[] {
  const positions = [...new Set(cuts.map((c) => c % (s.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let start = 0;
  for (const p of positions) {
    out.push(s.slice(start, p));
    start = p;
  }
  out.push(s.slice(start));
  return out;
}

/** The events of a spec (pings sprinkled where `pings` says) and the message they stream. */
function build(spec: StreamSpec): { events: AnthropicStreamEvent[]; message: AnthropicResponse } {
  const start: AnthropicResponse = {
    id: spec.id,
    type: 'message',
    role: 'assistant',
    model: spec.model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: spec.startUsage,
  };
  if (spec.extra !== undefined) start.x_extra = spec.extra;
  const events: AnthropicStreamEvent[] = [{ type: 'message_start', message: start }];
  const content: AnthropicContentBlock[] = [];
  spec.blocks.forEach((b, index) => {
    switch (b.kind) {
      case 'text':
        events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
        for (const t of b.pieces)
          events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: t } });
        content.push({ type: 'text', text: b.pieces.join('') });
        break;
      case 'thinking':
        events.push({
          type: 'content_block_start',
          index,
          content_block: { type: 'thinking', thinking: '' },
        });
        for (const t of b.pieces) {
          events.push({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: t } });
        }
        events.push({
          type: 'content_block_delta',
          index,
          delta: { type: 'signature_delta', signature: b.signature },
        });
        content.push({ type: 'thinking', thinking: b.pieces.join(''), signature: b.signature });
        break;
      case 'tool':
        events.push({
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} },
        });
        for (const p of cutString(JSON.stringify(b.input), b.cuts)) {
          events.push({
            type: 'content_block_delta',
            index,
            delta: { type: 'input_json_delta', partial_json: p },
          });
        }
        content.push({ type: 'tool_use', id: b.id, name: b.name, input: b.input });
        break;
      case 'redacted':
        events.push({
          type: 'content_block_start',
          index,
          content_block: { type: 'redacted_thinking', data: b.data },
        });
        content.push({ type: 'redacted_thinking', data: b.data });
        break;
    }
    events.push({ type: 'content_block_stop', index });
  });
  const deltaUsage = { output_tokens: spec.outputTokens };
  events.push(
    {
      type: 'message_delta',
      delta: { stop_reason: spec.stopReason, stop_sequence: spec.stopSequence },
      usage: deltaUsage,
    },
    { type: 'message_stop' },
  );
  const message: AnthropicResponse = {
    ...start,
    content,
    stop_reason: spec.stopReason,
    stop_sequence: spec.stopSequence,
    usage: { ...spec.startUsage, ...deltaUsage },
  };
  // Sprinkle pings (allowed anywhere before message_stop).
  const withPings: AnthropicStreamEvent[] = [];
  events.forEach((ev, i) => {
    if (spec.pings[i] === true && ev.type !== 'message_start') withPings.push({ type: 'ping' });
    withPings.push(ev);
  });
  return { events: withPings, message };
}

function validate(events: AnthropicStreamEvent[]): AnthropicStreamValidator {
  const validator = new AnthropicStreamValidator();
  for (const ev of events) validator.check(ev);
  return validator;
}

function assemble(events: AnthropicStreamEvent[]): AnthropicResponse {
  const assembler = new MessageAssembler();
  for (const ev of events) assembler.push(ev);
  return assembler.message;
}

/* ---------- tests ---------- */

describe('canonical stream properties', () => {
  it('any valid canonical sequence validates, survives SSE encode/split/decode, and assembles to its message', () => {
    fc.assert(
      fc.property(streamSpec, fc.array(fc.nat(), { maxLength: 10 }), (spec, cuts) => {
        const { events, message } = build(spec);
        expect(validate(events).finished).toBe(true);

        const bytes = new TextEncoder().encode(events.map(encodeAnthropicEvent).join(''));
        const decoder = new SseDecoder();
        const positions = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const frames = [];
        let from = 0;
        for (const p of [...positions, bytes.length]) {
          frames.push(...decoder.push(bytes.subarray(from, p)));
          from = p;
        }
        frames.push(...decoder.end());
        expect(frames.map((f) => f.event)).toEqual(events.map((e) => e.type));
        expect(frames.map((f) => JSON.parse(f.data) as unknown)).toEqual(events);

        expect(assemble(events)).toEqual(message);
      }),
    );
  });

  it('messageToEvents(m) validates and MessageAssembler gives m back', () => {
    fc.assert(
      fc.property(streamSpec, (spec) => {
        const { message } = build(spec);
        const events = messageToEvents(message);
        expect(validate(events).finished).toBe(true);
        expect(assemble(events)).toEqual(message);
      }),
    );
  });
});

describe('MessageAssembler', () => {
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
      usage: { input_tokens: 10, output_tokens: 1, cache_read_input_tokens: 3 },
    },
  };

  it('throws before message_start and on a block out of order', () => {
    const assembler = new MessageAssembler();
    expect(() => assembler.message).toThrow(ProtocolViolation);
    assembler.push(start);
    expect(() =>
      assembler.push({ type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }),
    ).toThrow(ProtocolViolation);
  });

  it('keeps invalid tool JSON under RAW_TOOL_INPUT_FIELD with input {}, and streams it back unchanged', () => {
    const events: AnthropicStreamEvent[] = [
      start,
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 't', name: 'n', input: {} },
      },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '{"a": 1, "b"' },
      },
      { type: 'content_block_stop', index: 0 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'max_tokens', stop_sequence: null },
        usage: { output_tokens: 9 },
      },
      { type: 'message_stop' },
    ];
    const message = assemble(events);
    expect(message.content).toEqual([
      { type: 'tool_use', id: 't', name: 'n', input: {}, [RAW_TOOL_INPUT_FIELD]: '{"a": 1, "b"' },
    ]);
    expect(message.usage).toEqual({ input_tokens: 10, output_tokens: 9, cache_read_input_tokens: 3 });
    const again = messageToEvents(message);
    expect(again[1]).toEqual(events[1]);
    expect(again[2]).toEqual(events[2]);
    expect(assemble(again)).toEqual(message);
  });

  it('keeps a non-streamed tool input, appends citations and copies unknown message_delta fields', () => {
    const citation = { type: 'char_location', cited_text: 'x' };
    const message = assemble([
      start,
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '', citations: [] } },
      { type: 'content_block_delta', index: 0, delta: { type: 'citations_delta', citation } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hi' } },
      { type: 'content_block_stop', index: 0 },
      {
        type: 'content_block_start',
        index: 1,
        content_block: { type: 'tool_use', id: 't', name: 'n', input: { a: 1 } },
      },
      { type: 'content_block_stop', index: 1 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null, container: null } },
    ]);
    expect(message.content).toEqual([
      { type: 'text', text: 'hi', citations: [citation] },
      { type: 'tool_use', id: 't', name: 'n', input: { a: 1 } },
    ]);
    expect(message.container).toBeNull();
    expect(message.stop_reason).toBe('tool_use');
  });

  it('does not mutate the events it is given', () => {
    const block = { type: 'text', text: '', citations: [] };
    const assembler = new MessageAssembler();
    assembler.push(start);
    assembler.push({ type: 'content_block_start', index: 0, content_block: block });
    assembler.push({
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'citations_delta', citation: { a: 1 } },
    });
    assembler.push({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'x' } });
    expect(block).toEqual({ type: 'text', text: '', citations: [] });
  });
});

describe('mergeAnthropicUsage', () => {
  it('lets non-null counts of the later usage win', () => {
    expect(
      mergeAnthropicUsage(
        { input_tokens: 5, output_tokens: 1 },
        { output_tokens: 7, cache_read_input_tokens: null },
      ),
    ).toEqual({ input_tokens: 5, output_tokens: 7 });
  });
});
