/**
 * Tells an upstream exchange when its call is aborted. A call's abort is watched by exactly one exchange at a time,
 * so a plain callback list does the job of an `AbortSignal` without an `EventTarget`, an `Event` per abort and
 * listener bookkeeping on every call (together several microseconds of the gateway's hot path).
 */
export interface AbortSource {
  readonly aborted: boolean;
  /** Why it was aborted (undefined while it was not). */
  readonly reason: unknown;
  /**
   * Calls `listener` once, when the source aborts (not if it has already: check `aborted` first). Returns the
   * function that removes the listener.
   */
  onAbort(listener: () => void): () => void;
}

/** An {@link AbortSource} over a standard `AbortSignal` (for callers that have one). */
export function abortSourceOf(signal: AbortSignal): AbortSource {
  return {
    get aborted() {
      return signal.aborted;
    },
    get reason(): unknown {
      return signal.reason as unknown;
    },
    onAbort(listener) {
      signal.addEventListener('abort', listener, { once: true });
      return () => signal.removeEventListener('abort', listener);
    },
  };
}
