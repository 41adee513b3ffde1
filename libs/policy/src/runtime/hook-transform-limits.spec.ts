import { INVALID_SPAN_CONTEXT, trace } from '@opentelemetry/api';
import { messageToEvents, type AnthropicResponse, type AnthropicStreamEvent } from '@warden/llm';
import type { Policy } from '../core/policy';
import { CallPolicyContext, type CallInfo } from '../core/policy-context';
import { HookTransform } from './hook-transform';
import { StreamBufferExceeded } from './policy-errors';

const call: CallInfo = {
  callId: 'c',
  sessionId: 's',
  keyId: undefined,
  clientFormat: 'anthropic',
  upstreamFormat: 'anthropic',
  model: 'm',
  stream: true,
  originalRequest: {},
  signal: new AbortController().signal,
  span: trace.wrapSpanContext(INVALID_SPAN_CONTEXT),
};

function message(text: string): AnthropicResponse {
  return {
    id: 'msg',
    type: 'message',
    role: 'assistant',
    model: 'm',
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 1, output_tokens: 1 },
  };
}

/** Splits the single text delta of messageToEvents into many small deltas. */
function chunked(text: string, size: number): AnthropicStreamEvent[] {
  const out: AnthropicStreamEvent[] = [];
  for (const event of messageToEvents(message(text))) {
    if (event.type !== 'content_block_delta') {
      out.push(event);
      continue;
    }
    for (let i = 0; i < text.length; i += size) {
      out.push({ ...event, delta: { type: 'text_delta', text: text.slice(i, i + size) } });
    }
  }
  return out;
}

async function run(
  policy: Policy,
  events: AnthropicStreamEvent[],
  limit: number,
): Promise<AnthropicStreamEvent[]> {
  const transform = new HookTransform(
    policy,
    new CallPolicyContext(call, policy.name, () => undefined),
    limit,
  );
  const out: AnthropicStreamEvent[] = [];
  for (const event of events) out.push(...(await transform.push(event)));
  return out;
}

describe('HookTransform buffer bound on held text', () => {
  const holdAll: Policy = { name: 'hold-all', onTextDelta: () => '', onTextComplete: (_ctx, text) => text };

  it('fails with StreamBufferExceeded once held text outgrows the limit', async () => {
    await expect(run(holdAll, chunked('x'.repeat(500), 10), 100)).rejects.toBeInstanceOf(
      StreamBufferExceeded,
    );
  });

  it('lets a policy hold text within the limit', async () => {
    const out = await run(holdAll, chunked('y'.repeat(90), 10), 100);
    const text = out.flatMap((e) =>
      e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? [e.delta.text] : [],
    );
    expect(text.join('')).toBe('y'.repeat(90));
  });

  it('does not count text that is forwarded as it comes', async () => {
    const passing: Policy = { name: 'pass', onTextDelta: (_ctx, text) => text };
    await expect(run(passing, chunked('z'.repeat(5000), 10), 100)).resolves.toHaveLength(5000 / 10 + 5);
  });
});
