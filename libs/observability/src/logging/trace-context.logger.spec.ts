import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createAppLogger } from './app-logger';

const SPAN = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.SAMPLED,
};

/** Lines the logger writes to stdout while `fn` runs. */
function captureStdout(fn: () => void): string[] {
  const lines: string[] = [];
  const write = jest
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array): boolean => {
      lines.push(String(chunk));
      return true;
    });
  try {
    fn();
  } finally {
    write.mockRestore();
  }
  return lines;
}

function withSpan(fn: () => void): void {
  context.with(trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext(SPAN)), fn);
}

describe('trace ids in log lines', () => {
  beforeAll(() => {
    expect(context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())).toBe(true);
  });
  afterAll(() => {
    context.disable();
  });

  it('adds trace_id and span_id to JSON lines written while a span is active', () => {
    const logger = createAppLogger({ level: 'log', format: 'json' });
    const [inside] = captureStdout(() => withSpan(() => logger.log('serving', 'ControlPlane')));
    const [outside] = captureStdout(() => logger.log('idle', 'ControlPlane'));
    expect(JSON.parse(inside as string)).toMatchObject({
      message: 'serving',
      context: 'ControlPlane',
      trace_id: SPAN.traceId,
      span_id: SPAN.spanId,
    });
    const plain = JSON.parse(outside as string) as Record<string, unknown>;
    expect(plain.message).toBe('idle');
    expect(plain).not.toHaveProperty('trace_id');
    expect(plain).not.toHaveProperty('span_id');
  });

  it('ends text lines with the trace ids while a span is active, and only then', () => {
    const logger = createAppLogger({ level: 'log', format: 'text' });
    const [inside] = captureStdout(() => withSpan(() => logger.warn('slow upstream', 'ControlPlane')));
    const [outside] = captureStdout(() => logger.warn('slow upstream', 'ControlPlane'));
    expect(inside).toContain('slow upstream');
    expect(inside).toMatch(/ trace_id=0af7651916cd43dd8448eb211c80319c span_id=b7ad6b7169203331\n$/);
    expect(outside).not.toContain('trace_id');
  });

  it('leaves lines alone when the active span context is invalid (tracing off)', () => {
    const logger = createAppLogger({ level: 'log', format: 'json' });
    const [line] = captureStdout(() =>
      context.with(
        trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ ...SPAN, traceId: '0'.repeat(32) })),
        () => logger.log('no trace'),
      ),
    );
    expect(JSON.parse(line as string)).not.toHaveProperty('trace_id');
  });
});
