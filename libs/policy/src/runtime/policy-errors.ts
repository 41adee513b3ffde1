/** A policy hook threw or rejected: the call fails with a 5xx (before the response) or an in-band stream error. */
export class PolicyFailure extends Error {
  constructor(
    readonly policy: string,
    readonly hook: string,
    cause: unknown,
  ) {
    super(`policy ${policy} failed in ${hook}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'PolicyFailure';
  }
}

/** A policy held more of a response than `MAX_STREAM_BUFFER_BYTES` allows: the stream ends cleanly with an error. */
export class StreamBufferExceeded extends Error {
  constructor(
    readonly policy: string,
    readonly limit: number,
  ) {
    super(`policy ${policy} held more than ${limit} bytes of the response (MAX_STREAM_BUFFER_BYTES)`);
    this.name = 'StreamBufferExceeded';
  }
}
