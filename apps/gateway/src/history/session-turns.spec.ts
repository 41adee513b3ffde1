import type { CallRecord } from '@warden/events';
import { exportSession } from './session-export';
import { extractTurns } from './session-turns';

function call(id: string, startedAt: string, overrides: Partial<CallRecord>): CallRecord {
  return {
    id,
    sessionId: 'sess',
    keyId: null,
    clientFormat: 'anthropic',
    upstreamFormat: 'anthropic',
    provider: 'anthropic',
    model: 'claude-test',
    stream: true,
    status: 'completed',
    httpStatus: 200,
    startedAt,
    completedAt: startedAt,
    firstTokenMs: 5,
    durationMs: 10,
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

const reply = (content: unknown[]): Record<string, unknown> => ({
  type: 'message',
  role: 'assistant',
  content,
});

describe('extractTurns', () => {
  const first = call('c1', '2026-01-01T00:00:01.000Z', {
    finalRequest: { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'list files' }] },
    finalResponse: reply([{ type: 'tool_use', id: 't1', name: 'bash', input: { command: 'ls' } }]),
  });
  const second = call('c2', '2026-01-01T00:00:02.000Z', {
    finalRequest: {
      model: 'm',
      max_tokens: 10,
      messages: [
        { role: 'user', content: 'list files' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 't1', name: 'bash', input: { command: 'ls' } }],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'a.txt' }] },
      ],
    },
    finalResponse: reply([{ type: 'text', text: 'There is a.txt' }]),
  });

  it('takes, per call in time order, the messages after the last assistant one and the reply', () => {
    const turns = extractTurns([second, first]);
    expect(turns.map((t) => t.callId)).toEqual(['c1', 'c2']);
    expect(turns[0]?.user).toEqual([{ role: 'user', content: [{ type: 'text', text: 'list files' }] }]);
    expect(turns[0]?.assistant?.content[0]).toMatchObject({ type: 'tool_use', name: 'bash' });
    expect(turns[1]?.user).toEqual([
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'a.txt' }] },
    ]);
    expect(turns[1]?.assistant).toEqual({
      role: 'assistant',
      content: [{ type: 'text', text: 'There is a.txt' }],
    });
  });

  it('reads OpenAI-format requests and falls back to the original request when none was forwarded', () => {
    const openai = call('c3', '2026-01-01T00:00:03.000Z', {
      clientFormat: 'openai',
      upstreamFormat: 'openai',
      originalRequest: {
        model: 'gpt',
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'hi' },
        ],
      },
      status: 'failed',
    });
    const [turn] = extractTurns([openai]);
    expect(turn?.user).toEqual([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
    expect(turn?.assistant).toBeNull();
  });

  it('exports JSONL (a session line, then one line per turn) and Markdown', () => {
    const turns = extractTurns([first, second]);
    const session = {
      id: 'sess/../x',
      firstAt: first.startedAt,
      lastAt: second.startedAt,
      callCount: 2,
      models: ['m'],
    };
    const jsonl = exportSession(session, turns, 'jsonl');
    const lines = jsonl.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; callId?: string });
    expect(lines.map((l) => l.type)).toEqual(['session', 'turn', 'turn']);
    expect(lines[2]?.callId).toBe('c2');
    expect(jsonl.fileName).toBe('session-sess_.._x.jsonl');
    expect(jsonl.contentType).toContain('ndjson');

    const md = exportSession(session, turns, 'markdown');
    expect(md.body).toContain('# Session sess/../x');
    expect(md.body).toContain('## Turn 2');
    expect(md.body).toContain('There is a.txt');
    expect(md.body).toContain('*Tool call* `bash`');
    expect(md.fileName).toBe('session-sess_.._x.md');
  });

  it('fences code longer than any backtick run inside it', () => {
    const withFence = call('c4', '2026-01-01T00:00:04.000Z', {
      finalRequest: { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] },
      finalResponse: reply([{ type: 'tool_use', id: 't', name: 'write', input: { text: '```js\nx\n```' } }]),
    });
    const md = exportSession(
      { id: 's', firstAt: '', lastAt: '', callCount: 1, models: [] },
      extractTurns([withFence]),
      'markdown',
    ).body;
    expect(md).toContain('````json');
  });
});
