import { INVALID_SPAN_CONTEXT, ROOT_CONTEXT, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { AnthropicStreamEvent } from '@warden/llm';
import { isPromise, type StreamTransform } from './stream-transform';

/** The hook a policy span covers: `request` (onRequest), `response` (a whole message), `stream` (all its events). */
export type PolicySpanHook = 'request' | 'response' | 'stream';

const TRACER = trace.getTracer('warden');

/** Stands in for a policy span when the call's span does not record: every operation on it is free. */
const NOT_RECORDING: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Starts `warden.policy.<policy>.<hook>` as a child of `parent` (the call's or the stream's span); a shared no-op
 * span when `parent` does not record (tracing off or the call not sampled), so the untraced path allocates nothing.
 */
export function startPolicySpan(parent: Span, policy: string, hook: PolicySpanHook): Span {
  if (!parent.isRecording()) return NOT_RECORDING;
  return TRACER.startSpan(
    `warden.policy.${policy}.${hook}`,
    { attributes: { 'warden.policy.name': policy, 'warden.policy.hook': hook } },
    trace.setSpan(ROOT_CONTEXT, parent),
  );
}

/** Ends a policy span, failed when `error` is given. */
export function endPolicySpan(span: Span, error?: unknown): void {
  if (!span.isRecording()) return;
  if (error !== undefined) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : 'policy failed',
    });
  }
  span.end();
}

/**
 * `inner` inside one `warden.policy.<policy>.stream` span covering the policy's whole stream work (not one span per
 * event): it records the events pushed and the ms spent in the policy, and ends once the policy handled
 * `message_stop` or `end()`, at its first failure, or when the call is aborted or over (`signal`: then marked
 * interrupted), whichever comes first. `inner` itself when `parent` does
 * not record.
 */
export function tracedStream(
  policy: string,
  inner: StreamTransform,
  parent: Span,
  signal: AbortSignal,
): StreamTransform {
  if (!parent.isRecording()) return inner;
  const span = startPolicySpan(parent, policy, 'stream');
  let events = 0;
  let spentMs = 0;
  let ended = false;
  const finish = (error?: unknown, interrupted = false): void => {
    if (ended) return;
    ended = true;
    signal.removeEventListener('abort', onAbort);
    span.setAttributes({ 'warden.policy.events': events, 'warden.policy.ms': spentMs });
    if (interrupted) span.setAttribute('warden.policy.interrupted', true);
    endPolicySpan(span, error);
  };
  const onAbort = (): void => finish(undefined, true);
  if (signal.aborted) finish(undefined, true);
  else signal.addEventListener('abort', onAbort, { once: true });

  const measure = (
    fn: () => AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]>,
    last: boolean,
  ): AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]> => {
    const started = performance.now();
    let out: AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]>;
    try {
      out = fn();
    } catch (error) {
      spentMs += performance.now() - started;
      finish(error);
      throw error;
    }
    if (!isPromise(out)) {
      spentMs += performance.now() - started;
      if (last) finish();
      return out;
    }
    return out.then(
      (resolved) => {
        spentMs += performance.now() - started;
        if (last) finish();
        return resolved;
      },
      (error: unknown) => {
        spentMs += performance.now() - started;
        finish(error);
        throw error;
      },
    );
  };
  return {
    push: (event) => {
      events++;
      // The policy's work on this message is over once it has handled the final event.
      return measure(() => inner.push(event), event.type === 'message_stop');
    },
    end: () => measure(() => inner.end(), true),
  };
}
