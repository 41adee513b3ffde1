import {
  AnthropicStreamValidator,
  encodeAnthropicEvent,
  encodeOpenAIChunk,
  isJsonObject,
  MessageAssembler,
  OPENAI_DONE_FRAME,
  OpenAIStreamValidator,
  ProtocolViolation,
  SseDecoder,
  type AnthropicResponse,
  type AnthropicStreamEvent,
  type JsonObject,
  type OpenAIChunk,
  type OpenAIChunkDelta,
  type SseFrame,
  type WireFormat,
} from '@warden/llm';
import type { StreamTransform } from '@warden/policy';
import type { FrameRelay } from './frame-relay';
import { TranscodingRelay } from './transcoding-relay';

/* ---------- upstream fixtures ---------- */

const messageStart: AnthropicStreamEvent = {
  type: 'message_start',
  message: {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 12, output_tokens: 1 },
    // Pins the OpenAI `created` so that two runs encode identically.
    created: 1_700_000_000,
  },
};

/** An Anthropic turn: ping, a text block, a tool_use block, stop for tool use. */
const anthropicTurn: AnthropicStreamEvent[] = [
  messageStart,
  { type: 'ping' },
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ' world' } },
  { type: 'content_block_stop', index: 0 },
  {
    type: 'content_block_start',
    index: 1,
    content_block: { type: 'tool_use', id: 'toolu_1', name: 'read_file', input: {} },
  },
  { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"path":' } },
  { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"a.txt"}' } },
  { type: 'content_block_stop', index: 1 },
  {
    type: 'message_delta',
    delta: { stop_reason: 'tool_use', stop_sequence: null },
    usage: { output_tokens: 20 },
  },
  { type: 'message_stop' },
];

function anthropicUpstream(events: AnthropicStreamEvent[]): string {
  return events.map((e) => encodeAnthropicEvent(e)).join('');
}

function chunk(delta: OpenAIChunkDelta, finishReason: string | null = null): OpenAIChunk {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'gpt-4o',
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
}

const usageChunk: OpenAIChunk = {
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model: 'gpt-4o',
  choices: [],
  usage: { prompt_tokens: 12, completion_tokens: 20, total_tokens: 32 },
};

/** An OpenAI turn: text, then two interleaved tool calls, finish for tool calls, usage. */
const openaiTurn: OpenAIChunk[] = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: 'Hi' }),
  chunk({ content: ' there' }),
  chunk({
    tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'read', arguments: '' } }],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"path":' } }] }),
  chunk({
    tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'ls', arguments: '{}' } }],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '"a.txt"}' } }] }),
  chunk({}, 'tool_calls'),
  usageChunk,
];

function openaiUpstream(chunks: readonly unknown[], done = true): string {
  return chunks.map((c) => encodeOpenAIChunk(c)).join('') + (done ? OPENAI_DONE_FRAME : '');
}

/* ---------- driving and reading ---------- */

function framesOf(text: string): SseFrame[] {
  const decoder = new SseDecoder();
  return [...decoder.push(text), ...decoder.end()];
}

/** Feeds every frame as the pump does (stopping once the client stream is complete), then ends; per-frame output. */
async function drive(relay: FrameRelay, upstream: string): Promise<string[]> {
  const outputs: string[] = [];
  for (const frame of framesOf(upstream)) {
    if (relay.finished) break;
    outputs.push(await relay.frame(frame));
  }
  if (!relay.finished) outputs.push(await relay.end());
  return outputs;
}

/** Parses an Anthropic client stream: every frame named after its type, the sequence valid and complete. */
function anthropicClientEvents(text: string): AnthropicStreamEvent[] {
  const validator = new AnthropicStreamValidator();
  const events = framesOf(text).map((frame) => {
    const event = JSON.parse(frame.data) as AnthropicStreamEvent;
    expect(frame.event).toBe(event.type);
    validator.check(event);
    return event;
  });
  expect(validator.finished).toBe(true);
  return events;
}

function assemble(events: AnthropicStreamEvent[]): AnthropicResponse {
  const assembler = new MessageAssembler();
  for (const event of events) assembler.push(event);
  return assembler.message;
}

/** Parses an OpenAI client stream: valid chunks, then exactly one `[DONE]`, last. */
function openaiClientChunks(text: string): JsonObject[] {
  const frames = framesOf(text);
  expect(frames.at(-1)?.data).toBe('[DONE]');
  const validator = new OpenAIStreamValidator();
  const chunks = frames.slice(0, -1).map((frame) => {
    const parsed = JSON.parse(frame.data) as unknown;
    validator.check(parsed);
    if (!isJsonObject(parsed)) throw new Error('chunk is not an object');
    return parsed;
  });
  validator.done();
  return chunks;
}

interface OpenAIResult {
  content: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  finishReason: unknown;
  usage: unknown;
}

/** Folds OpenAI chunks into what a client SDK would build. */
function openaiResult(chunks: JsonObject[]): OpenAIResult {
  const result: OpenAIResult = { content: '', toolCalls: [], finishReason: null, usage: undefined };
  for (const c of chunks as OpenAIChunk[]) {
    if (c.usage !== undefined) result.usage = c.usage;
    for (const choice of c.choices) {
      if (typeof choice.delta.content === 'string') result.content += choice.delta.content;
      for (const call of choice.delta.tool_calls ?? []) {
        const existing = result.toolCalls[call.index];
        if (existing === undefined) {
          result.toolCalls[call.index] = {
            id: call.id ?? '',
            name: call.function?.name ?? '',
            arguments: call.function?.arguments ?? '',
          };
        } else {
          existing.arguments += call.function?.arguments ?? '';
        }
      }
      if (choice.finish_reason !== null) result.finishReason = choice.finish_reason;
    }
  }
  return result;
}

/* ---------- transforms ---------- */

const passThrough: StreamTransform = { push: (event) => [event], end: () => [] };

/**
 * A judge-like policy: holds every tool_use block from its start to its stop, then releases the whole block
 * through a promise, resolved at once or by {@link ToolUseJudge.releaseNext} when `gated`.
 */
class ToolUseJudge implements StreamTransform {
  private held: AnthropicStreamEvent[] | undefined;
  private readonly gates: (() => void)[] = [];
  heldBlocks = 0;

  constructor(private readonly gated = false) {}

  push(event: AnthropicStreamEvent): AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]> {
    if (event.type === 'content_block_start' && event.content_block.type === 'tool_use') {
      this.held = [event];
      return [];
    }
    if (this.held === undefined) return [event];
    this.held.push(event);
    if (event.type !== 'content_block_stop') return [];
    const released = this.held;
    this.held = undefined;
    this.heldBlocks++;
    if (!this.gated) return Promise.resolve(released);
    return new Promise((resolve) => this.gates.push(() => resolve(released)));
  }

  end(): AnthropicStreamEvent[] {
    return [];
  }

  get waiting(): number {
    return this.gates.length;
  }

  releaseNext(): void {
    this.gates.shift()?.();
  }
}

/** Holds everything until the end of the stream, then releases it all asynchronously. */
class HoldAll implements StreamTransform {
  private readonly held: AnthropicStreamEvent[] = [];

  push(event: AnthropicStreamEvent): AnthropicStreamEvent[] {
    this.held.push(event);
    return [];
  }

  end(): Promise<AnthropicStreamEvent[]> {
    return Promise.resolve(this.held.splice(0));
  }
}

function relay(
  upstream: WireFormat,
  client: WireFormat,
  transform: StreamTransform = passThrough,
  includeUsage = false,
): TranscodingRelay {
  return new TranscodingRelay(upstream, client, transform, { includeUsage });
}

/** Resolves once queued promise callbacks have run (no timers). */
async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/* ---------- tests ---------- */

describe('TranscodingRelay', () => {
  describe('Anthropic upstream -> OpenAI client', () => {
    it('produces a valid OpenAI stream with the text, the tool call and the finish reason', async () => {
      const r = relay('anthropic', 'openai', passThrough, true);
      const text = (await drive(r, anthropicUpstream(anthropicTurn))).join('');
      const { usage, ...result } = openaiResult(openaiClientChunks(text));
      expect(result).toEqual({
        content: 'Hello world',
        toolCalls: [{ id: 'toolu_1', name: 'read_file', arguments: '{"path":"a.txt"}' }],
        finishReason: 'tool_calls',
      });
      expect(usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 20, total_tokens: 32 });
      expect(r.finished).toBe(true);
      expect(r.usage).toEqual({ inputTokens: 12, outputTokens: 20 });
    });

    it('sends no usage chunk unless the client asked for it', async () => {
      const text = (await drive(relay('anthropic', 'openai'), anthropicUpstream(anthropicTurn))).join('');
      expect(openaiClientChunks(text).some((c) => c.usage !== undefined)).toBe(false);
    });

    it('turns an upstream error event into an OpenAI error chunk and [DONE]', async () => {
      const r = relay('anthropic', 'openai');
      const upstream = anthropicUpstream([
        messageStart,
        { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      ]);
      const frames = framesOf((await drive(r, upstream)).join(''));
      expect(frames.map((f) => f.data).slice(-2)).toEqual([
        JSON.stringify({
          error: { message: 'Overloaded', type: 'server_error', param: null, code: 'overloaded' },
        }),
        '[DONE]',
      ]);
      expect(r.finished).toBe(true);
    });

    it('rejects an event out of order', () => {
      const r = relay('anthropic', 'openai');
      const [delta] = framesOf(
        encodeAnthropicEvent({
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'text_delta', text: 'x' },
        }),
      );
      if (delta === undefined) throw new Error('no frame');
      expect(() => r.frame(delta)).toThrow(ProtocolViolation);
    });
  });

  describe('OpenAI upstream -> Anthropic client', () => {
    it('produces a valid Anthropic stream with the text, both tool calls and the stop reason', async () => {
      const r = relay('openai', 'anthropic');
      const events = anthropicClientEvents((await drive(r, openaiUpstream(openaiTurn))).join(''));
      const message = assemble(events);
      expect(message.content).toEqual([
        { type: 'text', text: 'Hi there' },
        { type: 'tool_use', id: 'call_1', name: 'read', input: { path: 'a.txt' } },
        { type: 'tool_use', id: 'call_2', name: 'ls', input: {} },
      ]);
      expect(message.stop_reason).toBe('tool_use');
      expect(events.at(-1)).toEqual({ type: 'message_stop' });
      expect(r.finished).toBe(true);
      expect(r.usage).toEqual({ inputTokens: 12, outputTokens: 20 });
    });

    it('counts no tokens when the upstream reported no usage (the client still gets the zeros it requires)', async () => {
      const r = relay('openai', 'anthropic');
      const events = anthropicClientEvents(
        (await drive(r, openaiUpstream(openaiTurn.slice(0, -1)))).join(''),
      );
      expect(events.find((e) => e.type === 'message_delta')).toMatchObject({ usage: { output_tokens: 0 } });
      expect(r.usage).toEqual({});
      const openaiClient = relay('openai', 'openai', passThrough, true);
      await drive(openaiClient, openaiUpstream(openaiTurn.slice(0, -1)));
      expect(openaiClient.usage).toEqual({});
    });

    it('completes at end() when the upstream closed after finish_reason without [DONE]', async () => {
      const r = relay('openai', 'anthropic');
      const outputs = await drive(r, openaiUpstream(openaiTurn, false));
      expect(outputs.at(-1)).toContain('event: message_stop');
      expect(assemble(anthropicClientEvents(outputs.join(''))).stop_reason).toBe('tool_use');
    });

    it('ignores frames with empty data', async () => {
      const upstream = openaiUpstream(openaiTurn).replace('data: {', 'data:\n\ndata: {');
      const events = anthropicClientEvents((await drive(relay('openai', 'anthropic'), upstream)).join(''));
      expect(assemble(events).content).toHaveLength(3);
    });

    it('turns an upstream {error} chunk into an Anthropic error event that ends the stream', async () => {
      const r = relay('openai', 'anthropic');
      const upstream = openaiUpstream([
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Hi' }),
        { error: { message: 'The server had an error', type: 'server_error', param: null, code: null } },
      ]);
      const events = anthropicClientEvents((await drive(r, upstream)).join(''));
      expect(events.at(-1)).toEqual({
        type: 'error',
        error: { type: 'api_error', message: 'The server had an error' },
      });
      expect(r.finished).toBe(true);
    });

    it('rejects malformed JSON', () => {
      const [frame] = framesOf('data: {"id":\n\n');
      if (frame === undefined) throw new Error('no frame');
      expect(() => relay('openai', 'anthropic').frame(frame)).toThrow(ProtocolViolation);
    });
  });

  describe('OpenAI upstream -> OpenAI client behind a policy', () => {
    /** What the canonical usage has no field for: reasoning tokens, audio tokens, fields to come. */
    const upstreamUsage = {
      prompt_tokens: 12,
      completion_tokens: 20,
      total_tokens: 32,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 16, audio_tokens: 0 },
      unknown_count: 1,
    };
    const logprobs = { content: [{ token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [] }] };
    /** A turn whose content chunks carry what the canonical model has no field for. */
    const richTurn: unknown[] = [
      { ...chunk({ role: 'assistant', content: '', refusal: null }), service_tier: 'default', usage: null },
      {
        ...chunk({ content: 'Hi' }),
        choices: [{ index: 0, delta: { content: 'Hi' }, logprobs, finish_reason: null }],
        obfuscation: 'x1',
      },
      chunk({ content: ' there' }),
      chunk({
        tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'ls', arguments: '{}' } }],
      }),
      chunk({}, 'tool_calls'),
      { ...usageChunk, usage: upstreamUsage },
    ];
    const upstreamText = openaiUpstream(richTurn);
    const rawChunk = (i: number): string => encodeOpenAIChunk(richTurn[i]);

    it('sends the content chunks the policies pass as they came (logprobs, unknown fields)', async () => {
      const outputs = await drive(relay('openai', 'openai', passThrough, true), upstreamText);
      const text = outputs.join('');
      expect(outputs.slice(0, 3)).toEqual([rawChunk(0), rawChunk(1), rawChunk(2)]);
      const chunks = openaiClientChunks(text);
      expect(openaiResult(chunks)).toEqual({
        content: 'Hi there',
        toolCalls: [{ id: 'call_1', name: 'ls', arguments: '{}' }],
        finishReason: 'tool_calls',
        // The upstream's own: the policies passed its counts.
        usage: upstreamUsage,
      });
      // One finish reason and one usage chunk: the encoder's, at the end.
      expect(chunks.filter((c) => (c as OpenAIChunk).choices[0]?.finish_reason)).toHaveLength(1);
      expect(chunks.filter((c) => isJsonObject(c.usage))).toHaveLength(1);
      // The encoded chunks (tool call, finish, usage) carry the service tier of the upstream's first chunk.
      const encoded = chunks.slice(3);
      expect(encoded.length).toBeGreaterThanOrEqual(3);
      expect(encoded.map((c) => c.service_tier)).toEqual(encoded.map(() => 'default'));
    });

    it("sends the policies' counts, without the upstream's details, when a policy changed them", async () => {
      const halve: StreamTransform = {
        push: (event) =>
          event.type === 'message_delta'
            ? [{ ...event, usage: { ...event.usage, output_tokens: 10 } }]
            : [event],
        end: () => [],
      };
      const outputs = await drive(relay('openai', 'openai', halve, true), upstreamText);
      expect(openaiResult(openaiClientChunks(outputs.join(''))).usage).toEqual({
        prompt_tokens: 12,
        completion_tokens: 10,
        total_tokens: 22,
        prompt_tokens_details: { cached_tokens: 0 },
      });
    });

    it('sends content as it came around a tool call a judge holds, and the call once decided', async () => {
      const judge = new ToolUseJudge();
      const outputs = await drive(relay('openai', 'openai', judge), upstreamText);
      expect(outputs.slice(0, 3)).toEqual([rawChunk(0), rawChunk(1), rawChunk(2)]);
      expect(judge.heldBlocks).toBe(1);
      expect(openaiResult(openaiClientChunks(outputs.join(''))).toolCalls).toEqual([
        { id: 'call_1', name: 'ls', arguments: '{}' },
      ]);
    });

    it('encodes a last chunk the upstream cut short, so that the error after it stays a frame of its own', async () => {
      const cut = openaiUpstream(richTurn.slice(0, 2), false).replace(/\n\n$/, '');
      const r = relay('openai', 'openai', passThrough);
      const outputs: string[] = [];
      for (const frame of framesOf(cut)) outputs.push(await r.frame(frame));
      await expect(Promise.resolve().then(() => r.end())).rejects.toThrow(ProtocolViolation);
      const text = outputs.join('') + r.fail('protocol', 'cut short');
      const chunks = framesOf(text).filter((f) => f.data !== '[DONE]');
      for (const frame of chunks) expect(() => JSON.parse(frame.data) as unknown).not.toThrow();
      expect(openaiResult(chunks.slice(0, -1).map((f) => JSON.parse(f.data) as JsonObject)).content).toBe(
        'Hi',
      );
    });

    it('gives every chunk the upstream id, those that went as they came and those encoded', async () => {
      const bare = richTurn.map((c) => (isJsonObject(c) ? { ...c, id: 'abc' } : c));
      const outputs = await drive(relay('openai', 'openai', passThrough, true), openaiUpstream(bare));
      const ids = new Set(openaiClientChunks(outputs.join('')).map((c) => c.id));
      expect([...ids]).toEqual(['abc']);
    });

    it('encodes every refusal chunk (as content), never some as they came', async () => {
      const turn = [
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Sorry.' }),
        chunk({ refusal: 'I cannot' }),
        chunk({ refusal: ' help.' }),
        chunk({}, 'stop'),
      ];
      const outputs = await drive(relay('openai', 'openai', passThrough), openaiUpstream(turn));
      expect(outputs.join('')).not.toContain('refusal');
      expect(openaiResult(openaiClientChunks(outputs.join(''))).content).toBe('Sorry.I cannot help.');
    });

    it('encodes a chunk whose content a policy changed', async () => {
      const upper: StreamTransform = {
        push: (event) =>
          event.type === 'content_block_delta' && event.delta.type === 'text_delta'
            ? [{ ...event, delta: { type: 'text_delta', text: String(event.delta.text).toUpperCase() } }]
            : [event],
        end: () => [],
      };
      const outputs = await drive(relay('openai', 'openai', upper), upstreamText);
      expect(outputs[0]).toBe(rawChunk(0));
      expect(outputs[1]).not.toContain('logprobs');
      expect(openaiResult(openaiClientChunks(outputs.join(''))).content).toBe('HI THERE');
    });
  });

  describe('a transform that holds events', () => {
    it.each<[WireFormat, WireFormat, string]>([
      ['anthropic', 'openai', anthropicUpstream(anthropicTurn)],
      ['openai', 'anthropic', openaiUpstream(openaiTurn)],
      ['anthropic', 'anthropic', anthropicUpstream(anthropicTurn)],
      ['openai', 'openai', openaiUpstream(openaiTurn)],
    ])(
      'releasing tool_use blocks through a promise gives the same stream, in order (%s -> %s)',
      async (from, to, upstream) => {
        const expected = (await drive(relay(from, to, passThrough, true), upstream)).join('');
        const judge = new ToolUseJudge();
        const held = relay(from, to, judge, true);
        const outputs = await drive(held, upstream);
        expect(judge.heldBlocks).toBeGreaterThan(0);
        expect(outputs.join('')).toBe(expected);
        expect(held.finished).toBe(true);
      },
    );

    it('writes nothing of a held block until the promise resolves, then the whole block', async () => {
      const judge = new ToolUseJudge(true);
      const r = relay('anthropic', 'openai', judge);
      const frames = framesOf(anthropicUpstream(anthropicTurn));
      const outputs: string[] = [];
      // Up to the tool block stop (index 9): the tool block's start and deltas give nothing.
      for (const frame of frames.slice(0, 9)) outputs.push(await r.frame(frame));
      expect(outputs.slice(6)).toEqual(['', '', '']);

      const stopFrame = frames[9];
      if (stopFrame === undefined) throw new Error('no frame');
      let released: string | undefined;
      const pending = r.frame(stopFrame);
      expect(pending).toBeInstanceOf(Promise);
      void Promise.resolve(pending).then((text) => (released = text));
      await flushMicrotasks();
      expect(judge.waiting).toBe(1);
      expect(released).toBeUndefined();

      judge.releaseNext();
      await flushMicrotasks();
      const tool = openaiResult(
        framesOf(released ?? '').map((f) => JSON.parse(f.data) as JsonObject),
      ).toolCalls;
      expect(tool).toEqual([{ id: 'toolu_1', name: 'read_file', arguments: '{"path":"a.txt"}' }]);
    });

    it('resumes a batch after a held block: several promises within one upstream frame', async () => {
      // The finish_reason chunk closes call_1 and flushes the buffered call_2: one frame, two held blocks.
      const judge = new ToolUseJudge(true);
      const r = relay('openai', 'anthropic', judge);
      const frames = framesOf(openaiUpstream(openaiTurn));
      let text = '';
      for (const frame of frames) {
        const out = r.frame(frame);
        if (typeof out === 'string') {
          text += out;
          continue;
        }
        let settled = false;
        const done = out.then((t) => {
          settled = true;
          text += t;
        });
        while (!settled) {
          await flushMicrotasks();
          judge.releaseNext();
        }
        await done;
      }
      expect(judge.heldBlocks).toBe(2);
      expect(r.finished).toBe(true);
      const message = assemble(anthropicClientEvents(text));
      expect(message.content.map((b) => b.type)).toEqual(['text', 'tool_use', 'tool_use']);
      expect(message.content.map((b) => b.id)).toEqual([undefined, 'call_1', 'call_2']);
    });

    it.each<[WireFormat, WireFormat, string]>([
      ['anthropic', 'openai', anthropicUpstream(anthropicTurn)],
      ['openai', 'anthropic', openaiUpstream(openaiTurn)],
    ])('releasing everything at end() still completes the stream (%s -> %s)', async (from, to, upstream) => {
      const expected = (await drive(relay(from, to), upstream)).join('');
      const r = relay(from, to, new HoldAll());
      const outputs = await drive(r, upstream);
      expect(outputs.slice(0, -1).every((o) => o === '')).toBe(true);
      expect(outputs.at(-1)).toBe(expected);
      expect(r.finished).toBe(true);
    });

    it('lets an upstream error through at once while events are held', async () => {
      const r = relay('anthropic', 'anthropic', new HoldAll());
      const upstream = anthropicUpstream([
        messageStart,
        { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      ]);
      const outputs = await drive(r, upstream);
      expect(outputs).toEqual([
        '',
        encodeAnthropicEvent({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
      ]);
      expect(r.finished).toBe(true);
    });
  });

  describe('end of an incomplete upstream stream', () => {
    const truncatedAnthropic = anthropicUpstream(anthropicTurn.slice(0, 5));
    const truncatedOpenAI = openaiUpstream(openaiTurn.slice(0, 4), false);

    it.each<[WireFormat, WireFormat, string]>([
      ['anthropic', 'openai', truncatedAnthropic],
      ['anthropic', 'anthropic', truncatedAnthropic],
      ['openai', 'anthropic', truncatedOpenAI],
      ['openai', 'openai', truncatedOpenAI],
    ])('throws a ProtocolViolation (%s -> %s)', async (from, to, upstream) => {
      const r = relay(from, to);
      for (const frame of framesOf(upstream)) await r.frame(frame);
      expect(() => r.end()).toThrow(ProtocolViolation);
      expect(r.finished).toBe(false);
    });

    it('rejects with a ProtocolViolation when the transform flushes asynchronously', async () => {
      const r = relay('anthropic', 'openai', new HoldAll());
      for (const frame of framesOf(truncatedAnthropic)) await r.frame(frame);
      await expect(Promise.resolve().then(() => r.end())).rejects.toThrow(ProtocolViolation);
    });
  });

  describe('fail', () => {
    it('writes an Anthropic error event for an Anthropic client', () => {
      const r = relay('openai', 'anthropic');
      expect(r.fail('overloaded', 'busy')).toBe(
        'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"busy"}}\n\n',
      );
      const [frame] = framesOf(r.fail('timeout', 'slow'));
      expect(JSON.parse(frame?.data ?? '')).toEqual({
        type: 'error',
        error: { type: 'api_error', message: 'slow' },
      });
    });

    it('writes an OpenAI error chunk and [DONE] for an OpenAI client, and finishes the stream', () => {
      const r = relay('anthropic', 'openai');
      const frames = framesOf(r.fail('protocol', 'bad stream'));
      expect(frames.map((f) => f.data)).toEqual([
        JSON.stringify({
          error: {
            message: 'bad stream',
            type: 'server_error',
            param: null,
            code: 'upstream_protocol_error',
          },
        }),
        '[DONE]',
      ]);
      expect(r.finished).toBe(true);
    });
  });
});
