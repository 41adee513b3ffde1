import fc from 'fast-check';
import { AnthropicStreamValidator } from '../anthropic/anthropic-stream-validator';
import type { AnthropicResponse, AnthropicStreamEvent, AnthropicUsage } from '../anthropic/anthropic.types';
import { MessageAssembler } from '../canonical/message-assembler';
import { ProtocolViolation } from '../canonical/protocol-violation';
import {
  anthropicStopToOpenAI,
  anthropicUsageToOpenAI,
  openAIFinishToAnthropic,
} from '../convert/stop-reason';
import type { JsonObject } from '../json';
import { SseDecoder } from '../sse/sse-decoder';
import { OPENAI_DONE_FRAME, encodeOpenAIChunk } from '../sse/sse-encoder';
import { OpenAIStreamDecoder } from './openai-stream-decoder';
import { OpenAIStreamEncoder } from './openai-stream-encoder';
import { OpenAIStreamValidator } from './openai-stream-validator';
import type { OpenAIChunk } from './openai.types';

const START_USAGE: AnthropicUsage = { input_tokens: 20, output_tokens: 1, cache_read_input_tokens: 5 };
const start = (id = 'msg_1', extra: JsonObject = {}): AnthropicStreamEvent => ({
  type: 'message_start',
  message: {
    id,
    type: 'message',
    role: 'assistant',
    model: 'claude-x',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: START_USAGE,
    ...extra,
  },
});

describe('OpenAIStreamEncoder', () => {
  it('encodes message_start, text, tool calls, finish and usage', () => {
    const encoder = new OpenAIStreamEncoder({ includeUsage: true });
    const events: AnthropicStreamEvent[] = [
      start('msg_1', { created: 1234 }),
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'secret' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Hi' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'ping' },
      {
        type: 'content_block_start',
        index: 2,
        content_block: { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} },
      },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"a":1}' } },
      { type: 'content_block_stop', index: 2 },
      {
        type: 'content_block_start',
        index: 3,
        content_block: { type: 'tool_use', id: 'toolu_2', name: 'g', input: { b: 2 } },
      },
      { type: 'content_block_stop', index: 3 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'tool_use', stop_sequence: null },
        usage: { output_tokens: 30 },
      },
      { type: 'message_stop' },
    ];
    const chunks = events.flatMap((ev) => encoder.encode(ev));
    const base = { id: 'chatcmpl-msg_1', object: 'chat.completion.chunk', created: 1234, model: 'claude-x' };
    const choice = (delta: object, finish: string | null = null): object => ({
      ...base,
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    expect(chunks).toEqual([
      choice({ role: 'assistant', content: '' }),
      choice({ content: 'Hi' }),
      choice({
        tool_calls: [{ index: 0, id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '' } }],
      }),
      choice({ tool_calls: [{ index: 0, function: { arguments: '{"a":1}' } }] }),
      choice({
        tool_calls: [{ index: 1, id: 'toolu_2', type: 'function', function: { name: 'g', arguments: '' } }],
      }),
      choice({ tool_calls: [{ index: 1, function: { arguments: '{"b":2}' } }] }),
      choice({}, 'tool_calls'),
      {
        ...base,
        choices: [],
        usage: {
          prompt_tokens: 25,
          completion_tokens: 30,
          total_tokens: 55,
          prompt_tokens_details: { cached_tokens: 5 },
        },
      },
    ]);
  });

  it('gives a tool call that got no arguments {} at its block stop, which clients parse', () => {
    const encoder = new OpenAIStreamEncoder({ includeUsage: false });
    const tool = (index: number, id: string): AnthropicStreamEvent => ({
      type: 'content_block_start',
      index,
      content_block: { type: 'tool_use', id, name: 'now', input: {} },
    });
    const events: AnthropicStreamEvent[] = [
      start(),
      tool(0, 'toolu_1'),
      // Anthropic streams a call without parameters as one empty fragment, or none.
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '' } },
      { type: 'content_block_stop', index: 0 },
      tool(1, 'toolu_2'),
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{}' } },
      { type: 'content_block_stop', index: 1 },
    ];
    const calls = events
      .flatMap((ev) => encoder.encode(ev))
      .flatMap((c) => c.choices.flatMap((choice) => choice.delta.tool_calls ?? []));
    const argumentsOf = (index: number): string =>
      calls
        .filter((c) => c.index === index)
        .map((c) => c.function?.arguments ?? '')
        .join('');
    expect(argumentsOf(0)).toBe('{}');
    expect(argumentsOf(1)).toBe('{}');
  });

  it('uses the id, model and created options verbatim, keeps a chatcmpl- id, and omits usage unless asked', () => {
    const withOptions = new OpenAIStreamEncoder({
      includeUsage: false,
      id: 'x1',
      model: 'gpt-alias',
      created: 7,
    });
    expect(withOptions.encode(start())[0]).toMatchObject({ id: 'x1', model: 'gpt-alias', created: 7 });
    const plain = new OpenAIStreamEncoder({ includeUsage: false });
    const first = plain.encode(start('chatcmpl-abc', { system_fingerprint: 'fp' }))[0];
    expect(first).toMatchObject({ id: 'chatcmpl-abc', system_fingerprint: 'fp' });
    expect(typeof first?.created).toBe('number');
    expect(plain.encode({ type: 'message_delta', delta: { stop_reason: 'max_tokens' } })).toEqual([
      expect.objectContaining({ choices: [{ index: 0, delta: {}, finish_reason: 'length' }] }),
    ]);
  });

  it("sends an OpenAI upstream's usage as it came when the counts are unchanged, and its service tier", () => {
    const reported = {
      prompt_tokens: 25,
      completion_tokens: 9,
      total_tokens: 34,
      prompt_tokens_details: { cached_tokens: 5, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 6, accepted_prediction_tokens: 0 },
      future_field: 'kept',
    };
    const usageChunk = (counts: AnthropicUsage): OpenAIChunk | undefined => {
      const encoder = new OpenAIStreamEncoder({
        includeUsage: true,
        upstreamId: true,
        upstreamUsage: () => reported,
      });
      const first = encoder.encode(
        start('chatcmpl-up', { usage: { input_tokens: 0, output_tokens: 0 }, service_tier: 'default' }),
      )[0];
      expect(first).toMatchObject({ id: 'chatcmpl-up', service_tier: 'default' });
      const chunks = encoder.encode({
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: counts,
      });
      expect(chunks.every((c) => c.service_tier === 'default')).toBe(true);
      return chunks.find((c) => c.choices.length === 0);
    };
    // The decoder's canonical counts of `reported`: the usage chunk is the upstream's own object.
    const same = { input_tokens: 20, output_tokens: 9, cache_read_input_tokens: 5 };
    expect(usageChunk(same)?.usage).toEqual(reported);
    // A policy changed the counts: they are what the client gets, the upstream's details do not go with them.
    const changed = usageChunk({ ...same, output_tokens: 3 })?.usage;
    expect(changed).toEqual(anthropicUsageToOpenAI({ ...same, output_tokens: 3 }));
  });

  it('refuses events before message_start and error events, and maps errors with encodeError', () => {
    const encoder = new OpenAIStreamEncoder({ includeUsage: false });
    expect(() =>
      encoder.encode({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    ).toThrow(ProtocolViolation);
    const error: AnthropicStreamEvent = {
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    };
    expect(() => encoder.encode(error)).toThrow(/encodeError/);
    expect(
      encoder.encodeError({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
    ).toEqual({
      error: { message: 'Overloaded', type: 'server_error', param: null, code: 'overloaded' },
    });
    const map = (type: string): unknown =>
      encoder.encodeError({ type: 'error', error: { type, message: 'm' } }).error;
    expect(map('api_error')).toMatchObject({ type: 'server_error', code: null });
    expect(map('rate_limit_error')).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(map('invalid_request_error')).toMatchObject({ type: 'invalid_request_error', code: null });
    expect(map('authentication_error')).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_api_key',
    });
    expect(map('brand_new_error')).toMatchObject({ type: 'server_error', code: null });
  });
});

/* ---------- round trip: canonical -> OpenAI chunks -> SSE -> canonical ---------- */

type BlockSpec =
  | { kind: 'text'; pieces: string[] }
  | { kind: 'thinking'; pieces: string[] }
  | { kind: 'tool'; id: string; name: string; input: JsonObject; cuts: number[]; streamed: boolean };

const text = fc.string({ unit: 'binary', maxLength: 12 });
const blockSpec: fc.Arbitrary<BlockSpec> = fc.oneof(
  fc.record({ kind: fc.constant('text' as const), pieces: fc.array(text, { maxLength: 4 }) }),
  fc.record({ kind: fc.constant('thinking' as const), pieces: fc.array(text, { maxLength: 3 }) }),
  fc.record({
    kind: fc.constant('tool' as const),
    id: fc.string({ minLength: 1, maxLength: 8 }).map((s) => `toolu_${s}`),
    name: fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,10}$/),
    input: fc
      .dictionary(
        fc.string({ maxLength: 5 }).filter((k) => k !== '__proto__'),
        fc.jsonValue({ maxDepth: 2 }),
        { maxKeys: 3 },
      )
      .map((o) => JSON.parse(JSON.stringify(o)) as JsonObject),
    cuts: fc.array(fc.nat(), { maxLength: 4 }),
    streamed: fc.boolean(),
  }),
);

function cutString(s: string, cuts: number[]): string[] {
  const positions = [...new Set(cuts.map((c) => c % (s.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const p of positions) {
    out.push(s.slice(from, p));
    from = p;
  }
  out.push(s.slice(from));
  return out;
}

function canonicalEvents(
  blocks: BlockSpec[],
  stopReason: string,
  usage: AnthropicUsage,
  outputTokens: number,
): AnthropicStreamEvent[] {
  const events: AnthropicStreamEvent[] = [
    {
      type: 'message_start',
      message: {
        id: 'msg_rt',
        type: 'message',
        role: 'assistant',
        model: 'claude-x',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage,
      },
    },
  ];
  blocks.forEach((b, index) => {
    if (b.kind === 'text') {
      events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const t of b.pieces)
        events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: t } });
    } else if (b.kind === 'thinking') {
      events.push({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '' } });
      for (const t of b.pieces) {
        events.push({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: t } });
      }
      events.push({
        type: 'content_block_delta',
        index,
        delta: { type: 'signature_delta', signature: 'c2ln' },
      });
    } else if (b.streamed) {
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
    } else {
      events.push({
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: b.id, name: b.name, input: b.input },
      });
    }
    events.push({ type: 'content_block_stop', index });
  });
  events.push(
    {
      type: 'message_delta',
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: outputTokens },
    },
    { type: 'message_stop' },
  );
  return events;
}

function assemble(events: AnthropicStreamEvent[]): AnthropicResponse {
  const assembler = new MessageAssembler();
  for (const ev of events) assembler.push(ev);
  return assembler.message;
}

const joinedText = (m: AnthropicResponse): string =>
  m.content.map((b) => (b.type === 'text' ? String(b.text) : '')).join('');
const toolCalls = (m: AnthropicResponse): unknown[] =>
  m.content.filter((b) => b.type === 'tool_use').map((b) => [b.id, b.name, b.input]);

describe('OpenAI round trip', () => {
  it('canonical -> encoder -> validator accepts -> SSE -> decoder gives an equivalent, valid canonical stream', () => {
    fc.assert(
      fc.property(
        fc.array(blockSpec, { maxLength: 5 }),
        fc.constantFrom('end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal'),
        fc.record({
          input_tokens: fc.nat(10_000),
          output_tokens: fc.nat(3),
          cache_read_input_tokens: fc.nat(10_000),
          cache_creation_input_tokens: fc.nat(10_000),
        }),
        fc.nat(10_000),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 8 }),
        (blocks, stopReason, usage, outputTokens, includeUsage, cuts) => {
          const original = canonicalEvents(blocks, stopReason, usage, outputTokens);
          const encoder = new OpenAIStreamEncoder({ includeUsage });
          const chunks = original.flatMap((ev) => encoder.encode(ev));

          const wire = new TextEncoder().encode(chunks.map(encodeOpenAIChunk).join('') + OPENAI_DONE_FRAME);
          const sse = new SseDecoder();
          const positions = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
          const frames = [];
          let from = 0;
          for (const p of [...positions, wire.length]) {
            frames.push(...sse.push(wire.subarray(from, p)));
            from = p;
          }
          frames.push(...sse.end());

          const validator = new OpenAIStreamValidator();
          const decoder = new OpenAIStreamDecoder();
          const decoded: AnthropicStreamEvent[] = [];
          for (const frame of frames) {
            if (frame.data === '[DONE]') {
              validator.done();
              decoded.push(...decoder.finish());
            } else {
              const chunk = JSON.parse(frame.data) as OpenAIChunk;
              validator.check(chunk);
              decoded.push(...decoder.push(chunk));
            }
          }
          expect(validator.finished).toBe(true);

          const anthropicValidator = new AnthropicStreamValidator();
          for (const ev of decoded) anthropicValidator.check(ev);
          expect(anthropicValidator.finished).toBe(true);

          const before = assemble(original);
          const after = assemble(decoded);
          expect(after.id).toBe('chatcmpl-msg_rt');
          expect(after.model).toBe('claude-x');
          expect(joinedText(after)).toBe(joinedText(before));
          expect(toolCalls(after)).toEqual(toolCalls(before));
          expect(after.stop_reason).toBe(openAIFinishToAnthropic(anthropicStopToOpenAI(stopReason)));
          if (includeUsage)
            expect(anthropicUsageToOpenAI(after.usage)).toEqual(anthropicUsageToOpenAI(before.usage));
          else expect(after.usage).toEqual({ input_tokens: 0, output_tokens: 0 });
        },
      ),
    );
  });
});
