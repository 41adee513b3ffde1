/** One step of an alignment of two sequences, in order. */
export type AlignStep =
  | { kind: 'same'; before: number; after: number }
  | { kind: 'paired'; before: number; after: number }
  | { kind: 'removed'; before: number }
  | { kind: 'added'; after: number };

/** Largest LCS table computed (cells); beyond it the unmatched middles are paired in order. */
const MAX_LCS_CELLS = 250_000;

/**
 * Aligns two sequences given a key per item: equal keys on a longest common subsequence are `same`; between two
 * matches, the unmatched items of each side are `paired` in order and the rest are `removed` or `added`.
 * Common prefix and suffix are matched first, so the usual case (a few changes) is linear.
 */
export function alignSequences(before: readonly string[], after: readonly string[]): AlignStep[] {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let endB = before.length;
  let endA = after.length;
  while (endB > start && endA > start && before[endB - 1] === after[endA - 1]) {
    endB--;
    endA--;
  }
  const matches = lcsMatches(before, after, start, endB, start, endA);
  const steps: AlignStep[] = [];
  for (let i = 0; i < start; i++) steps.push({ kind: 'same', before: i, after: i });
  let i = start;
  let j = start;
  for (const [mi, mj] of [...matches, [endB, endA] as const]) {
    const removed = mi - i;
    const added = mj - j;
    const pairs = Math.min(removed, added);
    for (let k = 0; k < pairs; k++) steps.push({ kind: 'paired', before: i + k, after: j + k });
    for (let k = pairs; k < removed; k++) steps.push({ kind: 'removed', before: i + k });
    for (let k = pairs; k < added; k++) steps.push({ kind: 'added', after: j + k });
    if (mi < endB) steps.push({ kind: 'same', before: mi, after: mj });
    i = mi + 1;
    j = mj + 1;
  }
  for (let k = 0; k < before.length - endB; k++) {
    steps.push({ kind: 'same', before: endB + k, after: endA + k });
  }
  return steps;
}

/** Index pairs of a longest common subsequence of `a[a0..a1)` and `b[b0..b1)` (none when too large to compute). */
function lcsMatches(
  a: readonly string[],
  b: readonly string[],
  a0: number,
  a1: number,
  b0: number,
  b1: number,
): Array<readonly [number, number]> {
  const n = a1 - a0;
  const m = b1 - b0;
  if (n === 0 || m === 0 || n * m > MAX_LCS_CELLS) return [];
  // lengths[(x) * (m + 1) + y] = LCS length of a[a0+x..a1) and b[b0+y..b1)
  const width = m + 1;
  const lengths = new Uint32Array((n + 1) * width);
  for (let x = n - 1; x >= 0; x--) {
    for (let y = m - 1; y >= 0; y--) {
      lengths[x * width + y] =
        a[a0 + x] === b[b0 + y]
          ? (lengths[(x + 1) * width + y + 1] ?? 0) + 1
          : Math.max(lengths[(x + 1) * width + y] ?? 0, lengths[x * width + y + 1] ?? 0);
    }
  }
  const matches: Array<readonly [number, number]> = [];
  let x = 0;
  let y = 0;
  while (x < n && y < m) {
    if (a[a0 + x] === b[b0 + y]) {
      matches.push([a0 + x, b0 + y]);
      x++;
      y++;
    } else if ((lengths[(x + 1) * width + y] ?? 0) >= (lengths[x * width + y + 1] ?? 0)) x++;
    else y++;
  }
  return matches;
}
