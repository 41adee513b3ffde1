import fc from 'fast-check';
import { AnthropicStreamValidator } from '../anthropic/anthropic-stream-validator';
import type { AnthropicResponse, AnthropicStreamEvent } from '../anthropic/anthropic.types';
import { MessageAssembler } from '../canonical/message-assembler';
import { ProtocolViolation } from '../canonical/protocol-violation';
import { MAX_BUFFERED_ARGUMENTS_CHARS, OpenAIStreamDecoder } from './openai-stream-decoder';
import type {
  OpenAIChunk,
  OpenAIChunkDelta,
  OpenAIFinishReason,
  OpenAIToolCallDelta,
  OpenAIUsage,
} from './openai.types';

const BASE = {
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model: 'gpt-x',
} as const;

function chunk(delta: OpenAIChunkDelta, finishReason: OpenAIFinishReason | null = null): OpenAIChunk {
  return { ...BASE, choices: [{ index: 0, delta, finish_reason: finishReason }] };
}
function usageChunk(usage: OpenAIUsage): OpenAIChunk {
  return { ...BASE, choices: [], usage };
}
function tool(index: number, args: string, first = false): OpenAIToolCallDelta {
  return first
    ? { index, id: `call_${index}`, type: 'function', function: { name: `fn${index}`, arguments: args } }
    : { index, function: { arguments: args } };
}

/** Decodes chunks, finishes, validates every event and returns the events and the assembled message. */
function run(chunks: OpenAIChunk[]): { events: AnthropicStreamEvent[]; message: AnthropicResponse } {
  const decoder = new OpenAIStreamDecoder();
  const events = chunks.flatMap((c) => decoder.push(c));
  events.push(...decoder.finish());
  const validator = new AnthropicStreamValidator();
  const assembler = new MessageAssembler();
  for (const ev of events) {
    validator.check(ev);
    assembler.push(ev);
  }
  expect(validator.finished).toBe(true);
  return { events, message: assembler.message };
}

describe('OpenAIStreamDecoder', () => {
  it('opens the message from the first chunk and streams text', () => {
    const { events, message } = run([
      { ...chunk({ role: 'assistant', content: '' }), system_fingerprint: 'fp_1' },
      chunk({ content: 'Hel' }),
      chunk({ content: '' }),
      chunk({ content: 'lo' }),
      chunk({}, 'stop'),
      usageChunk({
        prompt_tokens: 12,
        completion_tokens: 2,
        total_tokens: 14,
        prompt_tokens_details: { cached_tokens: 4 },
      }),
    ]);
    expect(events[0]).toEqual({
      type: 'message_start',
      message: {
        id: 'chatcmpl-1',
        type: 'message',
        role: 'assistant',
        model: 'gpt-x',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0 },
        created: 1_700_000_000,
        system_fingerprint: 'fp_1',
      },
    });
    expect(events.slice(1).map((e) => e.type)).toEqual([
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(message.content).toEqual([{ type: 'text', text: 'Hello' }]);
    expect(events[5]).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: {
        input_tokens: 8,
        output_tokens: 2,
        cache_read_input_tokens: 4,
        cache_creation_input_tokens: 0,
      },
    });
  });

  it('keeps the service tier on the message and the last usage reported as it came', () => {
    const decoder = new OpenAIStreamDecoder();
    const [started] = decoder.push({ ...chunk({ role: 'assistant', content: '' }), service_tier: 'flex' });
    expect(started).toMatchObject({ type: 'message_start', message: { service_tier: 'flex' } });
    decoder.push(chunk({}, 'stop'));
    expect(decoder.reportedUsage).toBeUndefined();
    const usage = {
      prompt_tokens: 3,
      completion_tokens: 40,
      total_tokens: 43,
      completion_tokens_details: { reasoning_tokens: 32 },
    };
    decoder.push(usageChunk(usage));
    expect(decoder.reportedUsage).toBe(usage);
    expect(decoder.usageReported).toBe(true);
  });

  it('handles content and finish_reason in one chunk, refusals as text blocks of their own, and no usage', () => {
    const { events, message } = run([
      chunk({ role: 'assistant', refusal: 'No.' }),
      chunk({ refusal: ' Sorry.' }),
      chunk({ content: '!' }, 'content_filter'),
    ]);
    // As the non-streaming conversion gives them: content and refusal in separate text blocks.
    expect(message.content).toEqual([
      { type: 'text', text: 'No. Sorry.' },
      { type: 'text', text: '!' },
    ]);
    expect(message.stop_reason).toBe('refusal');
    expect(events.at(-2)).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'refusal', stop_sequence: null },
      usage: { output_tokens: 0 },
    });
  });

  it('closes the text block when a tool call starts, and streams sequential tool calls', () => {
    const { message } = run([
      chunk({ content: 'Let me look.' }),
      chunk({ tool_calls: [tool(0, '', true)] }),
      chunk({ tool_calls: [tool(0, '{"q":')] }),
      chunk({ tool_calls: [tool(0, '1}')] }),
      chunk({ tool_calls: [tool(1, '{}', true)] }),
      chunk({}, 'tool_calls'),
    ]);
    expect(message.content).toEqual([
      { type: 'text', text: 'Let me look.' },
      { type: 'tool_use', id: 'call_0', name: 'fn0', input: { q: 1 } },
      { type: 'tool_use', id: 'call_1', name: 'fn1', input: {} },
    ]);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('turns interleaved tool call deltas (0a, 1a, 0b, 1b) into valid, non-interleaved blocks', () => {
    const { events, message } = run([
      chunk({ tool_calls: [tool(0, '{"a":', true)] }),
      chunk({ tool_calls: [tool(1, '{"b":', true)] }),
      chunk({ tool_calls: [tool(0, '1}')] }),
      chunk({ tool_calls: [tool(1, '2}')] }),
      chunk({}, 'tool_calls'),
    ]);
    expect(events.slice(1, -2)).toEqual([
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 'call_0', name: 'fn0', input: {} },
      },
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"a":' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '1}' } },
      { type: 'content_block_stop', index: 0 },
      {
        type: 'content_block_start',
        index: 1,
        content_block: { type: 'tool_use', id: 'call_1', name: 'fn1', input: {} },
      },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"b":2}' } },
      { type: 'content_block_stop', index: 1 },
    ]);
    expect(message.content.map((b) => b.input)).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('bounds the arguments held back while another tool call streams, counting again after a flush', () => {
    const half = 'x'.repeat(MAX_BUFFERED_ARGUMENTS_CHARS / 2);
    const decoder = new OpenAIStreamDecoder();
    decoder.push(chunk({ tool_calls: [tool(0, '{"a":', true)] }));
    decoder.push(chunk({ tool_calls: [tool(1, half, true)] }));
    decoder.push(chunk({ tool_calls: [tool(1, half)] })); // at the bound exactly: still held
    // Text closes the tool block and flushes what was held: the count starts again.
    decoder.push(chunk({ content: 'then' }));
    decoder.push(chunk({ tool_calls: [tool(2, '{}', true)] }));
    decoder.push(chunk({ tool_calls: [tool(3, half, true)] }));
    decoder.push(chunk({ tool_calls: [tool(3, half)] }));
    expect(() => decoder.push(chunk({ tool_calls: [tool(3, 'x')] }))).toThrow(
      new ProtocolViolation(
        `parallel tool calls hold back more than ${MAX_BUFFERED_ARGUMENTS_CHARS} characters of arguments`,
      ),
    );
  });

  it('puts text after tool calls in a new block after the tool blocks (buffered ones flushed first)', () => {
    const { message } = run([
      chunk({ tool_calls: [tool(0, '{}', true), tool(1, '{"x":', true)] }),
      chunk({ tool_calls: [tool(1, 'true}')] }),
      chunk({ content: 'done' }),
      chunk({}, 'stop'),
    ]);
    expect(message.content).toEqual([
      { type: 'tool_use', id: 'call_0', name: 'fn0', input: {} },
      { type: 'tool_use', id: 'call_1', name: 'fn1', input: { x: true } },
      { type: 'text', text: 'done' },
    ]);
  });

  it('property: any interleaving of tool call fragments gives one block per call, in first-appearance order', () => {
    const calls = fc.array(fc.array(fc.string({ maxLength: 5 }), { maxLength: 4 }), {
      minLength: 1,
      maxLength: 4,
    });
    fc.assert(
      fc.property(
        calls,
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.option(fc.string({ minLength: 1, maxLength: 5 }), { nil: undefined }),
        (fragments, picks, leadingText) => {
          // Merge the per-call fragment queues in an order driven by `picks` (each call's own order kept).
          const queues = fragments.map((f, i) => ({ i, rest: [...f], started: false }));
          const chunks: OpenAIChunk[] = leadingText === undefined ? [] : [chunk({ content: leadingText })];
          let p = 0;
          const firstAppearance: number[] = [];
          for (;;) {
            const live = queues.filter((q) => !q.started || q.rest.length > 0);
            if (live.length === 0) break;
            const q = live[(picks[p++] ?? 0) % live.length];
            if (q === undefined) break;
            if (!q.started) {
              q.started = true;
              firstAppearance.push(q.i);
              chunks.push(chunk({ tool_calls: [tool(q.i, q.rest.shift() ?? '', true)] }));
            } else {
              chunks.push(chunk({ tool_calls: [tool(q.i, q.rest.shift() ?? '')] }));
            }
          }
          chunks.push(chunk({}, 'tool_calls'));
          const { events, message } = run(chunks);
          const tools = message.content.filter((b) => b.type === 'tool_use');
          expect(tools.map((b) => b.id)).toEqual(firstAppearance.map((i) => `call_${i}`));
          const argsByBlock = new Map<number, string>();
          for (const ev of events) {
            if (ev.type === 'content_block_delta' && ev.delta.type === 'input_json_delta') {
              argsByBlock.set(ev.index, (argsByBlock.get(ev.index) ?? '') + String(ev.delta.partial_json));
            }
          }
          const offset = leadingText === undefined ? 0 : 1;
          firstAppearance.forEach((callIndex, k) => {
            expect(argsByBlock.get(k + offset) ?? '').toBe((fragments[callIndex] ?? []).join(''));
          });
        },
      ),
    );
  });

  it('throws ProtocolViolation when the stream ends without finish_reason', () => {
    const decoder = new OpenAIStreamDecoder();
    decoder.push(chunk({ content: 'x' }));
    expect(() => decoder.finish()).toThrow(new ProtocolViolation('stream ended without finish_reason'));
    expect(() => new OpenAIStreamDecoder().finish()).toThrow(ProtocolViolation);
  });

  it.each<[string, OpenAIChunk[]]>([
    [
      'a tool call first seen without id',
      [chunk({ tool_calls: [{ index: 0, function: { name: 'f', arguments: '' } }] })],
    ],
    [
      'a tool call first seen without name',
      [chunk({ tool_calls: [{ index: 0, id: 'c', function: { arguments: '' } }] })],
    ],
    [
      'a fragment for a closed tool block',
      [
        chunk({ tool_calls: [tool(0, '{', true)] }),
        chunk({ content: 'x' }),
        chunk({ tool_calls: [tool(0, '}')] }),
      ],
    ],
    ['content after finish_reason', [chunk({}, 'stop'), chunk({ content: 'x' })]],
    ['a second choice', [{ ...BASE, choices: [{ index: 1, delta: { content: 'x' }, finish_reason: null }] }]],
  ])('throws ProtocolViolation for %s', (_name, chunks) => {
    const decoder = new OpenAIStreamDecoder();
    expect(() => chunks.forEach((c) => decoder.push(c))).toThrow(ProtocolViolation);
  });

  it('refuses chunks after finish()', () => {
    const decoder = new OpenAIStreamDecoder();
    decoder.push(chunk({}, 'stop'));
    decoder.finish();
    expect(() => decoder.push(chunk({}))).toThrow(ProtocolViolation);
    expect(() => decoder.finish()).toThrow(ProtocolViolation);
  });
});
