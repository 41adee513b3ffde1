import type { CallRecord, WardenEvent } from '@warden/events';
import { isJsonObject } from '@warden/llm';
import {
  diffBlocks,
  diffMessages,
  type BlockChange,
  type MessageChange,
  type PolicyNote,
} from './block-diff';
import { canonicalRequest, canonicalResponse, responseBlocks } from './canonical-message';
import { jsonDiff, type JsonChange } from './json-diff';

/** The structured diff of one side (request or response) of a call. */
export interface PayloadDiff {
  /** `as-sent`: both bodies compared as recorded; `anthropic`: both compared in their canonical Anthropic form. */
  comparedAs: 'as-sent' | 'anthropic';
  changed: boolean;
  changes: JsonChange[];
  truncated: boolean;
}

/** Request side: the JSON diff, the system prompt's blocks, and the messages that changed. */
export interface RequestDiff extends PayloadDiff {
  system: BlockChange[];
  messages: MessageChange[];
  /** Messages identical on both sides (not listed). */
  keptMessages: number;
}

/** Response side: the JSON diff and the per-block view of the assistant message. */
export interface ResponseDiff extends PayloadDiff {
  blocks: BlockChange[];
}

/** Original vs final, for the request the client sent and the response the upstream gave. */
export interface CallDiff {
  request: RequestDiff;
  response: ResponseDiff;
}

/**
 * Diffs a recorded call: the request as received vs as forwarded (compared in the Anthropic form when the two
 * formats differ), and the upstream's message vs the client's. Blocks a policy removed or replaced are annotated
 * with the policy event that names their tool call (`toolCallId`, else the tool name when unambiguous).
 */
export function diffCall(call: CallRecord, events: readonly WardenEvent[]): CallDiff {
  return { request: diffRequests(call), response: diffResponses(call, events) };
}

function diffRequests(call: CallRecord): RequestDiff {
  const originalFormat = call.clientFormat;
  const finalFormat = call.upstreamFormat ?? call.clientFormat;
  // A call a request policy answered was never forwarded: nothing changed on the way out.
  const finalBody = call.finalRequest ?? call.originalRequest;
  const maxTokens = numberField(call.originalRequest, 'max_tokens') ?? numberField(finalBody, 'max_tokens');
  const original = canonicalRequest(call.originalRequest, originalFormat, maxTokens);
  const final = canonicalRequest(finalBody, finalFormat, maxTokens);
  const sameFormat = originalFormat === finalFormat;
  const comparedAs = sameFormat || original === undefined || final === undefined ? 'as-sent' : 'anthropic';
  const json =
    comparedAs === 'anthropic' && original !== undefined && final !== undefined
      ? jsonDiff(original.body, final.body)
      : jsonDiff(call.originalRequest ?? null, finalBody ?? null);
  const messages = diffMessages(original?.messages ?? [], final?.messages ?? []);
  const system = diffBlocks(original?.system ?? [], final?.system ?? []);
  return {
    comparedAs,
    changed: json.changes.length > 0,
    changes: json.changes,
    truncated: json.truncated,
    system: system.some((b) => b.kind !== 'kept') ? system : [],
    messages: messages.messages,
    keptMessages: messages.kept,
  };
}

function diffResponses(call: CallRecord, events: readonly WardenEvent[]): ResponseDiff {
  const original = canonicalResponse(call.originalResponse);
  const final = canonicalResponse(call.finalResponse);
  const json = jsonDiff(original ?? null, final ?? null);
  const blocks = annotate(diffBlocks(responseBlocks(original), responseBlocks(final)), events);
  return {
    comparedAs: 'anthropic',
    changed: json.changes.length > 0,
    changes: json.changes,
    truncated: json.truncated,
    blocks,
  };
}

/** Attaches the `policy.*.blocked` decision to each tool call a policy removed or replaced. */
function annotate(blocks: BlockChange[], events: readonly WardenEvent[]): BlockChange[] {
  const decisions = events.filter((e) => e.type.startsWith('policy.') && e.type.endsWith('.blocked'));
  if (decisions.length === 0) return blocks;
  return blocks.map((block) => {
    if ((block.kind !== 'removed' && block.kind !== 'replaced') || block.before?.type !== 'tool_use') {
      return block;
    }
    const id = block.before.id;
    const name = block.before.name;
    const byId = decisions.find((e) => e.data.toolCallId === id);
    const byName = decisions.filter((e) => e.data.toolCallId === undefined && e.data.tool === name);
    const decision = byId ?? (byName.length === 1 ? byName[0] : undefined);
    return decision === undefined ? block : { ...block, policy: noteOf(decision) };
  });
}

function noteOf(event: WardenEvent): PolicyNote {
  const { explanation, probability } = event.data;
  return {
    event: event.type,
    ...(typeof explanation === 'string' ? { explanation } : {}),
    ...(typeof probability === 'number' || probability === null ? { probability } : {}),
  };
}

function numberField(body: unknown, field: string): number | undefined {
  const value = isJsonObject(body) ? body[field] : undefined;
  return typeof value === 'number' ? value : undefined;
}
