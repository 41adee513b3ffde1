import type { CallRecord, CallStatus } from '@warden/events';
import type { JsonObject } from '@warden/llm';
import {
  canonicalRequest,
  canonicalResponse,
  responseBlocks,
  type CanonicalMessage,
} from './canonical-message';

/** One exchange of a session: what the user (or the tools) added, and what the assistant answered. */
export interface SessionTurn {
  callId: string;
  at: string;
  model: string;
  status: CallStatus;
  policyActions: string[];
  /** The messages after the last assistant message of the request: the user's new turn (tool results included). */
  user: CanonicalMessage[];
  /** The reply the client got (the final response); null when the call has none. */
  assistant: CanonicalMessage | null;
}

/**
 * The conversation of a session as turns, oldest first, from each call's final request and final response
 * (what was actually exchanged). A request with no assistant message yet contributes all its messages.
 */
export function extractTurns(calls: readonly CallRecord[]): SessionTurn[] {
  return [...calls]
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id))
    .map((call) => {
      const requestBody = call.finalRequest ?? call.originalRequest;
      const request = canonicalRequest(requestBody, requestFormat(call));
      const messages = request?.messages ?? [];
      const lastAssistant = messages.map((m) => m.role).lastIndexOf('assistant');
      const reply = canonicalResponse(call.finalResponse);
      return {
        callId: call.id,
        at: call.startedAt,
        model: call.model,
        status: call.status,
        policyActions: call.policyActions,
        user: messages.slice(lastAssistant + 1),
        assistant: reply === undefined ? null : { role: 'assistant', content: responseBlocks(reply) },
      };
    });
}

function requestFormat(call: CallRecord): string {
  return call.finalRequest === null || call.finalRequest === undefined
    ? call.clientFormat
    : (call.upstreamFormat ?? call.clientFormat);
}

/** The plain text of a block for a transcript (tool calls and results summarised). */
export function blockText(block: JsonObject): string {
  switch (block.type) {
    case 'text':
      return typeof block.text === 'string' ? block.text : '';
    case 'thinking':
      return typeof block.thinking === 'string' ? block.thinking : '';
    case 'tool_use':
      return JSON.stringify(block.input ?? {}, null, 2);
    case 'tool_result':
      return typeof block.content === 'string'
        ? block.content
        : Array.isArray(block.content)
          ? block.content
              .map((part: unknown) =>
                typeof part === 'object' && part !== null ? blockText(part as JsonObject) : '',
              )
              .join('\n')
          : '';
    default:
      return '';
  }
}
