import { CircuitState } from 'cockatiel';
import { ProviderFailureBreaker, type ProviderFailureBreakerOptions } from './provider-failure.breaker';

const OPTIONS: ProviderFailureBreakerOptions = {
  consecutiveFailures: 3,
  failureRatio: 0.5,
  minCalls: 6,
  windowMs: 10_000,
};

function breakerAt(options: Partial<ProviderFailureBreakerOptions> = {}) {
  const clock = { now: 1_000_000 };
  const breaker = new ProviderFailureBreaker({ ...OPTIONS, ...options }, () => clock.now);
  return { breaker, clock };
}

describe('ProviderFailureBreaker', () => {
  it('opens after the consecutive threshold, and a success resets the count', () => {
    const { breaker } = breakerAt({ failureRatio: 1 });
    expect(breaker.failure(CircuitState.Closed)).toBe(false);
    expect(breaker.failure(CircuitState.Closed)).toBe(false);
    breaker.success(CircuitState.Closed);
    expect(breaker.consecutive).toBe(0);
    expect(breaker.failure(CircuitState.Closed)).toBe(false);
    expect(breaker.failure(CircuitState.Closed)).toBe(false);
    expect(breaker.failure(CircuitState.Closed)).toBe(true);
  });

  it('opens when the failure ratio exceeds the threshold once the window has enough calls', () => {
    const { breaker } = breakerAt({ consecutiveFailures: 100 });
    // F S F S F: 3 of 5 calls failed, but 5 < minCalls.
    const sequence = [false, true, false, true, false];
    const opened = sequence.map((ok) =>
      ok ? (breaker.success(CircuitState.Closed), false) : breaker.failure(CircuitState.Closed),
    );
    expect(opened).toEqual([false, false, false, false, false]);
    breaker.success(CircuitState.Closed); // 3 of 6: not above 0.5
    expect(breaker.failure(CircuitState.Closed)).toBe(true); // 4 of 7
  });

  it('forgets calls older than the window', () => {
    const { breaker, clock } = breakerAt({ consecutiveFailures: 100, minCalls: 4 });
    for (let i = 0; i < 3; i++) breaker.failure(CircuitState.Closed);
    breaker.success(CircuitState.Closed);
    expect(breaker.windowCounts()).toEqual({ calls: 4, failures: 3 });
    clock.now += 10_000;
    expect(breaker.windowCounts()).toEqual({ calls: 0, failures: 0 });
    expect(breaker.failure(CircuitState.Closed)).toBe(false);
  });

  it('always reopens on a failed probe and starts afresh after a successful one', () => {
    const { breaker } = breakerAt({ consecutiveFailures: 100, minCalls: 1 });
    expect(breaker.failure(CircuitState.HalfOpen)).toBe(true);
    breaker.success(CircuitState.HalfOpen);
    expect(breaker.windowCounts()).toEqual({ calls: 1, failures: 0 });
    expect(breaker.consecutive).toBe(0);
  });

  it('round-trips its state', () => {
    const { breaker } = breakerAt();
    breaker.failure(CircuitState.Closed);
    const copy = breakerAt().breaker;
    copy.state = breaker.state;
    expect(copy.consecutive).toBe(1);
  });
});
