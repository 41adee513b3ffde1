import {
  context,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
} from '@opentelemetry/api';
import type { WireFormat } from '@warden/llm';
import { UpstreamException, type ResolvedRoute, type UpstreamRetry } from '@warden/upstream';
import { ERROR_MAPPINGS } from '../errors/gateway-error-code';
import { GatewayException } from '../errors/gateway.exception';
import type { CallUsage } from '../stream/frame-relay';
import type { StreamOutcome } from '../stream/stream-pump';
import type { TraceClientContext } from '../control-plane.config';
import type { CallEndpoint, IncomingCall } from './call-context';

/** The tracer of calls (OpenTelemetry API: a no-op until a tracer provider is registered). */
const TRACER = trace.getTracer('warden');

/** Returned instead of a child span when the parent does not record: every operation on it is free. */
const NOT_RECORDING: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** The route template of each endpoint (`http.route`). */
const HTTP_ROUTES: Record<CallEndpoint, string> = {
  chat: '/v1/chat/completions',
  messages: '/v1/messages',
};

/** Span names. */
export const CALL_SPAN = 'warden.call';
export const UPSTREAM_SPAN = 'warden.upstream';
export const STREAM_SPAN = 'warden.stream';

/**
 * Starts a call's SERVER span. A client's W3C `traceparent` is continued (`continue`: the span joins its trace and
 * follows its sampling decision), linked to from a new trace (`link`), or ignored. Attributes are only built when
 * the span records, so a call costs one no-op span when tracing is off.
 */
export function startCallSpan(
  call: IncomingCall,
  callId: string,
  route: ResolvedRoute,
  upstreamFormat: WireFormat,
  clientContext: TraceClientContext = 'continue',
): Span {
  const client =
    call.headers.traceparent === undefined || clientContext === 'ignore'
      ? undefined
      : propagation.extract(ROOT_CONTEXT, call.headers);
  let span: Span;
  if (client !== undefined && clientContext === 'continue') {
    span = TRACER.startSpan(CALL_SPAN, { kind: SpanKind.SERVER }, client);
  } else {
    const linked = client === undefined ? undefined : trace.getSpanContext(client);
    const links = linked !== undefined && isSpanContextValid(linked) ? [{ context: linked }] : [];
    span = TRACER.startSpan(CALL_SPAN, { kind: SpanKind.SERVER, links }, ROOT_CONTEXT);
  }
  if (span.isRecording()) {
    span.setAttributes({
      'http.request.method': 'POST',
      'http.route': HTTP_ROUTES[call.endpoint],
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': upstreamFormat,
      'gen_ai.request.model': call.model,
      'warden.call_id': callId,
      'warden.model': call.model,
      'warden.provider': route.provider.name,
      'warden.client_format': call.clientFormat,
      'warden.upstream_format': upstreamFormat,
      'warden.upstream_model': route.upstreamModel,
      'warden.stream': call.stream,
    });
  }
  return span;
}

/** A child span of `parent`, or a shared no-op span when `parent` does not record (tracing off or not sampled). */
export function startChildSpan(parent: Span, name: string, kind: SpanKind = SpanKind.INTERNAL): Span {
  if (!parent.isRecording()) return NOT_RECORDING;
  return TRACER.startSpan(name, { kind }, trace.setSpan(ROOT_CONTEXT, parent));
}

/**
 * Runs `fn` with `span` as the active span (log lines written meanwhile carry its ids; a retry loop below can
 * `trace.getActiveSpan()?.addEvent(...)`). Only when it records: without tracing `fn` runs as is, no context switch.
 */
export function withActiveSpan<T>(span: Span, fn: () => T): T {
  return span.isRecording() ? context.with(trace.setSpan(ROOT_CONTEXT, span), fn) : fn();
}

/** Starts the CLIENT span of one upstream request (ended when the response headers arrived or it failed). */
export function startUpstreamSpan(
  call: Span,
  route: ResolvedRoute,
  format: WireFormat,
  endpoint: string,
): Span {
  const span = startChildSpan(call, UPSTREAM_SPAN, SpanKind.CLIENT);
  if (span.isRecording()) {
    span.setAttributes({
      'http.request.method': 'POST',
      'gen_ai.system': format,
      'gen_ai.request.model': route.upstreamModel,
      'warden.provider': route.provider.name,
      'warden.upstream.endpoint': endpoint,
    });
  }
  return span;
}

/**
 * Records a retry as an event of the active span (the upstream span: {@link withActiveSpan} runs the send). Passed
 * as the upstream request's `onRetry`; a shared function, so untraced calls allocate nothing for it.
 */
export function recordUpstreamRetry(retry: UpstreamRetry): void {
  const span = trace.getActiveSpan();
  if (span === undefined || !span.isRecording()) return;
  span.addEvent('warden.upstream.retry', {
    'warden.retry.attempt': retry.attempt,
    'warden.retry.delay_ms': retry.delayMs,
    'warden.retry.reason': retry.reason,
  });
}

/** Ends an upstream span with the response status (4xx and 5xx are errors for a client span). */
export function endUpstreamSpan(span: Span, status: number): void {
  if (!span.isRecording()) return;
  span.setAttribute('http.response.status_code', status);
  if (status >= 400) span.setStatus({ code: SpanStatusCode.ERROR, message: `upstream answered ${status}` });
  span.end();
}

/** Ends a span with an error: its type, and the HTTP status the client gets for it when known. */
export function failSpan(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  recordError(span, error);
  span.end();
}

/** Marks a span failed by `error` without ending it. */
export function recordError(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  if (error instanceof GatewayException) {
    span.setAttributes({
      'error.type': error.code,
      'http.response.status_code': ERROR_MAPPINGS[error.code].status,
    });
  } else if (error instanceof UpstreamException) {
    span.setAttribute('error.type', error.failure);
  } else {
    span.setAttribute('error.type', error instanceof Error ? error.name : 'unknown');
  }
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/** Records how a call ended on its span: status and token usage. */
export function recordCompletion(span: Span, status: number, usage: CallUsage): void {
  if (!span.isRecording()) return;
  span.setAttribute('http.response.status_code', status);
  if (usage.inputTokens !== undefined) span.setAttribute('gen_ai.usage.input_tokens', usage.inputTokens);
  if (usage.outputTokens !== undefined) span.setAttribute('gen_ai.usage.output_tokens', usage.outputTokens);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `answered ${status}` });
}

/** Ends a stream span with what happened to the stream; a failed stream also marks the call span failed. */
export function endStreamSpan(span: Span, call: Span, outcome: StreamOutcome | undefined): void {
  if (!span.isRecording()) return;
  if (outcome === undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'stream relay failed' });
    span.end();
    return;
  }
  span.setAttributes({
    'warden.stream.outcome': outcome.status,
    'warden.stream.bytes_in': outcome.bytesIn,
    'warden.stream.bytes_out': outcome.bytesOut,
  });
  if (outcome.firstTokenMs !== undefined) span.setAttribute('warden.stream.ttft_ms', outcome.firstTokenMs);
  if (outcome.status === 'failed') {
    const status = { code: SpanStatusCode.ERROR, message: outcome.error ?? 'stream failed' };
    span.setStatus(status);
    call.setStatus(status);
  } else if (outcome.status === 'client_aborted') {
    call.setAttribute('warden.client_aborted', true);
  }
  span.end();
}

/**
 * Ends a call's span with the time spent in each policy. The end is stamped now but handed over on the next turn
 * of the event loop: a call whose response went out untouched records its usage right after (off the hot path).
 */
export function endCallSpan(span: Span, policyMs: ReadonlyMap<string, number>): void {
  if (!span.isRecording()) {
    span.end();
    return;
  }
  for (const [policy, ms] of policyMs) span.setAttribute(`warden.policy.${policy}.ms`, ms);
  const endedAt = performance.now();
  setImmediate(() => span.end(endedAt));
}
