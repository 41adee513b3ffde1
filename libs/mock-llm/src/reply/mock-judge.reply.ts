import type { MockScript } from '../script/mock-script.types';

/** Model name that turns the mock into a deterministic judge (both APIs). */
export const MOCK_JUDGE_MODEL = 'mock-judge';
/** Probability answered when a dangerous pattern is found. */
export const MOCK_JUDGE_DANGER_PROBABILITY = 0.95;
/** Probability answered when none is found. */
export const MOCK_JUDGE_SAFE_PROBABILITY = 0.05;

/** A dangerous operation the mock judge recognises, with the label quoted in its explanation. */
interface DangerPattern {
  readonly label: string;
  readonly pattern: RegExp;
}

/**
 * What the mock judge considers dangerous, checked in order (the first match is reported). Kept small and
 * explicit: it is a test oracle, not a security product.
 */
export const MOCK_JUDGE_PATTERNS: readonly DangerPattern[] = Object.freeze([
  { label: 'rm -rf', pattern: /\brm\s+-[a-z]*(?:rf|fr)/i },
  { label: 'DROP TABLE', pattern: /\bdrop\s+(?:table|database|schema)\b/i },
  { label: 'curl | sh', pattern: /\b(?:curl|wget)\b[^\n|]*\|\s*(?:sudo\s+)?(?:ba|z)?sh\b/i },
  { label: 'mkfs', pattern: /\bmkfs\b/ },
  { label: 'chmod -R 777 /', pattern: /\bchmod\s+-R\s+777\s+\// },
  { label: ':(){', pattern: /:\(\)\s*\{/ },
  { label: 'dd of=/dev/', pattern: /\bdd\b[^\n]*\bof=\/dev\// },
  { label: 'git push --force', pattern: /\bgit\s+push\b[^\n]*\s(?:--force\b|-f\b)/ },
  { label: '~/.ssh/id_', pattern: /\.ssh\/id_/ },
]);

/** Marker of a tool-call-judge style prompt (the reply must carry a probability). */
const PROBABILITY_MARKER = '"probability"';
/** Marker of an llm-rules style prompt (the reply must carry an action). */
const ACTION_MARKER = '"action"';

/**
 * The script of a `mock-judge` request: the request's own script when it sets the reply (`text`, `words` or
 * `tools`), else that script (delays, error statuses and faults still apply) with the judge's verdict as `text`.
 */
export function mockJudgeScript(script: MockScript, body: Record<string, unknown>): MockScript {
  if (script.text !== undefined || script.words !== undefined || script.tools !== undefined) return script;
  return { ...script, text: mockJudgeReplyText(body) };
}

/**
 * The verdict of the mock judge, as JSON text. The prompt style is read from all the request's text (system
 * included): `"probability"` asks for `{"probability","explanation"}`, else `"action"` asks for
 * `{"action","explanation"}`, else the probability shape. Dangerous patterns are looked for in the messages only,
 * not in the system prompt (a judge's instructions list dangerous examples themselves).
 */
export function mockJudgeReplyText(body: Record<string, unknown>): string {
  const { system, messages } = requestTexts(body);
  const all = `${system}\n${messages}`;
  const match = MOCK_JUDGE_PATTERNS.find((p) => p.pattern.test(messages));
  const actionStyle = !all.includes(PROBABILITY_MARKER) && all.includes(ACTION_MARKER);
  if (actionStyle) {
    return JSON.stringify(
      match === undefined
        ? { action: 'pass', explanation: 'mock judge: no rule violation found' }
        : { action: 'block', explanation: `mock judge: matched dangerous pattern ${match.label}` },
    );
  }
  return JSON.stringify(
    match === undefined
      ? { probability: MOCK_JUDGE_SAFE_PROBABILITY, explanation: 'no dangerous operation found' }
      : {
          probability: MOCK_JUDGE_DANGER_PROBABILITY,
          explanation: `mock judge: matched dangerous pattern ${match.label}`,
        },
  );
}

/** The system text (Anthropic `system`, OpenAI `system` / `developer` messages) and the other messages' text. */
function requestTexts(body: Record<string, unknown>): { system: string; messages: string } {
  const system: string[] = [];
  const messages: string[] = [];
  collectText(body.system, system);
  if (Array.isArray(body.messages)) {
    for (const message of body.messages as unknown[]) {
      if (!isRecord(message)) continue;
      const role = message.role;
      collectText(message.content, role === 'system' || role === 'developer' ? system : messages);
    }
  }
  return { system: system.join('\n'), messages: messages.join('\n') };
}

/** Appends the text of a content value: a string, or text parts / blocks (tool results included). */
function collectText(content: unknown, into: string[]): void {
  if (typeof content === 'string') {
    into.push(content);
    return;
  }
  if (!Array.isArray(content)) return;
  for (const part of content as unknown[]) {
    if (!isRecord(part)) continue;
    if (typeof part.text === 'string') into.push(part.text);
    else if (part.type === 'tool_result') collectText(part.content, into);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
