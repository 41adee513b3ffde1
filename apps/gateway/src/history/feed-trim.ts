/** Bounds of an event as the live feed shows it (the UI fetches the full call on demand). */
export interface TrimLimits {
  /** Longest string kept (longer ones are cut, with a marker). */
  maxString: number;
  /** Most items kept of an array (the last ones: the newest messages of a conversation). */
  maxArray: number;
  /** Deepest nesting kept. */
  maxDepth: number;
}

/** Default limits of the live feed. */
export const FEED_TRIM_LIMITS: TrimLimits = { maxString: 2000, maxArray: 20, maxDepth: 12 };

/**
 * A copy of a JSON value within `limits`; returns whether anything was cut. Long strings end in
 * `… [N more characters]`, long arrays start with `… [N earlier items]`, too-deep values become `… [nested]`.
 */
export function trimJson(
  value: unknown,
  limits: TrimLimits = FEED_TRIM_LIMITS,
): { value: unknown; trimmed: boolean } {
  let trimmed = false;
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') {
      if (v.length <= limits.maxString) return v;
      trimmed = true;
      return `${v.slice(0, limits.maxString)}… [${v.length - limits.maxString} more characters]`;
    }
    if (typeof v !== 'object' || v === null) return v;
    if (depth >= limits.maxDepth) {
      trimmed = true;
      return '… [nested]';
    }
    if (Array.isArray(v)) {
      const kept = v.slice(-limits.maxArray).map((item) => walk(item, depth + 1));
      if (v.length <= limits.maxArray) return kept;
      trimmed = true;
      return [`… [${v.length - limits.maxArray} earlier items]`, ...kept];
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(v)) out[key] = walk(item, depth + 1);
    return out;
  };
  const result = walk(value, 0);
  return { value: result, trimmed };
}
