import type { JsonObject } from '@warden/llm';
import type { CanonicalMessage } from './canonical-message';
import { canonicalJson } from './json-diff';
import { alignSequences } from './sequence-alignment';

/** What became of a content block between the original and the final message. */
export type BlockChangeKind = 'kept' | 'replaced' | 'removed' | 'added';

/** A policy decision attached to a block it removed or replaced (e.g. a judge's explanation). */
export interface PolicyNote {
  /** The event type, e.g. `policy.tool-call-judge.blocked`. */
  event: string;
  explanation?: string;
  probability?: number | null;
}

/**
 * One row of a per-block view, in final order (removed blocks where they stood): `kept` has both sides equal,
 * `replaced` the original and what took its place, `removed` only `before`, `added` only `after`.
 */
export interface BlockChange {
  kind: BlockChangeKind;
  beforeIndex?: number;
  afterIndex?: number;
  before?: JsonObject;
  after?: JsonObject;
  policy?: PolicyNote;
}

/** What became of a message: `changed` messages carry their per-block view. */
export type MessageChangeKind = 'kept' | 'changed' | 'added' | 'removed';

/** One message of a per-message view. */
export interface MessageChange {
  kind: MessageChangeKind;
  role: string;
  beforeIndex?: number;
  afterIndex?: number;
  blocks: BlockChange[];
}

/**
 * Per-block view of two block lists. Equal blocks on a longest common subsequence are `kept`; unmatched blocks
 * between two kept ones are paired in order as `replaced`. A tool call a policy swapped for an explanation keeps
 * no position guarantee, so a leftover removed `tool_use` is then paired with a leftover added `text` block
 * (the block that took its place) wherever it stands.
 */
export function diffBlocks(before: readonly JsonObject[], after: readonly JsonObject[]): BlockChange[] {
  const steps = alignSequences(before.map(canonicalJson), after.map(canonicalJson));
  const rows: Array<BlockChange | undefined> = steps.map((step): BlockChange => {
    switch (step.kind) {
      case 'same':
        return { kind: 'kept', beforeIndex: step.before, afterIndex: step.after, after: after[step.after] };
      case 'paired':
        return {
          kind: 'replaced',
          beforeIndex: step.before,
          afterIndex: step.after,
          before: before[step.before],
          after: after[step.after],
        };
      case 'removed':
        return { kind: 'removed', beforeIndex: step.before, before: before[step.before] };
      case 'added':
        return { kind: 'added', afterIndex: step.after, after: after[step.after] };
    }
  });
  // A removed tool call and an added text block elsewhere: the text replaced the call.
  rows.forEach((row, r) => {
    if (row?.kind !== 'removed' || row.before?.type !== 'tool_use') return;
    const a = rows.findIndex((other) => other?.kind === 'added' && other.after?.type === 'text');
    const added = rows[a];
    if (added === undefined) return;
    rows[a] = { ...added, kind: 'replaced', beforeIndex: row.beforeIndex, before: row.before };
    rows[r] = undefined;
  });
  return rows.filter((row): row is BlockChange => row !== undefined);
}

/**
 * Per-message view of two conversations: messages aligned like blocks, paired unequal messages `changed` with
 * their per-block view. `kept` messages are listed only with `includeKept` (a long conversation is mostly kept).
 */
export function diffMessages(
  before: readonly CanonicalMessage[],
  after: readonly CanonicalMessage[],
  includeKept = false,
): { messages: MessageChange[]; kept: number } {
  const steps = alignSequences(before.map(canonicalJson), after.map(canonicalJson));
  const messages: MessageChange[] = [];
  let kept = 0;
  for (const step of steps) {
    if (step.kind === 'same') {
      kept++;
      const message = after[step.after];
      if (includeKept && message !== undefined) {
        messages.push({
          kind: 'kept',
          role: message.role,
          beforeIndex: step.before,
          afterIndex: step.after,
          blocks: diffBlocks(message.content, message.content),
        });
      }
    } else if (step.kind === 'paired') {
      const a = before[step.before];
      const b = after[step.after];
      if (a === undefined || b === undefined) continue;
      messages.push({
        kind: 'changed',
        role: b.role,
        beforeIndex: step.before,
        afterIndex: step.after,
        blocks: diffBlocks(a.content, b.content),
      });
    } else if (step.kind === 'removed') {
      const a = before[step.before];
      if (a === undefined) continue;
      messages.push({
        kind: 'removed',
        role: a.role,
        beforeIndex: step.before,
        blocks: diffBlocks(a.content, []),
      });
    } else {
      const b = after[step.after];
      if (b === undefined) continue;
      messages.push({
        kind: 'added',
        role: b.role,
        afterIndex: step.after,
        blocks: diffBlocks([], b.content),
      });
    }
  }
  return { messages, kept };
}
