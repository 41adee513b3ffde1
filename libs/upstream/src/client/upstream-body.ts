/** Buffered bytes past which the producer is paused until the reader catches up (Node streams' usual 64 KiB). */
export const BODY_HIGH_WATER_BYTES = 64 * 1024;

/** Flow control of whatever produces the bytes (an undici dispatch controller, or nothing for a fixed body). */
export interface BodySource {
  pause(): void;
  resume(): void;
  /** Stops the transfer; the upstream request is aborted. */
  abort(reason: Error): void;
}

/** Reason given to the source when the reader lets go of a body it has not read to the end. */
export class BodyDestroyedError extends Error {
  constructor() {
    super('upstream response body discarded');
    this.name = 'BodyDestroyedError';
  }
}

type Waiter = () => void;

/**
 * The body of an upstream response, read once, at the reader's pace: whole ({@link readAll}, the non-streaming
 * path: no stream object, no async iterator) or chunk by chunk (`for await`, the SSE path). The producer
 * {@link push}es chunks and then {@link end}s or {@link fail}s; past {@link BODY_HIGH_WATER_BYTES} unread it is
 * paused, and resumed once the reader has taken them. Leaving a `for await` early, or {@link destroy}, aborts the
 * transfer. A transfer error is thrown to the reader after the chunks that came before it.
 */
export class UpstreamBody implements AsyncIterable<Buffer> {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private paused = false;
  /** Unread bytes past which the producer is paused; unbounded while {@link readAll} collects everything. */
  private highWater = BODY_HIGH_WATER_BYTES;
  private ended = false;
  private failure: unknown = undefined;
  private failed = false;
  private waiter: Waiter | undefined;
  private source: BodySource | undefined;
  private reading = false;
  private isDestroyed = false;

  /** A body whose bytes are all known already (tests, answers made by the gateway itself). */
  static of(...chunks: Array<Buffer | string>): UpstreamBody {
    const body = new UpstreamBody();
    for (const chunk of chunks) body.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    body.end();
    return body;
  }

  /** Whether the body was destroyed before it was read to the end. */
  get destroyed(): boolean {
    return this.isDestroyed;
  }

  /** Whether every byte arrived (and none is left unread). */
  get complete(): boolean {
    return this.ended && this.chunks.length === 0;
  }

  /** True once the whole body arrived, or the transfer failed or was destroyed: nothing more will come. */
  private get done(): boolean {
    return this.ended || this.failed;
  }

  // ---- producer side ----

  /** Connects the flow control of the producer; pausing or aborting before this waits for it. */
  attach(source: BodySource): void {
    this.source = source;
    if (this.isDestroyed) source.abort(new BodyDestroyedError());
    else if (this.paused) source.pause();
  }

  push(chunk: Buffer): void {
    if (this.done) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered >= this.highWater && !this.paused) {
      this.paused = true;
      this.source?.pause();
    }
    this.wake();
  }

  end(): void {
    if (this.done) return;
    this.ended = true;
    this.wake();
  }

  fail(error: unknown): void {
    if (this.done) return;
    this.failed = true;
    this.failure = error;
    this.wake();
  }

  // ---- reader side ----

  /**
   * The whole body; or `undefined`, with the transfer aborted, as soon as it exceeds `limit` bytes (an oversized
   * body is never buffered whole). Rejects with the transfer's error.
   */
  async readAll(limit: number): Promise<Buffer | undefined> {
    this.claim();
    // Everything is wanted (up to the limit): no point pausing the producer.
    this.highWater = Number.POSITIVE_INFINITY;
    if (this.paused) this.resumeSource();
    for (;;) {
      if (this.buffered > limit) {
        this.destroy();
        return undefined;
      }
      if (this.failed) throw this.failure;
      if (this.ended) break;
      await this.next();
    }
    const chunks = this.chunks;
    this.chunks = [];
    const size = this.buffered;
    this.buffered = 0;
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    this.claim();
    try {
      for (;;) {
        const chunk = this.chunks.shift();
        if (chunk !== undefined) {
          this.buffered -= chunk.length;
          if (this.paused && this.buffered < this.highWater) this.resumeSource();
          yield chunk;
          continue;
        }
        if (this.failed) throw this.failure;
        if (this.ended) return;
        await this.next();
      }
    } finally {
      // The reader left early (break, throw, return): nobody will read the rest.
      if (!this.complete) this.destroy();
    }
  }

  /** Reads and drops at most `limit` bytes so the connection can be reused; a longer body is destroyed. */
  async discard(limit: number): Promise<void> {
    try {
      await this.readAll(limit);
    } catch {
      // A failed transfer is over already.
    }
  }

  /** Stops reading: the transfer is aborted unless it already ended, and what was buffered is dropped. */
  destroy(): void {
    if (this.isDestroyed) return;
    this.isDestroyed = true;
    this.chunks = [];
    this.buffered = 0;
    if (!this.done) {
      this.failed = true;
      this.failure = new BodyDestroyedError();
      this.source?.abort(this.failure as BodyDestroyedError);
    }
    this.wake();
  }

  /** A body is read once, by one reader. */
  private claim(): void {
    if (this.reading) throw new Error('an upstream response body can only be read once');
    this.reading = true;
  }

  private resumeSource(): void {
    this.paused = false;
    this.source?.resume();
  }

  private next(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiter = resolve;
    });
  }

  private wake(): void {
    const waiter = this.waiter;
    if (waiter === undefined) return;
    this.waiter = undefined;
    waiter();
  }
}
