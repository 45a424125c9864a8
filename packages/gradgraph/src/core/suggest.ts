/**
 * "Did you mean ...?" suggestions by Damerau–Levenshtein distance (optimal string alignment: insertions,
 * deletions, substitutions and swaps of two adjacent characters each cost 1).
 */

/** Edit distance between `a` and `b`, counting an adjacent transposition as one edit. */
export function editDistance(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  if (n === 0) return m;
  if (m === 0) return n;
  // d[i][j]: distance between a[0, i) and b[0, j); three rows suffice for the transposition case.
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m]!;
}

/**
 * The candidates closest to `name`: within distance 2 (1 for names of up to 3 characters), and nearer than
 * rewriting the whole name; a difference only in letter case always counts. Ties are all returned, in the
 * order the candidates were given (at most 3).
 */
export function suggestions(name: string, candidates: Iterable<string>): string[] {
  const limit = name.length <= 3 ? 1 : 2;
  let best = Infinity;
  let out: string[] = [];
  for (const c of new Set(candidates)) {
    if (c === name) continue;
    const caseOnly = c.toLowerCase() === name.toLowerCase();
    const d = caseOnly ? 0.5 : editDistance(name, c);
    if (!caseOnly && (d > limit || d >= Math.max(name.length, c.length))) continue;
    if (d < best) {
      best = d;
      out = [c];
    } else if (d === best) {
      out.push(c);
    }
  }
  return out.slice(0, 3);
}

/** ` (did you mean b1?)`, ` (did you mean w1 or w2?)`, or `""`. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const s = suggestions(name, candidates);
  if (s.length === 0) return "";
  const list = s.length === 1 ? s[0]! : `${s.slice(0, -1).join(", ")} or ${s[s.length - 1]!}`;
  return ` (did you mean ${list}?)`;
}
