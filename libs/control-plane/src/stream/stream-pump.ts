import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { ProtocolViolation, SseDecoder } from '@warden/llm';
import { isPromise, PolicyFailure, StreamBufferExceeded } from '@warden/policy';
import { toUpstreamException, UpstreamException, type UpstreamResponse } from '@warden/upstream';
import type { CallContext } from '../call/call-context';
import { GatewayException } from '../errors/gateway.exception';
import type { ErrorKind, FrameRelay } from './frame-relay';

/** What happened to a streamed call. */
export interface StreamOutcome {
  status: 'completed' | 'client_aborted' | 'failed';
  /** ms from arrival to the first byte of the stream written to the client (keep-alives aside). */
  firstTokenMs?: number;
  error?: string;
  /** Bytes read from upstream. */
  bytesIn: number;
  /** Bytes written to the client after the headers (in-band errors included). */
  bytesOut: number;
}

function classify(error: unknown, ctx: CallContext): { kind: ErrorKind; message: string } {
  if (error instanceof ProtocolViolation) {
    return { kind: 'protocol', message: `invalid upstream stream: ${error.message}` };
  }
  // The gateway itself ended the call (a drain ran out of time): tell the client to come back.
  if (error instanceof GatewayException) return { kind: 'overloaded', message: error.message };
  if (error instanceof PolicyFailure || error instanceof StreamBufferExceeded) {
    return { kind: 'internal', message: error.message };
  }
  // Transport errors while reading the body (idle timeout, reset) carry a code; map them like send() does.
  const coded = typeof (error as { code?: unknown } | null)?.code === 'string';
  if (error instanceof UpstreamException || coded) {
    const upstream = toUpstreamException(error, ctx.route.provider.name, ctx.aborts);
    return { kind: upstream.failure.endsWith('timeout') ? 'timeout' : 'upstream', message: upstream.message };
  }
  return { kind: 'internal', message: 'internal error while streaming' };
}

/**
 * How long the upstream may take to end its body once the client's stream is complete (its final event written):
 * it is read to its end so that its connection can serve another call, but one that stays open is cut.
 */
export const DRAIN_AFTER_FINISH_MS = 5_000;

/** The abort reason of an upstream that did not end its body {@link DRAIN_AFTER_FINISH_MS} after the stream. */
export const UPSTREAM_LINGERED = 'upstream kept the stream open after its end';

/**
 * Streams an upstream SSE response to the client through `relay`. Upstream is read at the client's pace (a full
 * socket buffer waits for `drain` before the next read), the first-token deadline (from sending the request) applies
 * to the first body byte, and any failure after the headers ends the stream with the protocol's own error event:
 * never a corrupt stream.
 *
 * What the relay releases is written before the pump waits on a policy (a judge), and behind policies that may hold
 * events back (once the upstream has started) the client gets a keep-alive after `keepAliveMs` without a write. Once
 * the client's stream is complete its response ends; the upstream body is still read to its end (see
 * {@link DRAIN_AFTER_FINISH_MS}), and nothing read then changes the outcome.
 */
export async function pumpStream(
  ctx: CallContext,
  upstream: UpstreamResponse,
  res: ServerResponse,
  relay: FrameRelay,
  options: {
    maxFrameBytes: number;
    firstTokenMs: number;
    keepAliveMs: number;
    /** How long the upstream may take to end its body after the stream is complete (default 5 s). */
    drainAfterFinishMs?: number;
  },
): Promise<StreamOutcome> {
  const decoder = new SseDecoder({ maxFrameBytes: options.maxFrameBytes });
  const outcome: StreamOutcome = { status: 'completed', bytesIn: 0, bytesOut: 0 };
  // The deadline runs from sending the request (the wait for the headers counts), not from the headers.
  const waited = upstream.sentAt === undefined ? 0 : performance.now() - upstream.sentAt;
  const firstToken = setTimeout(
    () => {
      ctx.abort(
        new UpstreamException(
          'first-token-timeout',
          ctx.route.provider.name,
          'no first token before the deadline',
        ),
      );
    },
    Math.max(0, options.firstTokenMs - waited),
  );
  /** When the client was last written to (performance.now()). */
  let lastWrite = performance.now();
  /** The upstream body has started (before, the first-token deadline is what watches the silence). */
  let started = false;
  /** A policy is deciding (the relay answered with a promise). */
  let deciding = false;
  const keepAlive = setInterval(
    () => {
      if (res.writableEnded || res.destroyed || relay.finished) return;
      // A policy is deciding, or may be holding what the upstream sent: the client must not wait in silence.
      const holding = deciding || (relay.mayHold && started);
      if (holding && performance.now() - lastWrite >= options.keepAliveMs) {
        res.write(relay.keepAlive());
        lastWrite = performance.now();
      }
    },
    Math.max(1, Math.floor(options.keepAliveMs / 2)),
  );
  // It only ever writes on behalf of a live stream: it never keeps the process alive by itself.
  keepAlive.unref();
  let drainDeadline: NodeJS.Timeout | undefined;
  // What the frames of one upstream read produced, written once per read; what it holds when a later frame of the
  // same read fails is valid output, and goes out before the error event.
  let out = '';
  /** Writes `out`; false when the client's socket buffer is full. An error event is not a first token. */
  const flush = (content = true): boolean => {
    const text = out;
    out = '';
    if (text.length === 0) return true;
    lastWrite = performance.now();
    if (content) outcome.firstTokenMs ??= lastWrite - ctx.startedAt;
    outcome.bytesOut += Buffer.byteLength(text);
    return res.write(text);
  };
  /** The relay's text for a frame or the end; what it released so far goes out before a policy is waited on. */
  const take = async (text: string | Promise<string>): Promise<void> => {
    if (!isPromise(text)) {
      out += text;
      return;
    }
    flush();
    deciding = true;
    try {
      out += await text;
    } finally {
      deciding = false;
    }
  };
  /** The client's stream is complete: end its response now, and give the upstream a while to end its body. */
  const finish = (): void => {
    if (!res.destroyed) res.end();
    drainDeadline = setTimeout(
      () => ctx.abort(UPSTREAM_LINGERED),
      options.drainAfterFinishMs ?? DRAIN_AFTER_FINISH_MS,
    );
  };
  try {
    for await (const chunk of upstream.body as AsyncIterable<Buffer>) {
      outcome.bytesIn += chunk.length;
      clearTimeout(firstToken);
      if (relay.finished) continue;
      started = true;
      for (const frame of decoder.push(chunk)) {
        await take(relay.frame(frame));
        if (relay.finished) break;
      }
      if (relay.finished) {
        flush();
        finish();
      } else if (out.length > 0 && !flush()) await once(res, 'drain', { signal: ctx.signal });
    }
    if (!relay.finished) {
      for (const frame of decoder.end()) await take(relay.frame(frame));
      await take(relay.end());
      flush();
    }
  } catch (error) {
    if (relay.finished && res.writableEnded) {
      // The client got its whole stream: what the upstream did after it (a reset, lingering) changes nothing.
    } else if (res.destroyed || (ctx.aborts.aborted && ctx.aborts.reason === CLIENT_GONE)) {
      outcome.status = 'client_aborted';
    } else {
      const cause: unknown = ctx.aborts.aborted ? ctx.aborts.reason : error;
      const { kind, message } = classify(cause, ctx);
      outcome.status = 'failed';
      outcome.error = message;
      if (!relay.finished) {
        flush();
        out = relay.fail(kind, message);
        flush(false);
      }
      ctx.abort(cause);
    }
  } finally {
    clearTimeout(firstToken);
    clearInterval(keepAlive);
    clearTimeout(drainDeadline);
    if (!res.destroyed && !res.writableEnded) res.end();
  }
  // A stream that ended with an upstream's error event reached the client whole, but the call failed.
  if (outcome.status === 'completed' && relay.streamError !== undefined) {
    outcome.status = 'failed';
    outcome.error = relay.streamError;
  }
  return outcome;
}

/** The abort reason used when the client disconnected. */
export const CLIENT_GONE = Symbol('client disconnected');
