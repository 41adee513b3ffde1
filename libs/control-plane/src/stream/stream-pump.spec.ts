import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { encodeAnthropicEvent, type AnthropicStreamEvent } from '@warden/llm';
import { UpstreamBody, type ResolvedRoute } from '@warden/upstream';
import { CallAbort } from '../call/call-abort';
import type { CallContext } from '../call/call-context';
import type { FrameRelay } from './frame-relay';
import { AnthropicPassthroughRelay, OpenAIPassthroughRelay } from './passthrough-relays';
import { CLIENT_GONE, pumpStream, UPSTREAM_LINGERED } from './stream-pump';

function context(): CallContext {
  const aborts = new CallAbort();
  const route = { provider: { name: 'test', baseUrls: {} }, upstreamModel: 'm' } as unknown as ResolvedRoute;
  return {
    route,
    aborts,
    get signal() {
      return aborts.signal;
    },
    abort: (reason: unknown) => aborts.abort(reason),
    startedAt: performance.now(),
  } as unknown as CallContext;
}

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
    usage: { input_tokens: 1, output_tokens: 0 },
  },
};

/** The keep-alive an Anthropic client gets. */
const PING = 'event: ping\ndata: {"type":"ping"}\n\n';

const ticks = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

describe('pumpStream', () => {
  it('stops reading upstream while the client socket is full, and stops for good when the client leaves', async () => {
    // An upstream that sends 1 KiB pings for as long as it is not paused (like a socket the reader keeps up with).
    let pulled = 0;
    let paused = false;
    let aborted = false;
    const upstream = new UpstreamBody();
    const produce = (): void => {
      while (!paused && !aborted) {
        pulled += 1;
        const event = pulled === 1 ? start : ({ type: 'ping' } as const);
        upstream.push(Buffer.from(encodeAnthropicEvent(event).padEnd(1024, '\n')));
      }
    };
    upstream.attach({
      pause: () => {
        paused = true;
      },
      resume: () => {
        paused = false;
        setImmediate(produce);
      },
      abort: () => {
        aborted = true;
      },
    });
    setImmediate(produce);
    const writes: string[] = [];
    // A client that never drains: every write reports a full buffer.
    const client = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, _callback) {
        writes.push(chunk.toString());
      },
    });
    const ctx = context();
    const done = pump(ctx, upstream, client as unknown as ServerResponse, new AnthropicPassthroughRelay(), {
      maxFrameBytes: 1024,
      firstTokenMs: 10_000,
      keepAliveMs: 10_000,
    });
    await ticks(50);
    // One write went out and was not drained: the pump waits, upstream is paused once 64 KiB are buffered.
    expect(writes).toHaveLength(1);
    expect(paused).toBe(true);
    const pulledWhileBlocked = pulled;
    await ticks(50);
    expect(pulled).toBe(pulledWhileBlocked);
    expect(pulled).toBeLessThanOrEqual(65);
    ctx.abort(CLIENT_GONE);
    await expect(done).resolves.toMatchObject({ status: 'client_aborted' });
    // The pump let go of the body: the upstream transfer is aborted.
    expect(aborted).toBe(true);
    expect(upstream.destroyed).toBe(true);
  });

  it('writes what the frames before a failing one produced, then the error event', async () => {
    const upstream = new UpstreamBody();
    const good = [
      start,
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } },
    ] as const satisfies readonly AnthropicStreamEvent[];
    const before = good.map((e) => encodeAnthropicEvent(e)).join('');
    // One read holds the good frames and a malformed one.
    upstream.push(Buffer.from(`${before}event: content_block_delta\ndata: {"type":\n\n`));
    upstream.end();
    let written = '';
    const client = new Writable({
      write(chunk: Buffer, _enc, callback) {
        written += chunk.toString();
        callback();
      },
    });
    const outcome = await pump(
      context(),
      upstream,
      client as unknown as ServerResponse,
      new AnthropicPassthroughRelay(),
      { maxFrameBytes: 1024, firstTokenMs: 10_000, keepAliveMs: 10_000 },
    );
    expect(outcome.status).toBe('failed');
    expect(written.startsWith(before)).toBe(true);
    const rest = written.slice(before.length);
    expect(rest).toMatch(/^event: error\ndata: /);
    expect(rest).toContain('invalid upstream stream');
    expect(outcome.bytesOut).toBe(Buffer.byteLength(written));
  });

  /** A client that records what it is sent, and whether (and when) its response was ended. */
  function recordingClient(): {
    client: ServerResponse;
    written: () => string;
    endedAt: () => number | undefined;
  } {
    let text = '';
    let ended: number | undefined;
    const client = new Writable({
      write(chunk: Buffer, _enc, callback) {
        text += chunk.toString();
        callback();
      },
      final(callback) {
        ended = performance.now();
        callback();
      },
    });
    return { client: client as unknown as ServerResponse, written: () => text, endedAt: () => ended };
  }

  /** A call context whose abort fails the upstream body, as the upstream client does. */
  function linkedContext(upstream: UpstreamBody): CallContext {
    const ctx = context();
    ctx.signal.addEventListener('abort', () => upstream.fail(new Error(String(ctx.aborts.reason))));
    return ctx;
  }

  /** Waits until `check` holds, for at most `timeoutMs` (timers run late on a loaded machine: no fixed sleeps). */
  async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
    const end = performance.now() + timeoutMs;
    while (!check() && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
  }

  const OPTIONS = { maxFrameBytes: 1 << 20, firstTokenMs: 10_000, keepAliveMs: 10_000 };
  /** {@link pumpStream} of an upstream 200 with `body`. */
  const pump = (
    ctx: CallContext,
    body: UpstreamBody,
    client: ServerResponse,
    relay: FrameRelay,
    options: Parameters<typeof pumpStream>[4] = OPTIONS,
  ): ReturnType<typeof pumpStream> =>
    pumpStream(ctx, { status: 200, headers: {}, body }, client, relay, options);
  const stop: AnthropicStreamEvent[] = [
    {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 1 },
    },
    { type: 'message_stop' },
  ];
  const frames = (events: readonly AnthropicStreamEvent[]): string =>
    events.map((e) => encodeAnthropicEvent(e)).join('');

  it('ends the client response as soon as the stream is complete, and cuts an upstream that lingers', async () => {
    const upstream = new UpstreamBody();
    upstream.push(Buffer.from(frames([start, ...stop])));
    const { client, written, endedAt } = recordingClient();
    const began = performance.now();
    const ctx = linkedContext(upstream);
    const done = pump(ctx, upstream, client, new AnthropicPassthroughRelay(), {
      ...OPTIONS,
      drainAfterFinishMs: 200,
    });
    await ticks(20);
    // The client has its whole stream and its response is over while the upstream body is still open.
    expect(written()).toBe(frames([start, ...stop]));
    expect(endedAt()).toBeDefined();
    const outcome = await done;
    expect(performance.now() - began).toBeGreaterThanOrEqual(190);
    expect(outcome.status).toBe('completed');
    // The upstream that kept its body open was cut.
    expect(ctx.aborts.reason).toBe(UPSTREAM_LINGERED);
  });

  it('reads the upstream to its end after the stream, and a reset then changes nothing', async () => {
    const upstream = new UpstreamBody();
    upstream.push(Buffer.from(frames([start, ...stop])));
    const { client, written } = recordingClient();
    const ctx = linkedContext(upstream);
    const done = pump(ctx, upstream, client, new AnthropicPassthroughRelay(), OPTIONS);
    await ticks(10);
    upstream.fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const outcome = await done;
    expect(outcome.status).toBe('completed');
    expect(written()).toBe(frames([start, ...stop]));
    expect(ctx.aborts.aborted).toBe(false);
  });

  it.each([
    [
      'an Anthropic error event',
      new AnthropicPassthroughRelay(),
      frames([start, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }]),
      'upstream overloaded_error: Overloaded',
    ],
    [
      'an OpenAI {error} chunk',
      new OpenAIPassthroughRelay(),
      'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n' +
        'data: {"error":{"message":"Rate limited","type":"rate_limit_error"}}\n\n',
      'upstream rate_limit_error: Rate limited',
    ],
  ] as Array<[string, FrameRelay, string, string]>)(
    'records a stream ended by %s as failed (the client got it whole)',
    async (_label, relay, body, message) => {
      const upstream = UpstreamBody.of(body);
      const { client, written } = recordingClient();
      const outcome = await pump(context(), upstream, client, relay, OPTIONS);
      expect(outcome).toMatchObject({ status: 'failed', error: message });
      expect(written().startsWith(body)).toBe(true);
    },
  );

  /** A relay (Anthropic passthrough) whose policy holds the frames it is told to, then answers them late. */
  function holdingRelay(hold: (frame: string) => 'hold' | 'decide' | 'pass'): {
    relay: FrameRelay;
    decide: () => void;
  } {
    const inner = new AnthropicPassthroughRelay();
    let held = '';
    let release: (() => void) | undefined;
    const relay: FrameRelay = {
      frame: (frame) => {
        const text = inner.frame(frame);
        const kind = hold(frame.data);
        if (kind === 'hold') {
          held += text;
          return '';
        }
        if (kind === 'decide') {
          return new Promise<string>((resolve) => {
            release = () => {
              const out = held + text;
              held = '';
              resolve(out);
            };
          });
        }
        return text;
      },
      end: () => inner.end(),
      fail: (kind, message) => inner.fail(kind, message),
      keepAlive: () => inner.keepAlive(),
      get finished() {
        return inner.finished;
      },
      get streamError() {
        return inner.streamError;
      },
      mayHold: true,
      usage: inner.usage,
    };
    return { relay, decide: () => release?.() };
  }

  const textStart: AnthropicStreamEvent = {
    type: 'content_block_start',
    index: 0,
    content_block: { type: 'text', text: '' },
  };
  const textDelta: AnthropicStreamEvent = {
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'text_delta', text: 'Let me look.' },
  };
  const textStop: AnthropicStreamEvent = { type: 'content_block_stop', index: 0 };
  const toolStart: AnthropicStreamEvent = {
    type: 'content_block_start',
    index: 1,
    content_block: { type: 'tool_use', id: 't', name: 'bash', input: {} },
  };

  it('writes what was released before a policy decides, and keeps the client alive while it decides', async () => {
    const { relay, decide } = holdingRelay((data) => (data.includes('tool_use') ? 'decide' : 'pass'));
    const upstream = new UpstreamBody();
    // One read: the message start and text, then a tool call the policy must decide on.
    upstream.push(Buffer.from(frames([start, textStart, textDelta, textStop, toolStart])));
    const { client, written } = recordingClient();
    const ctx = context();
    const done = pump(ctx, upstream, client, relay, {
      ...OPTIONS,
      keepAliveMs: 100,
    });
    await ticks(10);
    expect(written()).toBe(frames([start, textStart, textDelta, textStop]));
    const pings = (): string => written().slice(frames([start, textStart, textDelta, textStop]).length);
    await until(() => pings().length >= 2 * PING.length);
    expect(pings()).toMatch(/^(event: ping\ndata: \{"type":"ping"\}\n\n){2,}$/);
    decide();
    upstream.push(Buffer.from(frames([{ type: 'content_block_stop', index: 1 }, ...stop])));
    upstream.end();
    const outcome = await done;
    expect(outcome.status).toBe('completed');
    expect(written().endsWith(frames([toolStart, { type: 'content_block_stop', index: 1 }, ...stop]))).toBe(
      true,
    );
    // The first token is the first byte the client got, not the first the upstream sent.
    expect(outcome.firstTokenMs).toBeDefined();
  });

  it('keeps the client alive while a policy holds frames without waiting on anything', async () => {
    let holding = true;
    const { relay } = holdingRelay((data) =>
      holding && data.includes('input_json_delta') ? 'hold' : 'pass',
    );
    const upstream = new UpstreamBody();
    upstream.push(Buffer.from(frames([start, textStart, textStop, toolStart])));
    const { client, written } = recordingClient();
    const done = pump(context(), upstream, client, relay, {
      ...OPTIONS,
      keepAliveMs: 100,
    });
    const argument = (i: number): AnthropicStreamEvent => ({
      type: 'content_block_delta',
      index: 1,
      delta: { type: 'input_json_delta', partial_json: `"${i}` },
    });
    const before = frames([start, textStart, textStop, toolStart]);
    // The tool's arguments keep coming, held back, for longer than the keep-alive interval.
    for (let i = 0; i < 100 && !written().includes(PING); i++) {
      await new Promise((r) => setTimeout(r, 50));
      upstream.push(Buffer.from(frames([argument(i)])));
    }
    expect(written().startsWith(before)).toBe(true);
    expect(written().slice(before.length)).toMatch(/^(event: ping\ndata: \{"type":"ping"\}\n\n)+$/);
    holding = false;
    upstream.push(Buffer.from(frames([{ type: 'content_block_stop', index: 1 }, ...stop])));
    upstream.end();
    await expect(done).resolves.toMatchObject({ status: 'completed' });
  });

  it('counts the first-token deadline from sending the request, the wait for the headers included', async () => {
    const upstream = new UpstreamBody();
    const { client, written } = recordingClient();
    const ctx = linkedContext(upstream);
    const began = performance.now();
    // The headers took 150 ms of a 200 ms deadline: 50 ms are left for the first body byte.
    const outcome = await pumpStream(
      ctx,
      { status: 200, headers: {}, body: upstream, sentAt: performance.now() - 150 },
      client,
      new AnthropicPassthroughRelay(),
      { ...OPTIONS, firstTokenMs: 200 },
    );
    // Without the wait for the headers counted, it would take the whole 200 ms.
    expect(performance.now() - began).toBeLessThan(195);
    expect(outcome.status).toBe('failed');
    expect(written()).toContain('event: error');
    // The error event is the client's first byte, not a first token (metrics would count the timeout as one).
    expect(outcome.firstTokenMs).toBeUndefined();
  });

  it('keeps the client alive behind a policy that holds what came with released text, the upstream silent', async () => {
    const { relay } = holdingRelay((data) => (data.includes('input_json_delta') ? 'hold' : 'pass'));
    const upstream = new UpstreamBody();
    const argument: AnthropicStreamEvent = {
      type: 'content_block_delta',
      index: 1,
      delta: { type: 'input_json_delta', partial_json: '{}' },
    };
    // One read: text the client gets, and the start of a tool call whose arguments the policy holds.
    upstream.push(Buffer.from(frames([start, textStart, textDelta, textStop, toolStart, argument])));
    const { client, written } = recordingClient();
    const done = pump(context(), upstream, client, relay, {
      ...OPTIONS,
      keepAliveMs: 100,
    });
    const before = frames([start, textStart, textDelta, textStop, toolStart]);
    await until(() => written().length >= before.length + 2 * PING.length);
    expect(written().startsWith(before)).toBe(true);
    expect(written().slice(before.length)).toMatch(/^(event: ping\ndata: \{"type":"ping"\}\n\n){2,}$/);
    upstream.end();
    await expect(done).resolves.toMatchObject({ status: 'failed' });
  });

  it('sends no keep-alive while the upstream itself is silent and nothing is held', async () => {
    const upstream = new UpstreamBody();
    upstream.push(Buffer.from(frames([start, textStart])));
    const { client, written } = recordingClient();
    const done = pump(context(), upstream, client, new AnthropicPassthroughRelay(), {
      ...OPTIONS,
      keepAliveMs: 100,
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(written()).toBe(frames([start, textStart]));
    upstream.push(Buffer.from(frames([textDelta, { type: 'content_block_stop', index: 0 }, ...stop])));
    upstream.end();
    await expect(done).resolves.toMatchObject({ status: 'completed' });
  });
});
