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
  const shortened: WardenEvent = {
    ...event,
    data: { ...(shortenStrings(event.data, keep) as JsonObject), [TRUNCATED_KEY]: marker },
  };
  if (Buffer.byteLength(JSON.stringify(shortened)) <= maxBytes) return shortened;
  return {
    ...event,
    data: { [TRUNCATED_KEY]: marker, keys: Object.keys(event.data).slice(0, MAX_KEYS_LISTED) },
  };
}

function shortenStrings(value: unknown, keep: number): unknown {
  if (typeof value === 'string') {
    return value.length > keep ? `${value.slice(0, keep)}… [truncated: ${value.length} chars]` : value;
  }
  if (Array.isArray(value)) return value.map((item) => shortenStrings(item, keep));
  if (typeof value === 'object' && value !== null) {
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value)) out[key] = shortenStrings(item, keep);
    return out;
  }
  return value;
}
