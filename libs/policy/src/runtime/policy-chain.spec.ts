import fc from 'fast-check';
import {
  AnthropicStreamValidator,
  MessageAssembler,
  messageToEvents,
  type AnthropicContentBlock,
  type AnthropicResponse,
  type AnthropicStopReason,
  type AnthropicStreamEvent,
  type JsonObject,
} from '@warden/llm';
import type { Policy, RequestVerdict, ToolCall, ToolCallVerdict } from '../core/policy';
import type { PolicyContext } from '../core/policy-context';
import type { PolicyRequest } from '../core/policy-request';
import type { ChainRun } from './policy-chain';
import { PolicyFailure } from './policy-errors';
import { PolicyTimings } from './policy-timings';
import { isPromise, PASS_THROUGH, type StreamTransform } from './stream-transform';
import { assistantMessage, callInfo, chainOf, chunkedEvents } from '../testing/policy-test-kit';

const NUM_RUNS = 100;

function runOf(policies: Policy[], timings?: PolicyTimings): ChainRun {
  return chainOf(policies, timings).begin(callInfo(), () => undefined);
}

/** An assistant message with these blocks (`end_turn` unless said otherwise). */
function message(
  content: AnthropicContentBlock[],
  stopReason: AnthropicStopReason = 'end_turn',
): AnthropicResponse {
  return assistantMessage(content, stopReason);
}

const text = (value: string): AnthropicContentBlock => ({ type: 'text', text: value });
const tool = (id: string, name = 'bash'): AnthropicContentBlock => ({
  type: 'tool_use',
  id,
  name,
  input: { id },
});

/** Streams `events` through `transform`, validating the output, and assembles it. */
async function stream(
  transform: StreamTransform,
  events: readonly AnthropicStreamEvent[],
): Promise<{ message: AnthropicResponse; events: AnthropicStreamEvent[] }> {
  const validator = new AnthropicStreamValidator();
  const assembler = new MessageAssembler();
  const out: AnthropicStreamEvent[] = [];
  const accept = (batch: AnthropicStreamEvent[]): void => {
    for (const event of batch) {
      validator.check(event);
      assembler.push(event);
      out.push(event);
    }
  };
  for (const event of events) accept(await transform.push(event));
  accept(await transform.end());
  expect(validator.finished).toBe(true);
  return { message: assembler.message, events: out };
}

async function failureOf(pending: Promise<unknown>): Promise<unknown> {
  try {
    await pending;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

const userRequest = (content: string): PolicyRequest => ({
  format: 'anthropic',
  body: { model: 'm', max_tokens: 10, messages: [{ role: 'user', content }] },
});

/** The string content of the last message of a request body. */
function lastContent(body: JsonObject): string {
  const messages = body.messages as JsonObject[];
  return String(messages[messages.length - 1]?.content);
}

/** A request hook appending `suffix` to the last message (a string content). */
function appending(name: string, suffix: string, seen: string[] = []): Policy {
  return {
    name,
    onRequest: (_ctx, request) => {
      seen.push(lastContent(request.body));
      const messages = (request.body.messages as JsonObject[]).map((m, i, all) =>
        i === all.length - 1 ? { ...m, content: `${String(m.content)}${suffix}` } : m,
      );
      return { action: 'forward', request: { ...request.body, messages } };
    },
  };
}

describe('PolicyChain', () => {
  it.each<[string, Policy[], boolean, boolean]>([
    ['no policies', [], false, false],
    ['a policy without hooks', [{ name: 'noop' }], false, false],
    ['a request hook', [{ name: 'a', onRequest: () => undefined }], true, false],
    ['a text hook', [{ name: 'a', onTextDelta: (_ctx, t) => t }], false, true],
    ['onResponse only', [{ name: 'a', onResponse: () => undefined }], false, true],
    ['onStreamEnd only', [{ name: 'a', onStreamEnd: () => undefined }], false, true],
    [
      'both, on two policies',
      [
        { name: 'a', onRequest: () => undefined },
        { name: 'b', onEvent: (_c, e) => [e] },
      ],
      true,
      true,
    ],
  ])('knows whether it has request and response hooks: %s', (_label, policies, request, response) => {
    const chain = chainOf(policies);
    expect(chain.hasRequestHooks).toBe(request);
    expect(chain.hasResponseHooks).toBe(response);
  });

  describe('request phase', () => {
    it('runs request hooks in order, each on the previous rewrite, and leaves the client request alone', async () => {
      const seenA: string[] = [];
      const seenB: string[] = [];
      const request = userRequest('hi');
      const original = structuredClone(request.body);
      const run = runOf([appending('a', ' A', seenA), { name: 'quiet' }, appending('b', ' B', seenB)]);
      const outcome = await run.onRequest(request);
      expect(seenA).toEqual(['hi']);
      expect(seenB).toEqual(['hi A']);
      expect(outcome).toEqual({
        action: 'forward',
        rewritten: true,
        request: { ...original, messages: [{ role: 'user', content: 'hi A B' }] },
      });
      expect(request.body).toEqual(original);
    });

    it('shows each policy the request as it stands: the rewrites before it, then what was forwarded', async () => {
      const seen: Array<[string, string, unknown]> = [];
      const watcher = (name: string): Policy => ({
        name,
        onRequest: (ctx) => {
          seen.push([name, 'request', ctx.request.messages]);
        },
        onFinish: (ctx) => {
          seen.push([name, 'finish', ctx.request.messages]);
        },
      });
      const request = userRequest('hi');
      const run = chainOf([watcher('first'), appending('a', ' A', []), watcher('second')]).begin(
        callInfo({ originalRequest: request.body }),
        () => undefined,
      );
      await run.onRequest(request);
      await run.transformMessage(message([text('ok')]));
      const rewritten = [{ role: 'user', content: 'hi A' }];
      expect(seen).toEqual([
        ['first', 'request', [{ role: 'user', content: 'hi' }]],
        ['second', 'request', rewritten],
        ['first', 'finish', rewritten],
        ['second', 'finish', rewritten],
      ]);
    });

    it('forwards the very same body, not rewritten, when no hook changes it', async () => {
      const request = userRequest('hi');
      const formats: string[] = [];
      const run = runOf([
        { name: 'a', onRequest: () => undefined },
        {
          name: 'b',
          onRequest: (_ctx, r) => {
            formats.push(r.format);
            return { action: 'forward' };
          },
        },
      ]);
      const outcome = await run.onRequest(request);
      expect(outcome).toEqual({ action: 'forward', request: request.body, rewritten: false });
      expect(outcome.action === 'forward' && outcome.request).toBe(request.body);
      expect(formats).toEqual(['anthropic']);
    });

    it.each<[string, RequestVerdict, object]>([
      [
        'respond',
        { action: 'respond', text: 'no need' },
        { action: 'respond', text: 'no need', policy: 'stop' },
      ],
      [
        'reject',
        { action: 'reject', status: 403, message: 'forbidden' },
        { action: 'reject', status: 403, message: 'forbidden', policy: 'stop' },
      ],
    ])('ends the phase at the first %s, naming the policy', async (_label, verdict, expected) => {
      const later: string[] = [];
      const run = runOf([
        appending('first', ' 1'),
        { name: 'stop', onRequest: async () => Promise.resolve(verdict) },
        appending('later', ' 2', later),
      ]);
      expect(await run.onRequest(userRequest('hi'))).toEqual(expected);
      expect(later).toEqual([]);
    });

    it.each(['throws', 'rejects'] as const)(
      'turns a request hook that %s into a PolicyFailure',
      async (mode) => {
        const cause = new Error('broken');
        const timings = new PolicyTimings();
        const run = runOf(
          [
            {
              name: 'bad',
              onRequest:
                mode === 'throws'
                  ? (): never => {
                      throw cause;
                    }
                  : (): Promise<never> => Promise.reject(cause),
            },
          ],
          timings,
        );
        const error = await failureOf(run.onRequest(userRequest('hi')));
        expect(error).toBeInstanceOf(PolicyFailure);
        expect(error).toMatchObject({ policy: 'bad', hook: 'onRequest', cause });
        expect(timings.snapshot().map((h) => [h.policy, h.count])).toEqual([['bad', 1]]);
      },
    );
  });

  describe('response phase', () => {
    it('is the pass-through transform when no policy has response hooks', () => {
      const run = runOf([{ name: 'a', onRequest: () => undefined }, { name: 'noop' }]);
      expect(run.streamTransform()).toBe(PASS_THROUGH);
      expect(runOf([{ name: 'a', onFinish: () => undefined }]).streamTransform()).not.toBe(PASS_THROUGH);
    });

    it('composes two policies in order, the first (sync) feeding the second (async)', async () => {
      const seenBySecond: string[] = [];
      const swapVowel: Policy = { name: 'swap', onTextDelta: (_ctx, t) => t.replaceAll('a', 'o') };
      const shout: Policy = {
        name: 'shout',
        onTextDelta: async (_ctx, t) => {
          seenBySecond.push(t);
          return Promise.resolve(t.toUpperCase());
        },
      };
      const msg = message([text('banana'), text('cake')]);
      const forward = await stream(runOf([swapVowel, shout]).streamTransform(), chunkedEvents(msg, [2]));
      expect(forward.message.content).toEqual([text('BONONO'), text('COKE')]);
      expect(seenBySecond.join('')).toBe('bononocoke');
      const reverse = await stream(runOf([shout, swapVowel]).streamTransform(), chunkedEvents(msg, [2]));
      expect(reverse.message.content).toEqual([text('BANANA'), text('CAKE')]);
    });

    it('shows the second policy only the tool calls the first one let through', async () => {
      const seen: string[] = [];
      const dropper: Policy = {
        name: 'dropper',
        onToolCallComplete: async (_ctx, call): Promise<ToolCallVerdict> =>
          Promise.resolve(
            call.name === 'rm' ? { action: 'replace', text: 'rm refused' } : { action: 'pass' },
          ),
      };
      const observer: Policy = {
        name: 'observer',
        onToolCallComplete: (_ctx, call) => {
          seen.push(call.id);
        },
        // Asynchronous on a text block released together with later events: they must wait for it, in order.
        onTextDelta: (_ctx, t) => Promise.resolve(`[${t}]`),
      };
      const msg = message([text('go'), tool('t1', 'rm'), tool('t2', 'ls')], 'tool_use');
      const out = await stream(runOf([dropper, observer]).streamTransform(), messageToEvents(msg));
      expect(seen).toEqual(['t2']);
      expect(out.message.content).toEqual([text('[go]'), text('[rm refused]'), tool('t2', 'ls')]);
    });

    it('transformMessage gives the streamed result for block-hook policies', async () => {
      const blockArb = fc.oneof(
        fc.string({ maxLength: 10 }).map(text),
        fc.constantFrom('ls', 'rm', 'cat').map((name) => tool('', name)),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.array(blockArb, { maxLength: 6 }),
          fc.integer({ min: 1, max: 4 }),
          fc.constantFrom<AnthropicStopReason>('tool_use', 'end_turn'),
          async (blocks, size, stopReason) => {
            const content = blocks.map((b, i) =>
              b.type === 'tool_use' ? { ...b, id: `t${i}`, input: { i } } : b,
            );
            const policies = (): Policy[] => [
              {
                name: 'hold',
                onTextDelta: () => '',
                onTextComplete: async (_ctx, t) => Promise.resolve(t.replaceAll('a', '')),
              },
              {
                name: 'tools',
                onToolCallComplete: (_ctx, call: ToolCall): ToolCallVerdict =>
                  call.name === 'rm'
                    ? { action: 'drop' }
                    : call.name === 'cat'
                      ? { action: 'replace', text: `no ${call.id}` }
                      : { action: 'pass' },
              },
            ];
            const msg = message(content, stopReason);
            const streamed = await stream(runOf(policies()).streamTransform(), chunkedEvents(msg, [size]));
            const whole = await runOf(policies()).transformMessage(structuredClone(msg));
            expect(whole).toEqual(streamed.message);
          },
        ),
        { numRuns: NUM_RUNS },
      );
    });

    it('uses onResponse for a whole message only when the policy has no stream hooks', async () => {
      const msg = message([text('hello')]);
      const wholeCalls: AnthropicResponse[] = [];
      const wholeOnly: Policy = {
        name: 'whole',
        onResponse: (_ctx, m) => {
          wholeCalls.push(structuredClone(m));
          return { ...m, content: [text('rewritten whole')] };
        },
      };
      expect(await runOf([wholeOnly]).transformMessage(msg)).toEqual({
        ...msg,
        content: [text('rewritten whole')],
      });
      expect((await stream(runOf([wholeOnly]).streamTransform(), messageToEvents(msg))).message).toEqual({
        ...msg,
        content: [text('rewritten whole')],
      });
      expect(wholeCalls).toEqual([msg, msg]);

      let onResponseCalls = 0;
      const mixed: Policy = {
        name: 'mixed',
        onResponse: () => {
          onResponseCalls++;
          return message([text('never')]);
        },
        onTextDelta: (_ctx, t) => t.toUpperCase(),
      };
      expect(await runOf([mixed]).transformMessage(msg)).toEqual(message([text('HELLO')]));
      expect((await stream(runOf([mixed]).streamTransform(), messageToEvents(msg))).message).toEqual(
        message([text('HELLO')]),
      );
      expect(onResponseCalls).toBe(0);
    });

    it('hands onResponse a copy: the caller’s message is never mutated', async () => {
      const msg = message([text('hello')]);
      const policy: Policy = {
        name: 'mutator',
        onResponse: (_ctx, m) => {
          m.content = [text('mutated')];
          return m;
        },
      };
      const out = await runOf([policy]).transformMessage(msg);
      expect(out.content).toEqual([text('mutated')]);
      expect(msg.content).toEqual([text('hello')]);
    });

    it('wraps a throwing onResponse in a PolicyFailure in transformMessage', async () => {
      const run = runOf([
        {
          name: 'bad',
          onResponse: () => {
            throw new Error('nope');
          },
        },
      ]);
      const error = await failureOf(run.transformMessage(message([text('x')])));
      expect(error).toBeInstanceOf(PolicyFailure);
      expect(error).toMatchObject({ policy: 'bad', hook: 'onResponse' });
    });

    it('keeps the failing hook name when a block hook fails in transformMessage', async () => {
      const run = runOf([
        {
          name: 'bad',
          onTextComplete: () => Promise.reject(new Error('late')),
        },
      ]);
      await expect(run.transformMessage(message([text('x')]))).rejects.toMatchObject({
        policy: 'bad',
        hook: 'onTextComplete',
      });
    });
  });

  describe('class-based policies', () => {
    /** Hooks on the prototype, reading the instance through `this`. */
    class Marker implements Policy {
      constructor(
        readonly name: string,
        private readonly mark: string,
      ) {}

      onRequest(_ctx: PolicyContext, request: PolicyRequest): RequestVerdict {
        return { action: 'forward', request: { ...request.body, marked: this.mark } };
      }

      onStreamStart(ctx: PolicyContext): void {
        ctx.emit('started', { mark: this.mark });
      }

      onTextDelta(_ctx: PolicyContext, value: string): string {
        return `${value}${this.mark}`;
      }

      async onTextComplete(): Promise<string> {
        return Promise.resolve(this.mark.repeat(2));
      }

      onToolCallComplete(_ctx: PolicyContext, call: ToolCall): ToolCallVerdict {
        return { action: 'replace', text: `${this.mark}${call.id}` };
      }

      onFinish(ctx: PolicyContext): void {
        ctx.emit('finished', { mark: this.mark });
      }
    }

    /** The same policy as an object literal. */
    function literal(name: string, mark: string): Policy {
      return {
        name,
        onRequest: (_ctx, request) => ({ action: 'forward', request: { ...request.body, marked: mark } }),
        onStreamStart: (ctx) => ctx.emit('started', { mark }),
        onTextDelta: (_ctx, value) => `${value}${mark}`,
        onTextComplete: async () => Promise.resolve(mark.repeat(2)),
        onToolCallComplete: (_ctx, call) => ({ action: 'replace', text: `${mark}${call.id}` }),
        onFinish: (ctx) => ctx.emit('finished', { mark }),
      };
    }

    async function behaviour(policy: Policy): Promise<unknown> {
      const events: Array<[string, JsonObject]> = [];
      const chain = chainOf([policy]);
      const begin = (): ChainRun => chain.begin(callInfo(), (type, data) => events.push([type, data]));
      const msg = message([text('ab'), tool('t1')], 'tool_use');
      const request = await begin().onRequest(userRequest('hi'));
      const streamed = await stream(begin().streamTransform(), chunkedEvents(msg, [1]));
      const whole = await begin().transformMessage(msg);
      return {
        flags: [chain.hasRequestHooks, chain.hasResponseHooks],
        request,
        streamed: streamed.message,
        whole,
        events,
      };
    }

    it('behave like the same hooks in an object literal, frozen or not', async () => {
      const expected = await behaviour(literal('m', '!'));
      expect(await behaviour(new Marker('m', '!'))).toEqual(expected);
      expect(await behaviour(Object.freeze(new Marker('m', '!')))).toEqual(expected);
      expect(expected).toMatchObject({
        flags: [true, true],
        request: { request: { marked: '!' } },
        streamed: { content: [text('a!b!!!'), text('!t1')], stop_reason: 'end_turn' },
      });
    });

    it('work on the raw onEvent and whole-message paths', async () => {
      class Counter implements Policy {
        readonly name = 'counter';
        constructor(private readonly tag: string) {}
        onEvent(_ctx: PolicyContext, event: AnthropicStreamEvent): AnthropicStreamEvent[] {
          return event.type === 'content_block_delta' && event.delta.type === 'text_delta'
            ? [{ ...event, delta: { type: 'text_delta', text: `${String(event.delta.text)}${this.tag}` } }]
            : [event];
        }
      }
      class Whole implements Policy {
        readonly name = 'whole';
        constructor(private readonly tag: string) {}
        onResponse(_ctx: PolicyContext, m: AnthropicResponse): AnthropicResponse {
          return { ...m, content: [...m.content, text(this.tag)] };
        }
      }
      const msg = message([text('x')]);
      const run = runOf([new Counter('+'), new Whole('end')]);
      expect((await stream(run.streamTransform(), chunkedEvents(msg, [1]))).message.content).toEqual([
        text('x+'),
        text('end'),
      ]);
      expect((await runOf([new Counter('+'), new Whole('end')]).transformMessage(msg)).content).toEqual([
        text('x+'),
        text('end'),
      ]);
    });
  });

  describe('raw onEvent', () => {
    it('replaces the block hooks: every event goes to onEvent, whatever it returns goes out', async () => {
      const seen: string[] = [];
      const policy: Policy = {
        name: 'raw',
        onEvent: async (_ctx, event) => {
          seen.push(event.type);
          if (event.type === 'message_stop') return Promise.resolve([{ type: 'ping' }, event]);
          return Promise.resolve([event]);
        },
        onTextDelta: () => {
          throw new Error('block hooks must not run');
        },
      };
      const msg = message([text('hi')]);
      const events = messageToEvents(msg);
      const out = await stream(runOf([policy]).streamTransform(), events);
      expect(seen).toEqual(events.map((e) => e.type));
      expect(out.events.map((e) => e.type)).toEqual([...events.map((e) => e.type)].toSpliced(-1, 0, 'ping'));
      expect(out.message).toEqual(msg);
      expect(await runOf([policy]).transformMessage(msg)).toEqual(msg);
    });

    it.each(['throws', 'rejects'] as const)('turns an onEvent that %s into a PolicyFailure', async (mode) => {
      const policy: Policy = {
        name: 'raw',
        onEvent:
          mode === 'throws'
            ? (): never => {
                throw new Error('raw');
              }
            : (): Promise<never> => Promise.reject(new Error('raw')),
      };
      const error = await failureOf(stream(runOf([policy]).streamTransform(), messageToEvents(message([]))));
      expect(error).toBeInstanceOf(PolicyFailure);
      expect(error).toMatchObject({ policy: 'raw', hook: 'onEvent' });
    });
  });

  describe('timings', () => {
    afterEach(() => {
      jest.useRealTimers();
    });

    it('observes each policy once per request hook and once per push and end', async () => {
      const timings = new PolicyTimings();
      const run = runOf(
        [
          appending('a', '!'),
          { name: 'quiet' },
          { name: 'b', onRequest: () => undefined, onTextDelta: (_ctx, t) => t },
          { name: 'c', onEvent: (_ctx, e) => [e] },
        ],
        timings,
      );
      await run.onRequest(userRequest('hi'));
      expect(timings.snapshot().map((h) => [h.policy, h.count])).toEqual([
        ['a', 1],
        ['b', 1],
      ]);
      const events = messageToEvents(message([text('x')]));
      await stream(run.streamTransform(), events);
      const counts = Object.fromEntries(timings.snapshot().map((h) => [h.policy, h.count]));
      expect(counts).toEqual({ a: 1, b: 1 + events.length + 1, c: events.length + 1 });
      const whole = await run.transformMessage(message([text('x')]));
      expect(whole.content).toEqual([text('x')]);
      expect(Object.fromEntries(timings.snapshot().map((h) => [h.policy, h.count]))).toEqual({
        a: 1,
        b: 1 + events.length + 2,
        c: events.length + 2,
      });
    });

    it('measures an asynchronous hook until it resolves', async () => {
      jest.useFakeTimers({ now: 0 });
      const timings = new PolicyTimings();
      let release: (value: string) => void = () => undefined;
      const run = runOf(
        [
          {
            name: 'slow',
            onTextDelta: () =>
              new Promise<string>((resolve) => {
                release = resolve;
              }),
          },
        ],
        timings,
      );
      const transform = run.streamTransform();
      const [start, blockStart, delta] = messageToEvents(message([text('x')]));
      await transform.push(start as AnthropicStreamEvent);
      await transform.push(blockStart as AnthropicStreamEvent);
      const pending = transform.push(delta as AnthropicStreamEvent);
      expect(isPromise(pending)).toBe(true);
      jest.advanceTimersByTime(40);
      release('x');
      await pending;
      const [slow] = timings.snapshot();
      expect(slow?.count).toBe(3);
      expect(slow?.sumMs).toBeGreaterThanOrEqual(40);
    });
  });

  it('gives each call and each policy its own context and state, and names emitted events after the policy', async () => {
    const emitted: Array<[string, JsonObject]> = [];
    const counter: Policy = {
      name: 'counter',
      onTextDelta: (ctx, t) => {
        const state = ctx.state(() => ({ deltas: 0 }));
        state.deltas++;
        ctx.emit('delta', { callId: ctx.callId, deltas: state.deltas });
        return t;
      },
    };
    const chain = chainOf([counter, { ...counter, name: 'twin' }]);
    const events = chunkedEvents(message([text('abc')]), [1]);
    await stream(
      chain
        .begin(callInfo({ callId: 'call_a' }), (type, data) => emitted.push([type, data]))
        .streamTransform(),
      events,
    );
    await stream(
      chain
        .begin(callInfo({ callId: 'call_b' }), (type, data) => emitted.push([type, data]))
        .streamTransform(),
      events,
    );
    const counts = (type: string, callId: string): unknown[] =>
      emitted.filter(([t, d]) => t === type && d.callId === callId).map(([, d]) => d.deltas);
    expect(counts('policy.counter.delta', 'call_a')).toEqual([1, 2, 3]);
    expect(counts('policy.twin.delta', 'call_a')).toEqual([1, 2, 3]);
    expect(counts('policy.counter.delta', 'call_b')).toEqual([1, 2, 3]);
    expect(emitted).toHaveLength(12);
  });
});
