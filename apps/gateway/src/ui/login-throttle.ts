/** Failed logins allowed per client address within a window. */
const MAX_FAILURES = 10;
const WINDOW_MS = 15 * 60 * 1000;
/** Addresses tracked at most (the oldest are forgotten first). */
const MAX_TRACKED = 10_000;

/**
 * Slows down guessing of the admin key through the login form: after {@link MAX_FAILURES} failures from one
 * address in a window, logins from it are refused until the window ends. Bounded memory; per replica.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly maxFailures = MAX_FAILURES,
    private readonly windowMs = WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until `address` may try again; 0 when it may try now. */
  retryAfterMs(address: string): number {
    const entry = this.failures.get(address);
    if (entry === undefined) return 0;
    const left = entry.resetAt - this.now();
    if (left <= 0) {
      this.failures.delete(address);
      return 0;
    }
    return entry.count >= this.maxFailures ? left : 0;
  }

  failed(address: string): void {
    const now = this.now();
    const entry = this.failures.get(address);
    if (entry === undefined || entry.resetAt <= now) {
      this.failures.delete(address);
      if (this.failures.size >= MAX_TRACKED) {
        const oldest = this.failures.keys().next().value;
        if (oldest !== undefined) this.failures.delete(oldest);
      }
      this.failures.set(address, { count: 1, resetAt: now + this.windowMs });
    } else {
      entry.count++;
    }
  }

  succeeded(address: string): void {
    this.failures.delete(address);
  }
}
