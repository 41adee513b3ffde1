import type { JsonObject } from '@warden/llm';
import { REDACTED, redactSecrets } from '@warden/observability';
import type { WardenEvent } from '../warden-event';

/** Keys whose values are credentials, compared lowercased without `-` and `_` (`x-api-key`, `apiKey`, ...). */
const SECRET_KEYS = new Set([
  'authorization',
  'proxyauthorization',
  'apikey',
  'xapikey',
  'password',
  'passwd',
  'secret',
  'clientsecret',
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'authtoken',
  'apitoken',
  'sessiontoken',
  'bearertoken',
  'cookie',
  'setcookie',
]);
/** Suffixes of secret key names (`x-anthropic-api-key`, `db_password`, `webhookSecret`). */
const SECRET_SUFFIXES = ['apikey', 'password', 'secret'];
/** Deeper values are replaced (guards the stack against hostile nesting; real payloads are far shallower). */
export const MAX_REDACT_DEPTH = 200;
/** What replaces a value nested deeper than {@link MAX_REDACT_DEPTH}, or a reference cycle. */
export const UNREPRESENTABLE = '[unrepresentable]';

/** Whether a key names a credential. */
export function isSecretKey(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[-_]/g, '');
  return SECRET_KEYS.has(normalized) || SECRET_SUFFIXES.some((suffix) => normalized.endsWith(suffix));
}

/**
 * A copy of `event` safe to show and store: every string in `data` (and `sessionId`) passes through
 * `redactSecrets`, the value of every key named like a credential becomes `[redacted]`, and the copy is plain JSON
 * (`toJSON` applied, functions and `undefined` dropped, bigints as strings, cycles and absurd depth replaced).
 */
export function redactEvent(event: WardenEvent): WardenEvent {
  const data = redactValue(event.data, 0, new WeakSet());
  const copy: WardenEvent = {
    id: event.id,
    callId: event.callId,
    type: event.type,
    at: event.at,
    instance: event.instance,
    data: isPlainObject(data) ? data : { value: data },
  };
  return event.sessionId === undefined ? copy : { ...copy, sessionId: redactSecrets(event.sessionId) };
}

function redactValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined;
  if (depth >= MAX_REDACT_DEPTH || seen.has(value)) return UNREPRESENTABLE;
  const json = (value as { toJSON?: unknown }).toJSON;
  if (typeof json === 'function') return redactValue((json as () => unknown).call(value), depth + 1, seen);
  seen.add(value);
  let out: unknown;
  if (Array.isArray(value)) {
    out = value.map((item) => redactValue(item, depth + 1, seen) ?? null);
  } else {
    const copy: JsonObject = {};
    for (const [key, item] of Object.entries(value)) {
      if (isSecretKey(key) && item !== null && item !== undefined) {
        copy[key] = REDACTED;
        continue;
      }
      const redacted = redactValue(item, depth + 1, seen);
      if (redacted !== undefined) copy[key] = redacted;
    }
    out = copy;
  }
  seen.delete(value);
  return out;
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
