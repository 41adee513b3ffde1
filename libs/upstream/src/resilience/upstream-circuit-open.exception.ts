/** A call refused without reaching its provider because the provider's circuit is open (or probing). */
export class UpstreamCircuitOpenException extends Error {
  constructor(
    readonly provider: string,
    /** Time until the circuit lets a probe call through, in milliseconds (0 when a probe is in flight). */
    readonly retryAfterMs: number,
  ) {
    super(`${provider} is failing: its circuit is open, calls are refused for now`);
    this.name = 'UpstreamCircuitOpenException';
  }
}
