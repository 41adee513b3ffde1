import { ControlPlaneService } from '@warden/control-plane';
import { script, sseFrames, startTestGateway, type TestGateway } from './support/harness';
import { TEST_PLUGIN_DIR, writePolicyConfig } from './support/test-plugins';

const TOTAL_CALLS = 10_000;
const CONCURRENCY = 32;

type Outcome = 'ok' | 'policy-error' | 'upstream-error' | 'timeout' | 'aborted';

function timeoutCount(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

async function settle(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !condition(); i++) await new Promise<void>((r) => setImmediate(r));
}

describe('per-call state is released on every path', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({
      POLICY_PLUGIN_DIR: TEST_PLUGIN_DIR,
      POLICY_CONFIG: writePolicyConfig([{ type: 'test-faults', options: { holdMs: 5 } }]),
      FIRST_TOKEN_TIMEOUT_MS: '1000',
      STREAM_KEEPALIVE_MS: '100',
      // Every outcome must be exactly what each call scripted: no retry, no circuit turning errors into 503s.
      UPSTREAM_MAX_RETRIES: '0',
      BREAKER_CONSECUTIVE_FAILURES: '0',
    });
  });
  afterAll(async () => {
    await gw.close();
  });

  async function one(i: number): Promise<Outcome> {
    const kind = i % 10;
    const anthropic = (content: string, stream: boolean, model = 'claude-test') =>
      fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({ model, max_tokens: 100, stream, messages: [{ role: 'user', content }] }),
      });
    const openai = (content: string, stream: boolean, model = 'gpt-test', signal?: AbortSignal) =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, stream, messages: [{ role: 'user', content }] }),
        signal,
      });
    switch (kind) {
      case 0: {
        const res = await openai(script({ words: 5 }), false);
        await res.text();
        return res.status === 200 ? 'ok' : 'upstream-error';
      }
      case 1:
      case 2: {
        const res =
          kind === 1
            ? await anthropic(script({ words: 8 }), true)
            : await openai(script({ words: 8 }), true, 'claude-test');
        const frames = sseFrames(await res.text());
        return frames.some((f) => f.event === 'error' || f.data.includes('"error"'))
          ? 'upstream-error'
          : 'ok';
      }
      case 3: {
        const res = await openai('FAIL_REQUEST please', false);
        await res.text();
        return res.status === 500 ? 'policy-error' : 'ok';
      }
      case 4: {
        const res = await anthropic(
          script({ text: 'all good until FAIL_STREAM shows up' }),
          true,
          'gpt-test',
        );
        const frames = sseFrames(await res.text());
        return frames.at(-1)?.event === 'error' ? 'policy-error' : 'ok';
      }
      case 5: {
        const res = await anthropic(script({ status: 503 }), i % 20 === 5);
        await res.text();
        return res.status === 503 ? 'upstream-error' : 'ok';
      }
      case 6: {
        if (i % 100 !== 6) {
          const res = await openai('plain', false, 'mock-small');
          await res.text();
          return 'ok';
        }
        const stream = i % 200 === 6;
        // The upstream would answer after 10 s; the gateway gives up after 1 s (calls that should succeed must never
        // come near that, even on a loaded CI box: a policy-error stream timing out would be miscounted).
        const res = await openai(script({ ttftMs: 10_000 }), stream);
        const text = await res.text();
        // A 504 when no response header came in time; once a stream's headers were sent, an in-band timeout error.
        const inBand = stream && res.status === 200 && text.includes('upstream_timeout');
        const timedOut = res.status === 504 || inBand;
        return timedOut ? 'timeout' : 'ok';
      }
      case 7: {
        const controller = new AbortController();
        const res = await openai(
          script({ words: 200, chunkDelayMs: 2 }),
          true,
          'gpt-test',
          controller.signal,
        );
        const reader = res.body?.getReader();
        await reader?.read();
        controller.abort();
        return 'aborted';
      }
      case 8: {
        const tools = [{ name: 'slow_tool', arguments: { n: i } }];
        const res = await anthropic(script({ text: 'using a tool', tools }), true);
        const frames = sseFrames(await res.text());
        return frames.some((f) => f.data.includes('slow_tool')) ? 'ok' : 'upstream-error';
      }
      default: {
        const res = await anthropic(script({ thinking: 'hmm', words: 3 }), false);
        await res.text();
        return res.status === 200 ? 'ok' : 'upstream-error';
      }
    }
  }

  it(`runs ${TOTAL_CALLS} mixed calls (success, policy errors, upstream errors, timeouts, aborts) and leaks nothing`, async () => {
    const controlPlane = gw.app.get(ControlPlaneService);
    const timersBefore = timeoutCount();
    const outcomes = new Map<Outcome, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < TOTAL_CALLS) {
        const outcome = await one(next++).catch((): Outcome => 'aborted');
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await settle(() => controlPlane.inFlight === 0);

    expect(controlPlane.inFlight).toBe(0);
    expect(outcomes.get('ok')).toBeGreaterThan(TOTAL_CALLS / 2);
    expect(outcomes.get('policy-error')).toBe(TOTAL_CALLS / 5);
    expect(outcomes.get('upstream-error')).toBe(TOTAL_CALLS / 10);
    expect(outcomes.get('aborted')).toBe(TOTAL_CALLS / 10);
    expect(outcomes.get('timeout')).toBe(TOTAL_CALLS / 100);
    // Every per-call timer (deadline, first token, keep-alive) is cleared: the count of live timers is back where it
    // was (undici keeps one shared timer of its own, hence the slack of one).
    await settle(() => timeoutCount() <= timersBefore + 1);
    expect(timeoutCount()).toBeLessThanOrEqual(timersBefore + 1);
  }, 180_000);
});
