import type { CallRecord, WardenEvent } from '@warden/events';
import { diffCall } from './call-diff';

function record(overrides: Partial<CallRecord>): CallRecord {
  return {
    id: 'call-1',
    sessionId: 's-1',
    keyId: null,
    clientFormat: 'anthropic',
    upstreamFormat: 'anthropic',
    provider: 'anthropic',
    model: 'claude-test',
    stream: false,
    status: 'completed',
    httpStatus: 200,
    startedAt: '2026-01-01T00:00:00.000Z',
    completedAt: '2026-01-01T00:00:01.000Z',
    firstTokenMs: null,
    durationMs: 1000,
    inputTokens: 1,
    outputTokens: 1,
    error: null,
    policyActions: [],
    originalRequest: null,
    finalRequest: null,
    originalResponse: null,
    finalResponse: null,
    ...overrides,
  };
}

function event(type: string, data: Record<string, unknown>): WardenEvent {
  return { id: `e-${type}`, callId: 'call-1', type, at: '2026-01-01T00:00:00.500Z', instance: 'test', data };
}

const request = { model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content: 'clean up' }] };
const message = (content: unknown[]): Record<string, unknown> => ({
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'claude-test',
  content,
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 1, output_tokens: 1 },
});

describe('diffCall', () => {
  it('finds no change when the call went through untouched', () => {
    const reply = message([{ type: 'text', text: 'hi' }]);
    const diff = diffCall(
      record({
        originalRequest: request,
        finalRequest: request,
        originalResponse: reply,
        finalResponse: reply,
      }),
      [],
    );
    expect(diff.request).toMatchObject({
      changed: false,
      comparedAs: 'as-sent',
      messages: [],
      keptMessages: 1,
    });
    expect(diff.response).toMatchObject({ changed: false, changes: [] });
    expect(diff.response.blocks.map((b) => b.kind)).toEqual(['kept']);
  });

  it("annotates the blocked tool call with the judge's explanation", () => {
    const dangerous = { type: 'tool_use', id: 'toolu_0', name: 'bash', input: { command: 'rm -rf ~' } };
    const original = message([{ type: 'text', text: 'ok' }, dangerous]);
    const final = {
      ...message([
        { type: 'text', text: 'ok' },
        { type: 'text', text: 'Blocked rm -rf ~' },
      ]),
      stop_reason: 'end_turn',
    };
    const blocked = event('policy.tool-call-judge.blocked', {
      tool: 'bash',
      toolCallId: 'toolu_0',
      probability: 0.95,
      explanation: 'mock judge: matched dangerous pattern rm -rf',
    });
    const diff = diffCall(
      record({
        originalRequest: request,
        finalRequest: request,
        originalResponse: original,
        finalResponse: final,
      }),
      [blocked],
    );
    expect(diff.response.changed).toBe(true);
    expect(diff.response.changes).toEqual(
      expect.arrayContaining([
        { path: 'stop_reason', kind: 'changed', before: 'tool_use', after: 'end_turn' },
      ]),
    );
    const replaced = diff.response.blocks.find((b) => b.kind === 'replaced');
    expect(replaced).toMatchObject({
      before: dangerous,
      after: { type: 'text', text: 'Blocked rm -rf ~' },
      policy: {
        event: 'policy.tool-call-judge.blocked',
        explanation: 'mock judge: matched dangerous pattern rm -rf',
        probability: 0.95,
      },
    });
  });

  it('compares an OpenAI request converted for an Anthropic upstream in the Anthropic form', () => {
    const openai = {
      model: 'claude-test',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'pip install x' }],
    };
    const forwarded = {
      model: 'claude-test',
      max_tokens: 100,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'uv add x' }] }],
    };
    const diff = diffCall(
      record({
        clientFormat: 'openai',
        upstreamFormat: 'anthropic',
        originalRequest: openai,
        finalRequest: forwarded,
      }),
      [],
    );
    expect(diff.request.comparedAs).toBe('anthropic');
    expect(diff.request.messages).toEqual([
      expect.objectContaining({
        kind: 'changed',
        blocks: [expect.objectContaining({ kind: 'replaced', after: { type: 'text', text: 'uv add x' } })],
      }),
    ]);
  });

  it('handles a call with no response and no forwarded request', () => {
    const diff = diffCall(record({ status: 'failed', originalRequest: request }), []);
    expect(diff.request.changed).toBe(false);
    expect(diff.response).toMatchObject({ changed: false, blocks: [] });
  });
});
