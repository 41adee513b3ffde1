import { context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { shutdownTracing, startTracing } from './tracing-sdk';
import { tracingConfig } from './tracing.config';

describe('tracingConfig', () => {
  it('is off unless an exporter or an OTLP endpoint is configured', () => {
    expect(tracingConfig.parse({}).enabled).toBe(false);
    expect(tracingConfig.parse({ OTEL_SERVICE_NAME: 'edge' }).enabled).toBe(false);
    expect(tracingConfig.parse({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toMatchObject({
      enabled: true,
      exporters: ['otlp'],
      endpoint: 'http://collector:4318',
    });
    expect(
      tracingConfig.parse({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }).enabled,
    ).toBe(true);
    expect(tracingConfig.parse({ OTEL_TRACES_EXPORTER: 'console' })).toMatchObject({
      enabled: true,
      exporters: ['console'],
    });
  });

  it('stays off with the none exporter or OTEL_SDK_DISABLED, whatever else is set', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(tracingConfig.parse({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }).enabled).toBe(false);
    expect(tracingConfig.parse({ ...endpoint, OTEL_SDK_DISABLED: 'true' }).enabled).toBe(false);
  });

  it('defaults the service name to warden and rejects an unknown exporter naming the variable', () => {
    expect(tracingConfig.parse({}).serviceName).toBe('warden');
    expect(() => tracingConfig.parse({ OTEL_TRACES_EXPORTER: 'otlp,jaeger' })).toThrow(
      /OTEL_TRACES_EXPORTER/,
    );
  });
});

describe('startTracing / shutdownTracing', () => {
  afterEach(async () => {
    await shutdownTracing();
  });

  it('registers nothing when tracing is not configured', () => {
    expect(startTracing({}).enabled).toBe(false);
    const span = trace.getTracer('test').startSpan('probe');
    expect(span.isRecording()).toBe(false);
    span.end();
  });

  it('records spans through the given processors and W3C propagation, then flushes and unregisters once', async () => {
    const exporter = new InMemorySpanExporter();
    const processor = new SimpleSpanProcessor(exporter);
    const status = startTracing({ OTEL_SERVICE_NAME: 'warden-test' }, { spanProcessors: [processor] });
    expect(status).toEqual({ enabled: true, serviceName: 'warden-test', exporters: ['custom'] });
    expect(() => startTracing({}, { spanProcessors: [] })).toThrow(/already started/);

    const span = trace.getTracer('test').startSpan('probe');
    expect(span.isRecording()).toBe(true);
    const headers: Record<string, string> = {};
    propagation.inject(trace.setSpan(ROOT_CONTEXT, span), headers);
    expect(headers.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    context.with(trace.setSpan(ROOT_CONTEXT, span), () => {
      expect(trace.getActiveSpan()).toBe(span);
    });
    span.end();
    await processor.forceFlush();
    const [exported] = exporter.getFinishedSpans();
    expect(exported?.name).toBe('probe');
    expect(exported?.resource.attributes['service.name']).toBe('warden-test');

    const first = shutdownTracing();
    expect(shutdownTracing()).toBe(first);
    await first;
    await shutdownTracing();
    expect(trace.getTracer('test').startSpan('after').isRecording()).toBe(false);
  });
});
