import type { AbortSource } from '@warden/upstream';

/**
 * The abort state of one call. The upstream exchange watches it through {@link onAbort} (a plain callback list);
 * the standard `AbortSignal` that policies and Node APIs take is only created when someone asks for {@link signal},
 * already aborted if the call is. Most calls never need one: they are served without an `AbortController`, an
 * `EventTarget` or an `Event`.
 */
export class CallAbort implements AbortSource {
  private isAborted = false;
  private abortReason: unknown = undefined;
  private listeners: Array<() => void> | undefined;
  private controller: AbortController | undefined;

  get aborted(): boolean {
    return this.isAborted;
  }

  get reason(): unknown {
    return this.abortReason;
  }

  /** A standard signal that fires with this call's abort (created on first use). */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.isAborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  onAbort(listener: () => void): () => void {
    (this.listeners ??= []).push(listener);
    return () => {
      const listeners = this.listeners;
      if (listeners === undefined) return;
      const at = listeners.indexOf(listener);
      if (at >= 0) listeners.splice(at, 1);
    };
  }

  /** Aborts the call with `reason` (the first abort wins); listeners run once, then the signal fires if it exists. */
  abort(reason: unknown): void {
    if (this.isAborted) return;
    this.isAborted = true;
    this.abortReason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners !== undefined) for (const listener of listeners) listener();
    this.controller?.abort(reason);
  }
}
