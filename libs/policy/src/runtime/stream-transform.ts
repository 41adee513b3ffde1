import type { AnthropicStreamEvent } from '@warden/llm';

/**
 * Transforms one call's canonical event stream. `push` may hold events back (return fewer) and release them later;
 * results are synchronous on the fast path and promised when a policy must wait (a judge). `end` flushes what is
 * still held when the upstream stream ends.
 */
export interface StreamTransform {
  push(event: AnthropicStreamEvent): AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]>;
  end(): AnthropicStreamEvent[] | Promise<AnthropicStreamEvent[]>;
}

/** The identity transform. */
export const PASS_THROUGH: StreamTransform = {
  push: (event) => [event],
  end: () => [],
};

/** True when `value` is a promise (hooks may answer either way). */
export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
