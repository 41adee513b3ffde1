import type { IncomingHttpHeaders } from 'node:http';
import { abortSourceOf } from '../client/abort-source';
import { UpstreamBody } from '../client/upstream-body';
import type { UpstreamRequest, UpstreamResponse } from '../client/upstream-client';
import { UpstreamException } from '../client/upstream.exception';
import type { UpstreamResilienceOptions } from '../upstream.config';
import { UpstreamCircuitOpenException } from './upstream-circuit-open.exception';
import type { CircuitStateName } from './upstream-health';
import { UpstreamResilience, type ResilienceListener } from './upstream-resilience';
import type { UpstreamRetry } from './upstream-retry';

const OPTIONS: UpstreamResilienceOptions = {
  maxRetries: 2,
  retryBaseMs: 2,
  retryMaxDelayMs: 8,
  retryAfterMaxMs: 50,
  breaker: {
    consecutiveFailures: 0,
    failureRatio: 1,
    minCalls: 100,
    windowMs: 60_000,
    halfOpenAfterMs: 1000,
  },
};

const TIMEOUTS = { connectMs: 1000, firstTokenMs: 1000, idleMs: 1000, totalMs: 10_000 };

function request(
  signal: AbortSignal = new AbortController().signal,
  extra: Partial<UpstreamRequest> = {},
): UpstreamRequest {
  return {
    provider: { name: 'acme', baseUrls: { openai: 'http://127.0.0.1:1/v1' } },
    format: 'openai',
    endpoint: 'chat',
    query: '',
    headers: {},
    body: '{}',
    signal: abortSourceOf(signal),
    timeouts: TIMEOUTS,
    ...extra,
  };
}

function response(status: number, headers: IncomingHttpHeaders = {}): UpstreamResponse {
  return { status, headers, body: UpstreamBody.of(`{"status":${status}}`) };
}

type Step = UpstreamResponse | UpstreamException;

/** An upstream that answers `steps` in order (the last one repeats), counting attempts. */
function scripted(...steps: Step[]) {
  const seen: UpstreamResponse[] = [];
  const attempt = (): Promise<UpstreamResponse> => {
    const step = steps[Math.min(seen.length, steps.length - 1)];
    if (step === undefined) return Promise.reject(new Error('no step'));
    if (step instanceof UpstreamException) {
      seen.push(response(0));
      return Promise.reject(step);
    }
    seen.push(step);
    return Promise.resolve(step);
  };
  return { attempt, seen };
}

function setup(options: Partial<UpstreamResilienceOptions> = {}) {
  const retries: UpstreamRetry[] = [];
  const transitions: CircuitStateName[] = [];
  const listener: ResilienceListener = {
    retry: (r) => retries.push(r),
    circuit: (_provider, state) => transitions.push(state),
  };
  const resilience = new UpstreamResilience({ ...OPTIONS, ...options }, listener, () => 0.5);
  return { resilience, retries, transitions };
}

const reset = (): UpstreamException => new UpstreamException('reset', 'acme', 'socket hang up');

describe('UpstreamResilience retries', () => {
  it.each([502, 503, 529, 429])('turns transient %i answers into a success', async (status) => {
    const { resilience, retries } = setup();
    const upstream = scripted(response(status), response(status), response(200));
    const res = await resilience.send(request(), upstream.attempt);
    expect(res.status).toBe(200);
    expect(upstream.seen).toHaveLength(3);
    expect(retries.map((r) => [r.attempt, r.reason])).toEqual([
      [2, `HTTP ${status}`],
      [3, `HTTP ${status}`],
    ]);
    expect(retries.every((r) => r.delayMs >= 1 && r.delayMs <= OPTIONS.retryMaxDelayMs)).toBe(true);
  });

  it('destroys or drains the responses it discards', async () => {
    const { resilience } = setup();
    const upstream = scripted(response(503), response(200));
    await resilience.send(request(), upstream.attempt);
    const discarded = upstream.seen[0]?.body;
    expect(discarded?.destroyed === true || discarded?.complete === true).toBe(true);
  });

  it('retries a connection failure before any response', async () => {
    const { resilience } = setup();
    const upstream = scripted(reset(), new UpstreamException('connect', 'acme', 'refused'), response(200));
    expect((await resilience.send(request(), upstream.attempt)).status).toBe(200);
    expect(upstream.seen).toHaveLength(3);
  });

  it('gives up after maxRetries and returns the last answer as it is', async () => {
    const { resilience } = setup();
    const last = response(503, { 'x-request-id': 'r3' });
    const upstream = scripted(response(503), response(503), last, response(200));
    expect(await resilience.send(request(), upstream.attempt)).toBe(last);
    expect(upstream.seen).toHaveLength(3);
  });

  it('rethrows the last transport failure after maxRetries', async () => {
    const { resilience } = setup({ maxRetries: 1 });
    const upstream = scripted(reset());
    await expect(resilience.send(request(), upstream.attempt)).rejects.toMatchObject({ failure: 'reset' });
    expect(upstream.seen).toHaveLength(2);
  });

  it.each([400, 401, 404, 413, 500, 504])('does not retry HTTP %i', async (status) => {
    const { resilience, retries } = setup();
    const upstream = scripted(response(status), response(200));
    expect((await resilience.send(request(), upstream.attempt)).status).toBe(status);
    expect(upstream.seen).toHaveLength(1);
    expect(retries).toEqual([]);
  });

  it.each(['timeout', 'first-token-timeout', 'aborted'] as const)(
    'does not retry a %s failure',
    async (failure) => {
      const { resilience } = setup();
      const upstream = scripted(new UpstreamException(failure, 'acme', failure), response(200));
      await expect(resilience.send(request(), upstream.attempt)).rejects.toMatchObject({ failure });
      expect(upstream.seen).toHaveLength(1);
    },
  );

  it('waits the retry-after the upstream asked for when it is within the bound', async () => {
    const { resilience, retries } = setup({ retryBaseMs: 1, retryMaxDelayMs: 1 });
    const upstream = scripted(response(429, { 'retry-after-ms': '30' }), response(200));
    const started = performance.now();
    expect((await resilience.send(request(), upstream.attempt)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect(retries[0]?.delayMs).toBe(30);
  });

  it('passes a 429 through unchanged when its retry-after is beyond the bound', async () => {
    const { resilience } = setup();
    const limited = response(429, { 'retry-after': '60' });
    const upstream = scripted(limited, response(200));
    expect(await resilience.send(request(), upstream.attempt)).toBe(limited);
    expect(upstream.seen).toHaveLength(1);
  });

  it('does not start a retry that would end after the deadline', async () => {
    const { resilience } = setup({ retryBaseMs: 1000, retryMaxDelayMs: 1000 });
    const upstream = scripted(response(503), response(200));
    const res = await resilience.send(
      request(undefined, { deadlineAt: performance.now() + 100 }),
      upstream.attempt,
    );
    expect(res.status).toBe(503);
    expect(upstream.seen).toHaveLength(1);
  });

  it('stops waiting at once when the client leaves, as an aborted call', async () => {
    const { resilience, retries } = setup({ retryBaseMs: 60_000, retryMaxDelayMs: 60_000, maxRetries: 1 });
    const controller = new AbortController();
    const upstream = scripted(response(503), response(200));
    const sent = resilience.send(
      request(controller.signal, { onRetry: () => controller.abort('client gone') }),
      upstream.attempt,
    );
    await expect(sent).rejects.toMatchObject({ failure: 'aborted' });
    expect(upstream.seen).toHaveLength(1);
    expect(retries).toHaveLength(1);
  });

  it('reports the deadline when it fires during a wait', async () => {
    const { resilience } = setup({ retryBaseMs: 60_000, retryMaxDelayMs: 60_000, maxRetries: 1 });
    const controller = new AbortController();
    const deadline = new UpstreamException('timeout', 'acme', 'request timeout reached');
    const upstream = scripted(reset(), response(200));
    const sent = resilience.send(
      request(controller.signal, { onRetry: () => controller.abort(deadline) }),
      upstream.attempt,
    );
    await expect(sent).rejects.toBe(deadline);
  });
});

describe('UpstreamResilience circuit breaker', () => {
  const breaker = {
    consecutiveFailures: 2,
    failureRatio: 1,
    minCalls: 100,
    windowMs: 60_000,
    halfOpenAfterMs: 1000,
  };

  afterEach(() => {
    jest.useRealTimers();
  });

  it('opens after the threshold and refuses calls fast with the time until the probe', async () => {
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const { resilience, transitions } = setup({ maxRetries: 0, breaker });
    const upstream = scripted(response(500), response(500), response(200));
    expect((await resilience.send(request(), upstream.attempt)).status).toBe(500);
    expect((await resilience.send(request(), upstream.attempt)).status).toBe(500);
    expect(transitions).toEqual(['open']);
    jest.setSystemTime(1_000_400);
    const refused = await resilience.send(request(), upstream.attempt).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UpstreamCircuitOpenException);
    expect((refused as UpstreamCircuitOpenException).retryAfterMs).toBe(600);
    expect(upstream.seen).toHaveLength(2);
    expect(resilience.snapshot()).toEqual([
      expect.objectContaining({
        provider: 'acme',
        state: 'open',
        consecutiveFailures: 2,
        retryAfterMs: 600,
        opened: 1,
        rejected: 1,
      }),
    ]);
  });

  it('lets one probe through after the delay, refuses others meanwhile, and closes on its success', async () => {
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const { resilience, transitions } = setup({ maxRetries: 0, breaker });
    const failing = scripted(response(503));
    await resilience.send(request(), failing.attempt);
    await resilience.send(request(), failing.attempt);
    jest.setSystemTime(1_001_000);
    expect(resilience.snapshot()[0]?.state).toBe('half-open');
    let answer: (r: UpstreamResponse) => void = () => undefined;
    const probe = resilience.send(
      request(),
      () => new Promise<UpstreamResponse>((resolve) => (answer = resolve)),
    );
    await expect(resilience.send(request(), failing.attempt)).rejects.toBeInstanceOf(
      UpstreamCircuitOpenException,
    );
    answer(response(200));
    expect((await probe).status).toBe(200);
    expect(transitions).toEqual(['open', 'half-open', 'closed']);
    expect(resilience.snapshot()[0]).toMatchObject({
      state: 'closed',
      consecutiveFailures: 0,
      halfOpened: 1,
      closed: 1,
    });
  });

  it('reopens when the probe fails', async () => {
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const { resilience, transitions } = setup({ maxRetries: 0, breaker });
    const failing = scripted(reset());
    await resilience.send(request(), failing.attempt).catch(() => undefined);
    await resilience.send(request(), failing.attempt).catch(() => undefined);
    jest.setSystemTime(1_001_000);
    await expect(resilience.send(request(), failing.attempt)).rejects.toMatchObject({ failure: 'reset' });
    expect(transitions).toEqual(['open', 'half-open', 'open']);
    expect(resilience.snapshot()[0]?.retryAfterMs).toBe(1000);
  });

  it('counts each attempt, and stops retrying once the circuit opened', async () => {
    const { resilience } = setup({ maxRetries: 5, breaker });
    const upstream = scripted(response(503));
    expect((await resilience.send(request(), upstream.attempt)).status).toBe(503);
    expect(upstream.seen).toHaveLength(2);
    expect(resilience.snapshot()[0]).toMatchObject({ state: 'open', retries: 1 });
  });

  it('does not count 4xx answers nor aborts', async () => {
    const { resilience } = setup({ maxRetries: 0, breaker });
    const upstream = scripted(
      response(500),
      new UpstreamException('aborted', 'acme', 'gone'),
      response(429),
      response(400),
    );
    await resilience.send(request(), upstream.attempt);
    await resilience.send(request(), upstream.attempt).catch(() => undefined);
    // The abort in between neither counted nor reset the run of failures.
    expect(resilience.snapshot()[0]).toMatchObject({ state: 'closed', consecutiveFailures: 1 });
    for (let i = 0; i < 2; i++) await resilience.send(request(), upstream.attempt);
    expect(resilience.snapshot()[0]).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  it('reopens when the probe is aborted (an aborted probe proves nothing)', async () => {
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const { resilience, transitions } = setup({ maxRetries: 0, breaker });
    const failing = scripted(response(503));
    await resilience.send(request(), failing.attempt);
    await resilience.send(request(), failing.attempt);
    jest.setSystemTime(1_001_000);
    const aborted = scripted(new UpstreamException('aborted', 'acme', 'client left'));
    await expect(resilience.send(request(), aborted.attempt)).rejects.toMatchObject({ failure: 'aborted' });
    expect(transitions).toEqual(['open', 'half-open', 'open']);
    expect(resilience.snapshot()[0]).toMatchObject({ state: 'open', retryAfterMs: 1000 });
  });

  it('never opens with a consecutive threshold of 0', async () => {
    const { resilience } = setup({
      maxRetries: 0,
      breaker: { ...breaker, consecutiveFailures: 0, failureRatio: 0.1, minCalls: 1 },
    });
    const upstream = scripted(response(500));
    for (let i = 0; i < 10; i++) await resilience.send(request(), upstream.attempt);
    expect(upstream.seen).toHaveLength(10);
    expect(resilience.snapshot()[0]).toMatchObject({ state: 'closed', opened: 0 });
  });
});
