import type { SessionSummary } from '@warden/events';
import type { JsonObject } from '@warden/llm';
import type { CanonicalMessage } from './canonical-message';
import { blockText, type SessionTurn } from './session-turns';

/** Formats a session can be downloaded in. */
export const EXPORT_FORMATS = ['jsonl', 'markdown'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** A rendered export: body, content type and a safe file name. */
export interface SessionExport {
  body: string;
  contentType: string;
  fileName: string;
}

/**
 * Renders a session's turns: JSONL (a `session` line, then one `turn` line per call) or a Markdown transcript.
 * The file name keeps only `[A-Za-z0-9._-]` of the session id (it goes into a header).
 */
export function exportSession(
  session: SessionSummary,
  turns: readonly SessionTurn[],
  format: ExportFormat,
): SessionExport {
  const safeId = session.id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || 'session';
  if (format === 'jsonl') {
    const lines = [
      JSON.stringify({ type: 'session', ...session }),
      ...turns.map((turn) => JSON.stringify({ type: 'turn', ...turn })),
    ];
    return {
      body: `${lines.join('\n')}\n`,
      contentType: 'application/x-ndjson; charset=utf-8',
      fileName: `session-${safeId}.jsonl`,
    };
  }
  return {
    body: markdownTranscript(session, turns),
    contentType: 'text/markdown; charset=utf-8',
    fileName: `session-${safeId}.md`,
  };
}

function markdownTranscript(session: SessionSummary, turns: readonly SessionTurn[]): string {
  const out: string[] = [
    `# Session ${session.id}`,
    '',
    `- First call: ${session.firstAt}`,
    `- Last call: ${session.lastAt}`,
    `- Calls: ${session.callCount}`,
    `- Models: ${session.models.join(', ')}`,
    '',
  ];
  turns.forEach((turn, i) => {
    out.push(`## Turn ${i + 1} (${turn.at}, ${turn.model}, ${turn.status})`, '');
    out.push(`Call: \`${turn.callId}\``, '');
    if (turn.policyActions.length > 0) out.push(`Policy actions: ${turn.policyActions.join(', ')}`, '');
    for (const message of turn.user) out.push(...messageMarkdown(message));
    if (turn.assistant !== null) out.push(...messageMarkdown(turn.assistant));
  });
  return `${out.join('\n').trimEnd()}\n`;
}

function messageMarkdown(message: CanonicalMessage): string[] {
  const out = [`### ${message.role === 'assistant' ? 'Assistant' : 'User'}`, ''];
  for (const block of message.content) out.push(...blockMarkdown(block), '');
  return out;
}

function blockMarkdown(block: JsonObject): string[] {
  const text = blockText(block);
  switch (block.type) {
    case 'text':
      return [text];
    case 'thinking':
      return ['*Thinking:*', '', fenced(text, '')];
    case 'tool_use':
      return [`*Tool call* \`${String(block.name)}\`:`, '', fenced(text, 'json')];
    case 'tool_result':
      return [`*Tool result*${block.is_error === true ? ' (error)' : ''}:`, '', fenced(text, '')];
    default:
      return [`*(${String(block.type)} block)*`];
  }
}

/** A fenced code block whose fence is longer than any backtick run inside. */
function fenced(text: string, lang: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${text}\n${fence}`;
}
