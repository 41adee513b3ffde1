import {
  trace,
  type AttributeValue,
  type Attributes,
  type Span,
  type SpanContext,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { script, startTestGateway, type TestGateway } from './support/harness';
import { TEST_PLUGIN_DIR, writePolicyConfig } from './support/test-plugins';
import { waitFor } from './support/wait';

/** The smallest recording tracer the OpenTelemetry API accepts: keeps each span's name, attributes and end. */
class RecordingSpan {
  readonly attributes: Attributes = {};
  ended = false;
  constructor(
    readonly name: string,
    attributes: Attributes | undefined,
  ) {
    Object.assign(this.attributes, attributes);
  }
  spanContext(): SpanContext {
    return { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
  }
  setAttribute(key: string, value: AttributeValue): this {
    this.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    Object.assign(this.attributes, attributes);
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(): this {
    return this;
  }
  updateName(): this {
    return this;
  }
  end(): void {
    this.ended = true;
  }
  isRecording(): boolean {
    return !this.ended;
  }
  recordException(): void {}
}

const spans: RecordingSpan[] = [];
const tracer = {
  startSpan: (name: string, options?: { attributes?: Attributes }) => {
    const span = new RecordingSpan(name, options?.attributes);
    spans.push(span);
    return span as unknown as Span;
  },
  startActiveSpan: () => {
    throw new Error('not used');
  },
} as unknown as Tracer;
const provider: TracerProvider = { getTracer: () => tracer };

describe('policy timings on the call span', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    gw = await startTestGateway({
      POLICY_PLUGIN_DIR: TEST_PLUGIN_DIR,
      POLICY_CONFIG: writePolicyConfig([{ type: 'test-faults' }, { type: 'noop' }]),
    });
  });
  afterAll(async () => {
    await gw.close();
    trace.disable();
  });

  it('records each policy time as an attribute of the ended call span, streaming and not', async () => {
    for (const stream of [false, true]) {
      const res = await fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({
          model: 'claude-test',
          max_tokens: 50,
          stream,
          messages: [{ role: 'user', content: script({ words: 4 }) }],
        }),
      });
      await res.text();
      const callId = res.headers.get('x-warden-call-id');
      const span = await waitFor(() =>
        spans.find((s) => s.attributes['warden.call_id'] === callId && s.ended),
      );
      expect(span.name).toBe('warden.call');
      expect(span.attributes).toMatchObject({ 'warden.model': 'claude-test', 'warden.stream': stream });
      expect(span.attributes['warden.policy.test-faults.ms']).toEqual(expect.any(Number));
    }
  });
});
