import { defineEnvConfig, env } from '@warden/config';

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
      .describe('While a policy holds a stream (a judge deciding), a keep-alive is sent this often (ms).'),
  },
  (e) => ({
    maxResponseBytes: e.MAX_RESPONSE_BYTES,
    maxSseFrameBytes: e.MAX_SSE_FRAME_BYTES,
    keepAliveMs: e.STREAM_KEEPALIVE_MS,
  }),
);
