import type { ServerResponse } from 'node:http';
import { Readable, Writable } from 'node:stream';
import { encodeAnthropicEvent, type AnthropicStreamEvent } from '@warden/llm';
import type { ResolvedRoute } from '@warden/upstream';
import type { CallContext } from '../call/call-context';
import { AnthropicPassthroughRelay } from './passthrough-relays';
import { CLIENT_GONE, pumpStream } from './stream-pump';

function context(): CallContext {
  const controller = new AbortController();
  const route = { provider: { name: 'test', baseUrls: {} }, upstreamModel: 'm' } as unknown as ResolvedRoute;
  return {
    route,
    signal: controller.signal,
    abort: (reason: unknown) => controller.abort(reason),
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
    let pulled = 0;
    const upstream = new Readable({
      highWaterMark: 1,
      read() {
        pulled += 1;
        this.push(pulled === 1 ? encodeAnthropicEvent(start) : encodeAnthropicEvent({ type: 'ping' }));
      },
    });
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
    // One write went out and was not drained: the pump waits instead of pulling the rest of the stream.
    expect(writes).toHaveLength(1);
    const pulledWhileBlocked = pulled;
    await ticks(50);
    expect(pulled).toBe(pulledWhileBlocked);
    expect(pulled).toBeLessThan(5);
    ctx.abort(CLIENT_GONE);
    await expect(done).resolves.toMatchObject({ status: 'client_aborted' });
  });
});
