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
  /** ms from arrival to the first byte written to the client after the headers. */
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
 * Streams an upstream SSE response to the client through `relay`. Upstream is read at the client's pace (a full
 * socket buffer waits for `drain` before the next read), the first-token deadline applies to the first body byte,
 * and any failure after the headers ends the stream with the protocol's own error event: never a corrupt stream.
 */
export async function pumpStream(
  ctx: CallContext,
  upstream: UpstreamResponse,
  res: ServerResponse,
  relay: FrameRelay,
  options: { maxFrameBytes: number; firstTokenMs: number; keepAliveMs: number },
): Promise<StreamOutcome> {
  /** Waits for a policy that holds the stream (a judge), keeping the client connection alive meanwhile. */
  const waitFor = async (pending: Promise<string>): Promise<string> => {
    const timer = setInterval(() => {
      if (!res.destroyed) res.write(relay.keepAlive());
    }, options.keepAliveMs);
    try {
      return await pending;
    } finally {
      clearInterval(timer);
    }
  };
  const decoder = new SseDecoder({ maxFrameBytes: options.maxFrameBytes });
  const outcome: StreamOutcome = { status: 'completed', bytesIn: 0, bytesOut: 0 };
  const firstToken = setTimeout(() => {
    ctx.abort(
      new UpstreamException(
        'first-token-timeout',
        ctx.route.provider.name,
        'no first token before the deadline',
      ),
    );
  }, options.firstTokenMs);
  // What the frames of one upstream read produced, written once per read; what it holds when a later frame of the
  // same read fails is valid output, and goes out before the error event.
  let out = '';
  /** Writes `out`; false when the client's socket buffer is full. */
  const flush = (): boolean => {
    const text = out;
    out = '';
    outcome.bytesOut += Buffer.byteLength(text);
    return res.write(text);
  };
  try {
    for await (const chunk of upstream.body as AsyncIterable<Buffer>) {
      outcome.bytesIn += chunk.length;
      if (outcome.firstTokenMs === undefined) {
        clearTimeout(firstToken);
        outcome.firstTokenMs = performance.now() - ctx.startedAt;
      }
      if (relay.finished) continue;
      for (const frame of decoder.push(chunk)) {
        const text = relay.frame(frame);
        out += isPromise(text) ? await waitFor(text) : text;
        if (relay.finished) break;
      }
      if (out.length > 0 && !flush()) await once(res, 'drain', { signal: ctx.signal });
    }
    if (!relay.finished) {
      for (const frame of decoder.end()) {
        const text = relay.frame(frame);
        out += isPromise(text) ? await waitFor(text) : text;
      }
      const end = relay.end();
      out += isPromise(end) ? await waitFor(end) : end;
      if (out.length > 0) flush();
    }
  } catch (error) {
    if (res.destroyed || (ctx.aborts.aborted && ctx.aborts.reason === CLIENT_GONE)) {
      outcome.status = 'client_aborted';
    } else {
      const cause: unknown = ctx.aborts.aborted ? ctx.aborts.reason : error;
      const { kind, message } = classify(cause, ctx);
      outcome.status = 'failed';
      outcome.error = message;
      if (!relay.finished) {
        out += relay.fail(kind, message);
        flush();
      }
      ctx.abort(cause);
    }
  } finally {
    clearTimeout(firstToken);
    if (!res.destroyed) res.end();
  }
  return outcome;
}

/** The abort reason used when the client disconnected. */
export const CLIENT_GONE = Symbol('client disconnected');
