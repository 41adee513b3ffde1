import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { MockRequestRecord } from '../mock-llm.types';

/** Content type of streamed replies. */
const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';
/** Content type of JSON replies and errors. */
const JSON_CONTENT_TYPE = 'application/json';
const STATUS_OK = 200;

/** Receives the outcome of an exchange once its response is over. */
export interface MockExchangeHost {
  /** Called once, when the response closed: `aborted` when the client left before the scripted end. */
  settle(record: MockRequestRecord, aborted: boolean): void;
}

/** How a scripted stream ends. */
export type MockStreamEnding = 'end' | 'reset';

/**
 * One request/response of the mock: timers, writes and abort detection. The response's `close` event decides
 * the outcome: finished (or deliberately reset) is `completed`, anything else is a client abort. Every timer is
 * cleared on close, and nothing is written once the response has closed.
 */
export class MockExchange {
  /** Set once the body has been read and the request recorded; events are only emitted for recorded requests. */
  record: MockRequestRecord | undefined;
  private closed = false;
  private selfTerminated = false;
  private timer: NodeJS.Timeout | undefined;
  private queue: readonly string[] = [];
  private next = 0;
  private chunkDelayMs = 0;
  private ending: MockStreamEnding = 'end';

  constructor(
    private readonly host: MockExchangeHost,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {
    res.on('close', this.onClose);
    res.on('error', ignoreError);
  }

  /** Whether the response is over (client gone or response ended). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs `action` after `ms` milliseconds (synchronously when 0) unless the response closes first. */
  after(ms: number, action: () => void): void {
    if (ms <= 0) {
      action();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) action();
    }, ms);
  }

  /** Sends a complete JSON response. */
  sendJson(status: number, body: string, headers: OutgoingHttpHeaders): void {
    if (this.closed) return;
    this.res.writeHead(status, {
      ...headers,
      'content-type': JSON_CONTENT_TYPE,
      'content-length': Buffer.byteLength(body),
    });
    this.res.end(body);
  }

  /** Sets the SSE response headers; `flush` sends them now, so the client sees the stream open before any frame. */
  openStream(headers: OutgoingHttpHeaders, flush: boolean): void {
    if (this.closed) return;
    this.res.writeHead(STATUS_OK, {
      ...headers,
      'content-type': SSE_CONTENT_TYPE,
      'cache-control': 'no-cache',
    });
    if (flush) this.res.flushHeaders();
  }

  /**
   * Writes SSE frames (all in one write without delay, else one every `chunkDelayMs`), then ends the response or,
   * for `reset`, destroys the socket once the frames have reached it.
   */
  stream(frames: readonly string[], chunkDelayMs: number, ending: MockStreamEnding): void {
    if (this.closed) return;
    if (chunkDelayMs <= 0 || frames.length <= 1) {
      const data = frames.join('');
      if (ending === 'reset') this.res.write(data, this.resetSocket);
      else this.res.end(data);
      return;
    }
    this.queue = frames;
    this.next = 0;
    this.chunkDelayMs = chunkDelayMs;
    this.ending = ending;
    this.pump();
  }

  /** Destroys the connection without (or in the middle of) a response, as a crashing upstream would. */
  resetSocket = (): void => {
    if (this.closed) return;
    this.selfTerminated = true;
    this.req.socket.destroy();
  };

  private pump = (): void => {
    this.timer = undefined;
    if (this.closed) return;
    const frame = this.queue[this.next++] ?? '';
    if (this.next < this.queue.length) {
      this.res.write(frame);
      this.timer = setTimeout(this.pump, this.chunkDelayMs);
    } else if (this.ending === 'reset') {
      this.res.write(frame, this.resetSocket);
    } else {
      this.res.end(frame);
    }
  };

  private onClose = (): void => {
    this.closed = true;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.queue = [];
    if (this.record !== undefined) {
      this.host.settle(this.record, !this.res.writableFinished && !this.selfTerminated);
    }
  };
}

/** Write errors after a client left are expected; the `close` handler does the bookkeeping. */
function ignoreError(): void {}
