/** What happened at one path between two JSON values. */
export type JsonChangeKind = 'added' | 'removed' | 'changed';

/** One difference: `before` for removed and changed, `after` for added and changed. */
export interface JsonChange {
  /** `messages[2].content[0].text`; keys that are not identifiers are quoted (`headers["x-id"]`); '' is the root. */
  path: string;
  kind: JsonChangeKind;
  before?: unknown;
  after?: unknown;
}

/** The changes, in document order, and whether the list stops at the cap. */
export interface JsonDiff {
  changes: JsonChange[];
  truncated: boolean;
}

/** Most changes listed by default (a rewritten 10 MB request must not produce a 10 MB diff of tiny entries). */
export const DEFAULT_MAX_CHANGES = 500;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Structural diff of two JSON values. Objects are compared key by key (a key set to `undefined` counts as absent),
 * arrays index by index (extra items are added or removed at their index), anything else by value; a value whose
 * type changed is one `changed` entry, not a list of its parts. Stops after `maxChanges` entries.
 */
export function jsonDiff(before: unknown, after: unknown, maxChanges = DEFAULT_MAX_CHANGES): JsonDiff {
  const changes: JsonChange[] = [];
  let truncated = false;

  const push = (change: JsonChange): boolean => {
    if (changes.length >= maxChanges) {
      truncated = true;
      return false;
    }
    changes.push(change);
    return true;
  };

  const walk = (a: unknown, b: unknown, path: string): boolean => {
    if (isPlainObject(a) && isPlainObject(b)) {
      for (const key of Object.keys(a)) {
        const inB = b[key] !== undefined;
        if (a[key] === undefined) continue;
        const next = childPath(path, key);
        if (!inB) {
          if (!push({ path: next, kind: 'removed', before: a[key] })) return false;
        } else if (!walk(a[key], b[key], next)) return false;
      }
      for (const key of Object.keys(b)) {
        if (b[key] === undefined || a[key] !== undefined) continue;
        if (!push({ path: childPath(path, key), kind: 'added', after: b[key] })) return false;
      }
      return true;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      const shared = Math.min(a.length, b.length);
      for (let i = 0; i < shared; i++) if (!walk(a[i], b[i], `${path}[${i}]`)) return false;
      for (let i = shared; i < a.length; i++) {
        if (!push({ path: `${path}[${i}]`, kind: 'removed', before: a[i] })) return false;
      }
      for (let i = shared; i < b.length; i++) {
        if (!push({ path: `${path}[${i}]`, kind: 'added', after: b[i] })) return false;
      }
      return true;
    }
    if (jsonEqual(a, b)) return true;
    return push({ path, kind: 'changed', before: a, after: b });
  };

  walk(before, after, '');
  return { changes, truncated };
}

/** Deep equality of JSON values (object key order does not matter; `undefined` fields count as absent). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keysA = Object.keys(a).filter((k) => a[k] !== undefined);
    const keysB = Object.keys(b).filter((k) => b[k] !== undefined);
    return keysA.length === keysB.length && keysA.every((k) => jsonEqual(a[k], b[k]));
  }
  return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
}

/** A stable text key of a JSON value (sorted object keys), for sequence alignment. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function childPath(parent: string, key: string): string {
  if (IDENTIFIER.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
