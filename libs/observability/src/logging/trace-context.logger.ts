import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { isSpanContextValid, trace, type SpanContext } from '@opentelemetry/api';

type JsonLogOptions = Parameters<ConsoleLogger['getJsonLogObject']>[1];
type JsonLogObject = ReturnType<ConsoleLogger['getJsonLogObject']>;

/**
 * Nest's console logger plus the active trace: when a span is active (a call being served with tracing on), JSON
 * lines get `trace_id` and `span_id` fields and text lines end with `trace_id=… span_id=…`, so a log line leads to
 * its trace. Without tracing no span is ever active and lines are unchanged.
 */
export class TraceContextLogger extends ConsoleLogger {
  protected override getJsonLogObject(message: unknown, options: JsonLogOptions): JsonLogObject {
    const record = super.getJsonLogObject(message, options);
    const span = activeSpanContext();
    if (span !== undefined) {
      record.trace_id = span.traceId;
      record.span_id = span.spanId;
    }
    return record;
  }

  protected override formatMessage(
    logLevel: LogLevel,
    message: unknown,
    pidMessage: string,
    formattedLogLevel: string,
    contextMessage: string,
    timestampDiff: string,
    params?: Record<string, unknown>,
  ): string {
    const line = super.formatMessage(
      logLevel,
      message,
      pidMessage,
      formattedLogLevel,
      contextMessage,
      timestampDiff,
      params,
    );
    const span = activeSpanContext();
    if (span === undefined) return line;
    const suffix = ` trace_id=${span.traceId} span_id=${span.spanId}`;
    return line.endsWith('\n') ? `${line.slice(0, -1)}${suffix}\n` : `${line}${suffix}`;
  }
}

/** The span context of the active span, when there is a valid one. */
function activeSpanContext(): SpanContext | undefined {
  const span = trace.getActiveSpan();
  if (span === undefined) return undefined;
  const spanContext = span.spanContext();
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}
