import fc from 'fast-check';
import { BODY_HIGH_WATER_BYTES, BodyDestroyedError, UpstreamBody, type BodySource } from './upstream-body';

/** A source that records what the body asked of it. */
function recordingSource(): BodySource & { pauses: number; resumes: number; aborted: Error | undefined } {
  const source = {
    pauses: 0,
    resumes: 0,
    aborted: undefined as Error | undefined,
    pause: () => {
      source.pauses += 1;
    },
    resume: () => {
      source.resumes += 1;
    },
    abort: (reason: Error) => {
      source.aborted = reason;
    },
  };
  return source;
}

async function collect(body: UpstreamBody): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of body) out.push(chunk);
  return out;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('UpstreamBody', () => {
  it('reads the same bytes whole or chunk by chunk, however they were split (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), async (parts) => {
        const chunks = parts.map((p) => Buffer.from(p));
        const whole = Buffer.concat(chunks);
        expect(await UpstreamBody.of(...chunks).readAll(1 << 20)).toEqual(whole);
        expect(Buffer.concat(await collect(UpstreamBody.of(...chunks)))).toEqual(whole);
      }),
    );
  });

  it('waits for chunks pushed later, and ends with the producer', async () => {
    const body = new UpstreamBody();
    const read = body.readAll(100);
    body.push(Buffer.from('ab'));
    await tick();
    body.push(Buffer.from('cd'));
    body.end();
    expect((await read)?.toString()).toBe('abcd');
    expect(body.complete).toBe(true);
  });

  it('stops at the limit: resolves undefined and aborts the transfer, never buffering the rest', async () => {
    const source = recordingSource();
    const body = new UpstreamBody();
    body.attach(source);
    const read = body.readAll(5);
    body.push(Buffer.from('1234'));
    await tick();
    body.push(Buffer.from('5678'));
    await expect(read).resolves.toBeUndefined();
    expect(source.aborted).toBeInstanceOf(BodyDestroyedError);
    expect(body.destroyed).toBe(true);
    body.push(Buffer.from('more'));
    body.end();
  });

  it('throws a transfer error to the reader after the chunks that came before it', async () => {
    const body = new UpstreamBody();
    const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    body.push(Buffer.from('first'));
    body.fail(reset);
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of body) seen.push(chunk.toString());
      })(),
    ).rejects.toBe(reset);
    expect(seen).toEqual(['first']);
  });

  it('rejects readAll with the transfer error', async () => {
    const body = new UpstreamBody();
    const error = new Error('body timeout');
    const read = body.readAll(100);
    body.push(Buffer.from('x'));
    body.fail(error);
    await expect(read).rejects.toBe(error);
  });

  it('pauses the producer past the high-water mark and resumes it once the reader caught up', async () => {
    const source = recordingSource();
    const body = new UpstreamBody();
    body.attach(source);
    const half = Buffer.alloc(BODY_HIGH_WATER_BYTES / 2);
    body.push(half);
    expect(source.pauses).toBe(0);
    body.push(half);
    expect(source.pauses).toBe(1);
    const reader = body[Symbol.asyncIterator]();
    await reader.next();
    expect(source.resumes).toBe(1);
    body.end();
    await reader.next();
    expect((await reader.next()).done).toBe(true);
    expect(source.aborted).toBeUndefined();
  });

  it('does not pause a producer while readAll collects everything', async () => {
    const source = recordingSource();
    const body = new UpstreamBody();
    body.attach(source);
    const read = body.readAll(BODY_HIGH_WATER_BYTES * 4);
    for (let i = 0; i < 3; i++) body.push(Buffer.alloc(BODY_HIGH_WATER_BYTES));
    body.end();
    expect((await read)?.length).toBe(BODY_HIGH_WATER_BYTES * 3);
    expect(source.pauses).toBe(0);
  });

  it('aborts the transfer when the reader leaves a for-await early, not when it read to the end', async () => {
    const early = recordingSource();
    const body = new UpstreamBody();
    body.attach(early);
    body.push(Buffer.from('a'));
    body.push(Buffer.from('b'));
    for await (const chunk of body) {
      expect(chunk.toString()).toBe('a');
      break;
    }
    expect(early.aborted).toBeInstanceOf(BodyDestroyedError);
    expect(body.destroyed).toBe(true);

    const full = recordingSource();
    const whole = new UpstreamBody();
    whole.attach(full);
    whole.push(Buffer.from('a'));
    whole.end();
    expect(await collect(whole)).toHaveLength(1);
    expect(full.aborted).toBeUndefined();
    expect(whole.destroyed).toBe(false);
  });

  it('aborts a source attached after the body was destroyed', () => {
    const body = new UpstreamBody();
    body.destroy();
    const source = recordingSource();
    body.attach(source);
    expect(source.aborted).toBeInstanceOf(BodyDestroyedError);
  });

  it('is read once', async () => {
    const body = UpstreamBody.of('x');
    await body.readAll(10);
    await expect(body.readAll(10)).rejects.toThrow('only be read once');
  });

  it('discards: reads a short body to its end, destroys a long one', async () => {
    const short = UpstreamBody.of('{"error":"busy"}');
    await short.discard(1024);
    expect(short.complete).toBe(true);
    const source = recordingSource();
    const long = new UpstreamBody();
    long.attach(source);
    const discarding = long.discard(4);
    long.push(Buffer.from('0123456789'));
    await discarding;
    expect(long.destroyed).toBe(true);
    expect(source.aborted).toBeInstanceOf(BodyDestroyedError);
  });
});
