import { defineEnvConfig, env } from '@warden/config';
import { z } from 'zod';

/** What a call's span does with the client's W3C trace context. */
export const TRACE_CLIENT_CONTEXTS = ['continue', 'link', 'ignore'] as const;
export type TraceClientContext = (typeof TRACE_CLIENT_CONTEXTS)[number];

const MIB = 1024 * 1024;

/** Limits of the call pipeline. */
export const controlPlaneConfig = defineEnvConfig(
  'controlPlane',
  {
    MAX_RESPONSE_BYTES: env
      .int(32 * MIB, 1024)
      .describe('Largest non-streaming upstream response accepted (larger ones fail with 502).'),
    MAX_SSE_FRAME_BYTES: env
      .int(16 * MIB, 1024)
      .describe(
        'Largest single SSE frame accepted from an upstream stream (larger ends the stream with an error).',
      ),
    STREAM_KEEPALIVE_MS: env
      .int(10_000, 100)
      .describe(
        'Behind policies that may hold a stream back (a judge deciding, a tool call held until complete), the ' +
          'client gets a keep-alive after this long without a write (ms).',
      ),
    TRACE_CLIENT_CONTEXT: z
      .enum(TRACE_CLIENT_CONTEXTS)
      .default('continue')
      .describe(
        "A client's `traceparent`: `continue` its trace (its sampling decision too), `link` to it from a new trace " +
          "(clients cannot join or unsample the gateway's traces), or `ignore` it.",
      ),
  },
  (e) => ({
    maxResponseBytes: e.MAX_RESPONSE_BYTES,
    maxSseFrameBytes: e.MAX_SSE_FRAME_BYTES,
    keepAliveMs: e.STREAM_KEEPALIVE_MS,
    traceClientContext: e.TRACE_CLIENT_CONTEXT,
  }),
);
