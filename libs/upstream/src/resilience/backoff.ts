/**
 * Delay before retry number `retry` (1 for the first retry): exponential from `baseMs`, capped at `capMs`, with
 * "equal jitter" (a random point in the upper half), so concurrent retries spread out but never retry at once.
 * Always within `[floor(ceiling / 2), ceiling]` where `ceiling = min(capMs, baseMs * 2^(retry - 1))`.
 */
export function backoffDelay(
  retry: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, retry - 1));
  const half = ceiling / 2;
  return Math.min(ceiling, Math.round(half + random() * half));
}
