import type { JsonObject } from '@warden/llm';
import type { WardenEvent } from '../warden-event';

/** Default bound of one event on the live bus (its JSON, in bytes). */
export const DEFAULT_MAX_BUS_EVENT_BYTES = 64 * 1024;
/** Most characters a long string keeps in a truncated event (less when the bound is small). */
export const TRUNCATED_STRING_CHARS = 1024;
/** Key added to the `data` of a truncated event: `{ originalBytes }`; the full event is in the history. */
export const TRUNCATED_KEY = '_truncated';
/** Most top-level keys listed when a truncated event's `data` is replaced by its key names. */
export const MAX_KEYS_LISTED = 50;

/**
 * The event as the live bus carries it: unchanged when its JSON fits in `maxBytes`; otherwise every long string
 * in `data` keeps its first characters followed by `… [truncated: <n> chars]`, and `data._truncated` says so.
 * If that is still too big (many small values), `data` becomes `{ _truncated, keys }` (its first top-level keys).
 */
export function truncateForBus(event: WardenEvent, maxBytes: number): WardenEvent {
  const originalBytes = Buffer.byteLength(JSON.stringify(event));
  if (originalBytes <= maxBytes) return event;
  const marker = { originalBytes };
  const keep = Math.max(16, Math.min(TRUNCATED_STRING_CHARS, Math.floor(maxBytes / 16)));
  // A shortened copy whose strings and keys alone pass the bound cannot fit: it is neither built nor serialized (an
  // agent's conversation of many short messages, hundreds of kilobytes, would be twice).
  if (shortenedSizeAtLeast(event.data, keep, maxBytes) <= maxBytes) {
    const shortened: WardenEvent = {
      ...event,
      data: { ...(shortenStrings(event.data, keep) as JsonObject), [TRUNCATED_KEY]: marker },
    };
    if (Buffer.byteLength(JSON.stringify(shortened)) <= maxBytes) return shortened;
  }
  return {
    ...event,
    data: { [TRUNCATED_KEY]: marker, keys: Object.keys(event.data).slice(0, MAX_KEYS_LISTED) },
  };
}

function shortenStrings(value: unknown, keep: number): unknown {
  if (typeof value === 'string') {
    return value.length > keep ? `${value.slice(0, keep)}${truncationNote(value.length)}` : value;
  }
  if (Array.isArray(value)) return value.map((item) => shortenStrings(item, keep));
  if (typeof value === 'object' && value !== null) {
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value)) out[key] = shortenStrings(item, keep);
    return out;
  }
  return value;
}

function truncationNote(chars: number): string {
  return `… [truncated: ${chars} chars]`;
}

/**
 * A lower bound of the bytes of `shortenStrings(value, keep)` as JSON, counted until it passes `limit`: its strings
 * with their quotes and the keys of its strings and objects with theirs (a UTF-8 byte per UTF-16 unit at least; the
 * rest of the JSON only adds).
 */
function shortenedSizeAtLeast(value: unknown, keep: number, limit: number): number {
  let total = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0 && total <= limit) {
    const item = pending.pop();
    if (typeof item === 'string') {
      total += (item.length > keep ? keep + truncationNote(item.length).length : item.length) + 2;
    } else if (Array.isArray(item)) {
      for (const element of item) pending.push(element);
    } else if (typeof item === 'object' && item !== null) {
      for (const [key, member] of Object.entries(item)) {
        if (typeof member === 'string' || (typeof member === 'object' && member !== null))
          total += key.length + 3;
        pending.push(member);
      }
    }
  }
  return total;
}
