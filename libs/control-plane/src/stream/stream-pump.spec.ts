import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { encodeAnthropicEvent, type AnthropicStreamEvent } from '@warden/llm';
import { UpstreamBody, type ResolvedRoute } from '@warden/upstream';
import { CallAbort } from '../call/call-abort';
import type { CallContext } from '../call/call-context';
import { AnthropicPassthroughRelay } from './passthrough-relays';
import { CLIENT_GONE, pumpStream } from './stream-pump';

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
    const done = pumpStream(
      ctx,
      { status: 200, headers: {}, body: upstream },
      client as unknown as ServerResponse,
      new AnthropicPassthroughRelay(),
      { maxFrameBytes: 1024, firstTokenMs: 10_000, keepAliveMs: 10_000 },
    );
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
    const outcome = await pumpStream(
      context(),
      { status: 200, headers: {}, body: upstream },
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
});
