/** One retry of an upstream call, about to happen after its delay. */
export interface UpstreamRetry {
  readonly provider: string;
  /** The attempt that follows, from 2. */
  readonly attempt: number;
  readonly delayMs: number;
  /** `HTTP 503`, `reset`, `connect`...: never a secret. */
  readonly reason: string;
}
