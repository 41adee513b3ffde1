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

/** The ancestor stack of {@link redactEvent}'s walk, kept between events. */
const sharedAncestors: object[] = [];

/** Verdicts of {@link isSecretKey} by key: payloads repeat a few dozen keys (`role`, `content`, `type`, ...). */
const keyVerdicts = new Map<string, boolean>();
/** Most keys remembered; past it keys are checked each time (a hostile payload cannot grow the map). */
const MAX_REMEMBERED_KEYS = 4096;

function isSecretKeyCached(key: string): boolean {
  let verdict = keyVerdicts.get(key);
  if (verdict === undefined) {
    verdict = isSecretKey(key);
    if (keyVerdicts.size < MAX_REMEMBERED_KEYS) keyVerdicts.set(key, verdict);
  }
  return verdict;
}

/**
 * `event` made safe to show and store: every string in `data` (and `sessionId`) passes through `redactSecrets`,
 * the value of every key named like a credential becomes `[redacted]`, and the result is plain JSON (`toJSON`
 * applied, functions and `undefined` dropped, bigints as strings, cycles and absurd depth replaced). Copy on
 * write: a part of `data` that needs no change (a parsed payload without secrets, the usual case) is shared with
 * the original instead of copied, so redacting costs a walk and no allocation. Publishers never mutate an event
 * after `publish`, which is what makes sharing safe.
 */
export function redactEvent(event: WardenEvent): WardenEvent {
  // The walk's ancestor stack is reused (it is empty between walks); a nested walk (from a toJSON) gets its own.
  const ancestors = sharedAncestors.length === 0 ? sharedAncestors : [];
  let data: unknown;
  try {
    data = redactValue(event.data, 0, ancestors);
  } finally {
    ancestors.length = 0;
  }
  const safeData = isPlainObject(data) ? data : { value: data === undefined ? null : data };
  // Two literal shapes rather than a spread: adding a key to a spread copy is a slow path in V8.
  return event.sessionId === undefined
    ? {
        id: event.id,
        callId: event.callId,
        type: event.type,
        at: event.at,
        instance: event.instance,
        data: safeData,
      }
    : {
        id: event.id,
        callId: event.callId,
        sessionId: redactSecrets(event.sessionId),
        type: event.type,
        at: event.at,
        instance: event.instance,
        data: safeData,
      };
}

/**
 * The safe form of `value` (see {@link redactEvent}): `value` itself when nothing in it changes, else a copy;
 * `undefined` for what JSON drops. `ancestors` holds the objects being walked above `value` (cycle detection).
 */
function redactValue(value: unknown, depth: number, ancestors: object[]): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined;
  if (depth >= MAX_REDACT_DEPTH || ancestors.includes(value)) return UNREPRESENTABLE;
  const json = (value as { toJSON?: unknown }).toJSON;
  if (typeof json === 'function')
    return redactValue((json as () => unknown).call(value), depth + 1, ancestors);
  ancestors.push(value);
  const out = Array.isArray(value)
    ? redactArray(value as unknown[], depth, ancestors)
    : redactObject(value, depth, ancestors);
  ancestors.pop();
  return out;
}

function redactArray(value: unknown[], depth: number, ancestors: object[]): unknown[] {
  let copy: unknown[] | undefined;
  for (let i = 0; i < value.length; i++) {
    const item = value[i];
    const safe = redactValue(item, depth + 1, ancestors) ?? null;
    if (copy === undefined && safe !== item) copy = value.slice(0, i);
    copy?.push(safe);
  }
  return copy ?? value;
}

function redactObject(value: object, depth: number, ancestors: object[]): JsonObject {
  const source = value as Record<string, unknown>;
  const proto: unknown = Object.getPrototypeOf(value);
  const plain = proto === Object.prototype || proto === null;
  // A class instance is always copied: its plain-JSON form is its own enumerable keys, nothing else.
  let copy: JsonObject | undefined = plain ? undefined : {};
  // for-in with an own-key check walks the same keys as Object.keys, in the same order, without an array per object.
  for (const key in source) {
    if (!Object.hasOwn(source, key)) continue;
    const item = source[key];
    const safe =
      item !== null && item !== undefined && isSecretKeyCached(key)
        ? REDACTED
        : redactValue(item, depth + 1, ancestors);
    if (copy === undefined && safe !== item) copy = copyKeysBefore(source, key);
    if (copy !== undefined && safe !== undefined) setKey(copy, key, safe);
  }
  return copy ?? (value as JsonObject);
}

/** A new object with the own keys of `source` that come before `stop` (their values already known to be safe). */
function copyKeysBefore(source: Record<string, unknown>, stop: string): JsonObject {
  const copy: JsonObject = {};
  for (const key in source) {
    if (!Object.hasOwn(source, key)) continue;
    if (key === stop) break;
    setKey(copy, key, source[key]);
  }
  return copy;
}

/** `copy[key] = value`, also for a key named `__proto__` (an own data property, as JSON.parse makes it). */
function setKey(copy: JsonObject, key: string, value: JsonObject[string]): void {
  if (key === '__proto__') {
    Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  } else copy[key] = value;
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
