import fc from 'fast-check';
import {
  AnthropicStreamValidator,
  MessageAssembler,
  messageToEvents,
  type AnthropicContentBlock,
  type AnthropicResponse,
  type AnthropicStopReason,
  type AnthropicStreamEvent,
} from '@warden/llm';
import type { BlockInfo, FinishInfo, Policy, ToolCall, ToolCallVerdict } from '../core/policy';
import { CallPolicyContext, type PolicyContext } from '../core/policy-context';
import { assistantMessage, callInfo } from '../testing/policy-test-kit';
import { HookTransform, WholeMessageTransform } from './hook-transform';
import { PolicyFailure, StreamBufferExceeded } from './policy-errors';
import { isPromise, type StreamTransform } from './stream-transform';

const MAX_BUFFER = 1 << 20;
const POLICY = 'guard';
const NUM_RUNS = 200;

type Hooks = Omit<Policy, 'name'>;

function context(overrides: Parameters<typeof callInfo>[0] = {}): CallPolicyContext {
  return new CallPolicyContext(callInfo(overrides), POLICY, () => undefined);
}

function hooks(policy: Hooks, maxBufferBytes = MAX_BUFFER, ctx: PolicyContext = context()): HookTransform {
  return new HookTransform({ name: POLICY, ...policy }, ctx, maxBufferBytes);
}

/** An assistant message with these blocks (`end_turn` unless said otherwise). */
function message(
  content: AnthropicContentBlock[],
  stopReason: AnthropicStopReason = 'end_turn',
): AnthropicResponse {
  return assistantMessage(content, stopReason);
}

const text = (value: string): AnthropicContentBlock => ({ type: 'text', text: value });
const thinking = (value: string, signature: string): AnthropicContentBlock => ({
  type: 'thinking',
  thinking: value,
  signature,
});
const tool = (id: string, input: Record<string, unknown> = { id }): AnthropicContentBlock => ({
  type: 'tool_use',
  id,
  name: 'bash',
  input,
});

/** The field carrying the streamed value of each splittable delta type. */
const DELTA_FIELD: Readonly<Record<string, string>> = {
  text_delta: 'text',
  thinking_delta: 'thinking',
  input_json_delta: 'partial_json',
};

/** The canonical events of `msg` with every text, thinking and tool-input delta cut into pieces of `sizes` (cycled). */
function chunked(msg: AnthropicResponse, sizes: readonly number[]): AnthropicStreamEvent[] {
  const out: AnthropicStreamEvent[] = [];
  let k = 0;
  for (const event of messageToEvents(msg)) {
    const field = event.type === 'content_block_delta' ? DELTA_FIELD[event.delta.type] : undefined;
    if (event.type !== 'content_block_delta' || field === undefined) {
      out.push(event);
      continue;
    }
    const value = String((event.delta as Record<string, unknown>)[field]);
    for (let i = 0; i < value.length;) {
      const size = sizes[k++ % sizes.length] ?? 1;
      out.push({ ...event, delta: { type: event.delta.type, [field]: value.slice(i, i + size) } });
      i += size;
    }
  }
  return out;
}

interface Output {
  readonly message: AnthropicResponse;
  readonly events: AnthropicStreamEvent[];
  /** The output of each push, in order (the output of `end` is not included). */
  readonly perPush: AnthropicStreamEvent[][];
}

type Settle = <T>(pending: Promise<T>) => Promise<T>;

/** Pushes `events` one after the other (awaiting each answer), validates and assembles everything that comes out. */
async function drive(
  transform: StreamTransform,
  events: readonly AnthropicStreamEvent[],
  settle: Settle = (pending) => pending,
): Promise<Output> {
  const validator = new AnthropicStreamValidator();
  const assembler = new MessageAssembler();
  const all: AnthropicStreamEvent[] = [];
  const perPush: AnthropicStreamEvent[][] = [];
  const accept = (out: AnthropicStreamEvent[]): void => {
    for (const event of out) {
      validator.check(event);
      assembler.push(event);
      all.push(event);
    }
  };
  for (const event of events) {
    const answer = transform.push(event);
    const out = isPromise(answer) ? await settle(answer) : answer;
    perPush.push(out);
    accept(out);
  }
  const rest = transform.end();
  accept(isPromise(rest) ? await settle(rest) : rest);
  expect(validator.finished).toBe(true);
  return { message: assembler.message, events: all, perPush };
}

function startIndices(events: readonly AnthropicStreamEvent[]): number[] {
  return events.flatMap((e) => (e.type === 'content_block_start' ? [e.index] : []));
}

/** The error `pending` rejects with. */
async function failureOf(pending: Promise<unknown>): Promise<unknown> {
  try {
    await pending;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

type VerdictKind = 'void' | 'pass' | 'drop' | 'replace' | 'replace-empty';

function verdictOf(kind: VerdictKind, replacement: string): ToolCallVerdict | undefined {
  switch (kind) {
    case 'void':
      return undefined;
    case 'pass':
      return { action: 'pass' };
    case 'drop':
      return { action: 'drop' };
    case 'replace':
      return { action: 'replace', text: replacement };
    case 'replace-empty':
      return { action: 'replace', text: '' };
  }
}

describe('HookTransform', () => {
  describe('block layout', () => {
    it('renumbers output blocks 0..n when tool calls are dropped or replaced', async () => {
      const verdicts: Record<string, ToolCallVerdict> = {
        t1: { action: 'drop' },
        t2: { action: 'replace', text: 'no t2' },
        t3: { action: 'replace', text: '' },
        t4: { action: 'pass' },
      };
      const transform = hooks({ onToolCallComplete: (_ctx, call) => verdicts[call.id] });
      const msg = message([text('a'), tool('t1'), text('b'), tool('t2'), tool('t3'), tool('t4')], 'tool_use');
      const out = await drive(transform, messageToEvents(msg));
      expect(out.message.content).toEqual([text('a'), text('b'), text('no t2'), tool('t4')]);
      expect(startIndices(out.events)).toEqual([0, 1, 2, 3]);
      expect(out.message.stop_reason).toBe('tool_use');
    });

    it('never opens a text block whose hooks emit nothing, and numbers the next block 0', async () => {
      const transform = hooks({ onTextDelta: (_ctx, value) => (value.includes('secret') ? '' : value) });
      const msg = message([text('a secret'), text(''), thinking('t', 'sig'), text('kept')]);
      const out = await drive(transform, chunked(msg, [100]));
      expect(out.message.content).toEqual([thinking('t', 'sig'), text('kept')]);
      expect(startIndices(out.events)).toEqual([0, 1]);
    });

    it('holds text a delta hook returns as "" and releases it from onTextComplete', async () => {
      const completions: Array<{ text: string; block: BlockInfo }> = [];
      const transform = hooks({
        onTextDelta: () => '',
        onTextComplete: (_ctx, value, block) => {
          completions.push({ text: value, block });
          return value.toUpperCase();
        },
      });
      const msg = message([thinking('hm', 's'), text('hello world')]);
      const events = chunked(msg, [3]);
      const out = await drive(transform, events);
      expect(completions).toEqual([{ text: 'hello world', block: { index: 1, type: 'text' } }]);
      expect(out.message.content).toEqual([thinking('hm', 's'), text('HELLO WORLD')]);
      const textDeltas = events.flatMap((e, i) =>
        e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? [i] : [],
      );
      expect(textDeltas.length).toBeGreaterThan(1);
      for (const i of textDeltas) expect(out.perPush[i]).toEqual([]);
      const stop = events.findLastIndex((e) => e.type === 'content_block_stop');
      expect(out.perPush[stop]).toEqual([
        { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
        { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'HELLO WORLD' } },
        { type: 'content_block_stop', index: 1 },
      ]);
    });

    it('streams text live, delta by delta, when the hooks return it', async () => {
      const transform = hooks({ onTextDelta: (_ctx, value) => value.toUpperCase() });
      const events = chunked(message([text('abcdef')]), [2]);
      const out = await drive(transform, events);
      const live = events.flatMap((e, i) =>
        e.type === 'content_block_delta' ? [out.perPush[i]?.map((o) => o.type)] : [],
      );
      expect(live).toEqual([
        ['content_block_start', 'content_block_delta'],
        ['content_block_delta'],
        ['content_block_delta'],
      ]);
      expect(out.message.content).toEqual([text('ABCDEF')]);
    });

    it('feeds the text a block start already carries through onTextDelta', async () => {
      const seen: string[] = [];
      const completed: string[] = [];
      const transform = hooks({
        onTextDelta: (_ctx, value) => {
          seen.push(value);
          return value.toUpperCase();
        },
        onTextComplete: (_ctx, value) => {
          completed.push(value);
        },
      });
      const msg = message([]);
      const [start, ...rest] = messageToEvents(msg) as [AnthropicStreamEvent, ...AnthropicStreamEvent[]];
      const events: AnthropicStreamEvent[] = [
        start,
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: 'Hello ' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'world' } },
        { type: 'content_block_stop', index: 0 },
        ...rest,
      ];
      const out = await drive(transform, events);
      expect(seen).toEqual(['Hello ', 'world']);
      expect(completed).toEqual(['Hello world']);
      expect(out.events[1]).toEqual({
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'text', text: '' },
      });
      expect(out.message.content).toEqual([text('HELLO WORLD')]);
    });

    it('passes thinking blocks and their signature untouched when the policy has no thinking hooks', async () => {
      const transform = hooks({ onTextDelta: (_ctx, value) => value.toUpperCase() });
      const msg = message([thinking('deep thought', 'sig_1'), text('hi')]);
      const events = messageToEvents(msg);
      const out = await drive(transform, events);
      const thinkingIn = events.slice(1, 5);
      expect(thinkingIn.map((e) => e.type)).toEqual([
        'content_block_start',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
      ]);
      expect(out.events.slice(1, 5)).toEqual(thinkingIn);
      expect(out.message.content).toEqual([thinking('deep thought', 'sig_1'), text('HI')]);
    });

    it('keeps the signature of a thinking block whose hooks hold the thinking until it completes', async () => {
      const transform = hooks({
        onThinkingDelta: () => '',
        onThinkingComplete: (_ctx, value, block) => `${value}! (${block.type} ${block.index})`,
      });
      const msg = message([thinking('deep', 'sig_1'), text('x')]);
      const out = await drive(transform, chunked(msg, [1]));
      expect(out.message.content).toEqual([thinking('deep! (thinking 0)', 'sig_1'), text('x')]);
    });
  });

  describe('tool calls', () => {
    it('holds a tool call until it is complete and hands the hook its id, name, arguments and input', async () => {
      const calls: ToolCall[] = [];
      const transform = hooks({
        onToolCallComplete: (_ctx, call) => {
          calls.push(call);
        },
      });
      const input = { command: 'ls -la', flags: [1, 2] };
      const msg = message([text('before'), tool('t1', input)], 'tool_use');
      const events = chunked(msg, [4]);
      const out = await drive(transform, events);
      expect(calls).toEqual([{ id: 't1', name: 'bash', arguments: JSON.stringify(input), input }]);
      const toolStart = events.findIndex(
        (e) => e.type === 'content_block_start' && e.content_block.type === 'tool_use',
      );
      const finish = events.findIndex((e) => e.type === 'message_delta');
      for (let i = toolStart; i < finish; i++) expect(out.perPush[i]).toEqual([]);
      expect(out.perPush[finish]?.map((e) => e.type)).toEqual([
        'content_block_start',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
      ]);
      expect(out.message.content).toEqual([text('before'), tool('t1', input)]);
    });

    it('gives a call whose arguments are not JSON an undefined input and streams them back as they came', async () => {
      const calls: ToolCall[] = [];
      const transform = hooks({
        onToolCallComplete: (_ctx, call) => {
          calls.push(call);
        },
      });
      const events = messageToEvents(message([tool('t1')], 'tool_use')).map((e): AnthropicStreamEvent =>
        e.type === 'content_block_delta'
          ? { ...e, delta: { type: 'input_json_delta', partial_json: '{"a":' } }
          : e,
      );
      const out = await drive(transform, events);
      expect(calls).toEqual([{ id: 't1', name: 'bash', arguments: '{"a":', input: undefined }]);
      expect(out.events).toContainEqual({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '{"a":' },
      });
    });

    it('shows onToolCallDelta the arguments growing, then releases the call', async () => {
      const partials: Array<{ id: string; name: string; arguments: string }> = [];
      const transform = hooks({
        onToolCallDelta: (_ctx, partial) => {
          partials.push({ ...partial });
        },
      });
      const input = { command: 'echo hello', n: 42 };
      const out = await drive(transform, chunked(message([tool('t1', input)], 'tool_use'), [3]));
      const json = JSON.stringify(input);
      expect(partials.length).toBe(Math.ceil(json.length / 3));
      partials.forEach((p, i) => {
        expect(p).toEqual({ id: 't1', name: 'bash', arguments: json.slice(0, 3 * (i + 1)) });
      });
      expect(out.message.content).toEqual([tool('t1', input)]);
      expect(out.message.stop_reason).toBe('tool_use');
    });

    it('decides tool calls concurrently and keeps their order whichever verdict resolves first', async () => {
      const pending = new Map<string, Deferred<ToolCallVerdict>>();
      const transform = hooks({
        onToolCallComplete: (_ctx, call) => {
          const verdict = deferred<ToolCallVerdict>();
          pending.set(call.id, verdict);
          return verdict.promise;
        },
      });
      const msg = message([tool('t1'), tool('t2'), tool('t3'), tool('t4')], 'tool_use');
      let settled = 0;
      const out = await drive(transform, messageToEvents(msg), (waiting) => {
        settled++;
        // Every call was put to the hook before any verdict came back.
        expect([...pending.keys()]).toEqual(['t1', 't2', 't3', 't4']);
        pending.get('t4')?.resolve({ action: 'pass' });
        pending.get('t3')?.resolve({ action: 'replace', text: 'no t3' });
        pending.get('t2')?.resolve({ action: 'pass' });
        pending.get('t1')?.resolve({ action: 'replace', text: 'no t1' });
        return waiting;
      });
      expect(settled).toBe(1);
      expect(out.message.content).toEqual([text('no t1'), text('no t3'), tool('t2'), tool('t4')]);
      expect(startIndices(out.events)).toEqual([0, 1, 2, 3]);
    });

    it('places replacement text and every block after the first held call before the passing tool calls', async () => {
      const transform = hooks({
        onToolCallComplete: (_ctx, call) =>
          call.id === 't2' ? { action: 'replace', text: 'replaced t2' } : { action: 'pass' },
      });
      const msg = message(
        [
          text('intro'),
          tool('t1'),
          text('middle'),
          tool('t2'),
          thinking('later', 'sig'),
          text('end'),
          tool('t3'),
        ],
        'tool_use',
      );
      const out = await drive(transform, chunked(msg, [2]));
      expect(out.message.content).toEqual([
        text('intro'),
        text('middle'),
        text('replaced t2'),
        thinking('later', 'sig'),
        text('end'),
        tool('t1'),
        tool('t3'),
      ]);
    });

    it('sets a replacement apart from the text before it with a blank line for an OpenAI client only', async () => {
      const verdicts: Hooks = {
        onToolCallComplete: (_ctx, call) =>
          call.id === 't1' ? { action: 'pass' } : { action: 'replace', text: `no ${call.id}` },
      };
      const run = async (
        content: AnthropicContentBlock[],
        clientFormat: 'openai' | 'anthropic',
      ): Promise<AnthropicContentBlock[]> => {
        const ctx = context({ clientFormat, upstreamFormat: clientFormat });
        const out = await drive(hooks(verdicts, MAX_BUFFER, ctx), chunked(message(content, 'tool_use'), [3]));
        return out.message.content;
      };
      expect(await run([text('Cleaning up.'), tool('t2'), tool('t3')], 'openai')).toEqual([
        text('Cleaning up.'),
        text('\n\nno t2'),
        text('\n\nno t3'),
      ]);
      // Text held behind a passing call counts as text before the replacement.
      expect(await run([tool('t1'), text('then'), tool('t2')], 'openai')).toEqual([
        text('then'),
        text('\n\nno t2'),
        tool('t1'),
      ]);
      // Nothing before it: nothing to set apart from.
      expect(await run([tool('t2'), tool('t1')], 'openai')).toEqual([text('no t2'), tool('t1')]);
      expect(await run([text('Cleaning up.'), tool('t2')], 'anthropic')).toEqual([
        text('Cleaning up.'),
        text('no t2'),
      ]);
    });

    it('lets text hooks rewrite a block held behind a tool call', async () => {
      const transform = hooks({
        onTextDelta: (_ctx, value) => value.toUpperCase(),
        onToolCallComplete: () => ({ action: 'drop' }),
      });
      const msg = message([tool('t1'), text('after'), text('')], 'tool_use');
      const out = await drive(transform, chunked(msg, [2]));
      expect(out.message.content).toEqual([text('AFTER')]);
      expect(out.message.stop_reason).toBe('end_turn');
    });

    it('forwards tool calls live when the policy has no tool hooks', async () => {
      const transform = hooks({ onTextDelta: (_ctx, value) => value });
      const events = messageToEvents(message([tool('t1'), text('x')], 'tool_use'));
      const out = await drive(transform, events);
      expect(out.perPush[1]?.map((e) => e.type)).toEqual(['content_block_start']);
      expect(out.message.content).toEqual([tool('t1'), text('x')]);
    });

    it.each<[string, VerdictKind[], AnthropicStopReason, AnthropicStopReason]>([
      ['every call dropped', ['drop', 'drop'], 'tool_use', 'end_turn'],
      ['every call replaced', ['replace', 'replace-empty'], 'tool_use', 'end_turn'],
      ['one call dropped, one replaced', ['drop', 'replace'], 'tool_use', 'end_turn'],
      ['one call passed', ['drop', 'pass'], 'tool_use', 'tool_use'],
      ['one call passed by returning nothing', ['replace', 'void'], 'tool_use', 'tool_use'],
      ['every call dropped but max_tokens', ['drop', 'drop'], 'max_tokens', 'max_tokens'],
      ['no tool call at all', [], 'tool_use', 'tool_use'],
    ])('stop reason with %s', async (_label, kinds, upstream, expected) => {
      const finishes: FinishInfo[] = [];
      let k = 0;
      const transform = hooks({
        onToolCallComplete: () => verdictOf(kinds[k++] ?? 'pass', 'instead'),
        onFinish: (_ctx, finish) => {
          finishes.push(finish);
        },
      });
      const msg = message(
        kinds.map((_kind, i) => tool(`t${i}`)),
        upstream,
      );
      const out = await drive(transform, messageToEvents(msg));
      expect(out.message.stop_reason).toBe(expected);
      expect(finishes).toEqual([{ stopReason: expected, usage: msg.usage }]);
    });
  });

  describe('buffer limit', () => {
    const input = { command: 'x'.repeat(100) };
    const argumentsLength = JSON.stringify(input).length;
    const toolHook: Hooks = { onToolCallComplete: () => ({ action: 'pass' }) };

    it('throws StreamBufferExceeded when the held tool arguments go over maxBufferBytes', async () => {
      const msg = message([tool('t1', input)], 'tool_use');
      const error = await failureOf(drive(hooks(toolHook, argumentsLength - 1), chunked(msg, [10])));
      expect(error).toBeInstanceOf(StreamBufferExceeded);
      expect(error).toMatchObject({ policy: POLICY, limit: argumentsLength - 1 });
    });

    it('accepts held arguments of exactly maxBufferBytes', async () => {
      const msg = message([tool('t1', input)], 'tool_use');
      const out = await drive(hooks(toolHook, argumentsLength), chunked(msg, [10]));
      expect(out.message.content).toEqual([tool('t1', input)]);
    });

    it('counts the blocks held behind a tool call, not the blocks streamed live', async () => {
      const long = text('y'.repeat(200));
      const live = message([long, tool('t1', {})], 'tool_use');
      await expect(drive(hooks(toolHook, 150), messageToEvents(live))).resolves.toBeDefined();
      const held = message([tool('t1', {}), long], 'tool_use');
      await expect(drive(hooks(toolHook, 150), messageToEvents(held))).rejects.toThrow(StreamBufferExceeded);
    });
  });

  describe('hook failures', () => {
    const HOOK_NAMES = [
      'onStreamStart',
      'onTextDelta',
      'onTextComplete',
      'onThinkingDelta',
      'onThinkingComplete',
      'onToolCallDelta',
      'onToolCallComplete',
      'onFinish',
      'onStreamEnd',
    ] as const;
    const msg = message([thinking('hm', 'sig'), text('hi'), tool('t1')], 'tool_use');

    describe.each(HOOK_NAMES)('%s', (hook) => {
      it.each(['throws', 'rejects'] as const)(
        'becomes a PolicyFailure naming the policy and hook when it %s',
        async (mode) => {
          const cause = new Error('boom');
          const failing =
            mode === 'throws'
              ? (): never => {
                  throw cause;
                }
              : (): Promise<never> => Promise.reject(cause);
          const transform = hooks({ [hook]: failing });
          const error = await failureOf(drive(transform, messageToEvents(msg)));
          expect(error).toBeInstanceOf(PolicyFailure);
          expect(error).toMatchObject({
            policy: POLICY,
            hook,
            cause,
            message: `policy ${POLICY} failed in ${hook}: boom`,
          });
        },
      );
    });

    it('throws a synchronous hook failure synchronously from push', () => {
      const transform = hooks({
        onTextDelta: () => {
          throw new Error('sync');
        },
      });
      const [start, blockStart, delta] = messageToEvents(message([text('hi')]));
      expect(transform.push(start as AnthropicStreamEvent)).toHaveLength(1);
      expect(transform.push(blockStart as AnthropicStreamEvent)).toEqual([]);
      expect(() => transform.push(delta as AnthropicStreamEvent)).toThrow(PolicyFailure);
    });
  });

  it('calls onStreamStart, onFinish and onStreamEnd once each, on their event, with the call context', async () => {
    const ctx = context();
    const log: string[] = [];
    const contexts: PolicyContext[] = [];
    const finishes: FinishInfo[] = [];
    let current = '';
    const transform = hooks(
      {
        onStreamStart: (c) => {
          contexts.push(c);
          log.push(`onStreamStart@${current}`);
        },
        onFinish: async (c, finish) => {
          contexts.push(c);
          finishes.push(finish);
          log.push(`onFinish@${current}`);
          await Promise.resolve();
        },
        onStreamEnd: (c) => {
          contexts.push(c);
          log.push(`onStreamEnd@${current}`);
        },
      },
      MAX_BUFFER,
      ctx,
    );
    const msg = {
      ...message([text('a'), text('b')], 'max_tokens'),
      usage: { input_tokens: 3, output_tokens: 7 },
    };
    const events = messageToEvents(msg);
    const tracked: StreamTransform = {
      push: (event) => {
        current = event.type;
        return transform.push(event);
      },
      end: () => transform.end(),
    };
    const out = await drive(tracked, events);
    expect(log).toEqual([
      'onStreamStart@message_start',
      'onFinish@message_delta',
      'onStreamEnd@message_stop',
    ]);
    expect(finishes).toEqual([{ stopReason: 'max_tokens', usage: { input_tokens: 3, output_tokens: 7 } }]);
    expect(contexts).toHaveLength(3);
    for (const c of contexts) expect(c).toBe(ctx);
    expect(out.message).toEqual(msg);
  });

  describe('property: any message, any verdicts', () => {
    const blockArb: fc.Arbitrary<AnthropicContentBlock> = fc.oneof(
      fc.string({ maxLength: 12 }).map(text),
      fc
        .record({ value: fc.string({ maxLength: 12 }), signature: fc.string({ minLength: 1, maxLength: 6 }) })
        .map(({ value, signature }) => thinking(value, signature)),
      fc
        .record({
          name: fc.constantFrom('bash', 'read', 'write'),
          input: fc.dictionary(
            fc.constantFrom('a', 'b', 'cmd'),
            fc.oneof(fc.integer(), fc.string({ maxLength: 6 }), fc.boolean()),
          ),
        })
        .map(({ name, input }): AnthropicContentBlock => ({ type: 'tool_use', id: '', name, input })),
    );
    const contentArb = fc
      .array(blockArb, { maxLength: 8 })
      .map((blocks) => blocks.map((b, i) => (b.type === 'tool_use' ? { ...b, id: `toolu_${i}` } : b)));
    const verdictArb = fc.record({
      kind: fc.constantFrom<VerdictKind>('void', 'pass', 'drop', 'replace', 'replace-empty'),
      replacement: fc.string({ minLength: 1, maxLength: 8 }),
      async: fc.boolean(),
    });
    type TextMode = 'none' | 'upper' | 'hold';

    function textHooks(mode: TextMode): Hooks {
      switch (mode) {
        case 'none':
          return {};
        case 'upper':
          return { onTextDelta: (_ctx, value) => value.toUpperCase() };
        case 'hold':
          return {
            onTextDelta: () => '',
            onTextComplete: (_ctx, value) => Promise.resolve(value.toUpperCase()),
          };
      }
    }

    /** What the output must be: live blocks, then (after the first tool call) held blocks and replacements, then the passing calls. */
    function expected(
      content: readonly AnthropicContentBlock[],
      verdicts: ReadonlyArray<ToolCallVerdict | undefined>,
      mode: TextMode,
      stopReason: AnthropicStopReason,
    ): { content: AnthropicContentBlock[]; stopReason: AnthropicStopReason } {
      const live: AnthropicContentBlock[] = [];
      const held: AnthropicContentBlock[] = [];
      const passing: AnthropicContentBlock[] = [];
      let tools = 0;
      for (const block of content) {
        const target = tools > 0 ? held : live;
        if (block.type === 'tool_use') {
          const verdict = verdicts[tools++];
          if (verdict === undefined || verdict.action === 'pass') passing.push(block);
          else if (verdict.action === 'replace' && verdict.text !== '') held.push(text(verdict.text));
        } else if (block.type === 'text' && mode !== 'none') {
          const rewritten = String(block.text).toUpperCase();
          if (rewritten !== '') target.push(text(rewritten));
        } else {
          target.push(block);
        }
      }
      const allRemoved = tools > 0 && passing.length === 0 && stopReason === 'tool_use';
      return { content: [...live, ...held, ...passing], stopReason: allRemoved ? 'end_turn' : stopReason };
    }

    it('validates, keeps exactly the passing tool calls in order, and rewrites text as the hooks say', async () => {
      await fc.assert(
        fc.asyncProperty(
          contentArb,
          fc.array(verdictArb, { minLength: 8, maxLength: 8 }),
          fc.constantFrom<TextMode>('none', 'upper', 'hold'),
          fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
          fc.constantFrom<AnthropicStopReason>('tool_use', 'end_turn', 'max_tokens'),
          fc.scheduler(),
          async (content, specs, mode, sizes, stopReason, s) => {
            const verdicts = specs.map((v) => verdictOf(v.kind, v.replacement));
            const calls: ToolCall[] = [];
            const transform = hooks({
              ...textHooks(mode),
              onToolCallComplete: (_ctx, call) => {
                const i = calls.length;
                calls.push(call);
                const verdict = verdicts[i];
                return specs[i]?.async === true ? s.schedule(Promise.resolve(verdict)) : verdict;
              },
            });
            const msg = message(content, stopReason);
            const out = await drive(transform, chunked(msg, sizes), (pending) => s.waitFor(pending));
            const want = expected(content, verdicts, mode, stopReason);
            expect(out.message.content).toEqual(want.content);
            expect(out.message.stop_reason).toBe(want.stopReason);
            const tools = content.filter((b) => b.type === 'tool_use');
            expect(calls).toEqual(
              tools.map((b) => ({
                id: b.id,
                name: b.name,
                input: b.input,
                arguments: JSON.stringify(b.input),
              })),
            );
          },
        ),
        { numRuns: NUM_RUNS },
      );
    });
  });
});

describe('WholeMessageTransform', () => {
  const msg = message([thinking('hm', 'sig'), text('hello'), tool('t1', { command: 'ls' })], 'tool_use');

  /** `events` with a ping before the first and after every second event. */
  function withPings(events: readonly AnthropicStreamEvent[]): AnthropicStreamEvent[] {
    const ping: AnthropicStreamEvent = { type: 'ping' };
    return [ping, ...events.flatMap((e, i) => (i % 2 === 1 ? [e, ping] : [e]))].slice(0, -1);
  }

  function whole(onResponse: Policy['onResponse'], maxBufferBytes = MAX_BUFFER): WholeMessageTransform {
    return new WholeMessageTransform({ name: POLICY, onResponse }, context(), maxBufferBytes);
  }

  it('hands the whole streamed message to onResponse and streams its rewrite; pings pass at once', async () => {
    const received: AnthropicResponse[] = [];
    const rewritten = { ...msg, content: [text('rewritten')], stop_reason: 'end_turn' };
    const transform = whole(async (_ctx, m) => {
      received.push(structuredClone(m));
      return Promise.resolve(rewritten);
    });
    const events = withPings(chunked(msg, [2]));
    const out = await drive(transform, events);
    expect(received).toEqual([msg]);
    expect(out.message).toEqual(rewritten);
    const last = events.length - 1;
    expect(events[last]?.type).toBe('message_stop');
    events.forEach((event, i) => {
      if (event.type === 'ping') expect(out.perPush[i]).toEqual([event]);
      else if (i !== last) expect(out.perPush[i]).toEqual([]);
    });
  });

  it('streams the original message back when onResponse returns nothing', async () => {
    const out = await drive(
      whole(() => undefined),
      chunked(msg, [3]),
    );
    expect(out.message).toEqual(msg);
  });

  it('turns a throwing onResponse into a PolicyFailure', async () => {
    const error = await failureOf(
      drive(
        whole(() => {
          throw new Error('no');
        }),
        messageToEvents(msg),
      ),
    );
    expect(error).toBeInstanceOf(PolicyFailure);
    expect(error).toMatchObject({ policy: POLICY, hook: 'onResponse' });
  });

  it('throws StreamBufferExceeded when the message is larger than maxBufferBytes', async () => {
    const big = message([text('z'.repeat(500))]);
    await expect(
      drive(
        whole(() => undefined, 300),
        messageToEvents(big),
      ),
    ).rejects.toThrow(StreamBufferExceeded);
    await expect(
      drive(
        whole(() => undefined, 2000),
        messageToEvents(big),
      ),
    ).resolves.toBeDefined();
  });
});
