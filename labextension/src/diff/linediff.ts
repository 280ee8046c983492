/**
 * Line diffs cut into hunks that can be accepted or rejected one by one.
 *
 * The common start and end are skipped, the rest is a longest common
 * subsequence of lines (an answer's change touches a few dozen lines, so the
 * table stays small); a middle too large for it is one replacement.
 */

/** One line of a hunk: kept (` `), removed (`-`) or added (`+`). */
export interface IDiffLine {
  kind: ' ' | '-' | '+';
  text: string;
}

/** A run of changes with the unchanged lines around it. */
export interface IHunk {
  /** 0-based first line in the old text and how many old lines it spans. */
  oldStart: number;
  oldLines: number;
  /** 0-based first line in the new text and how many new lines it spans. */
  newStart: number;
  newLines: number;
  lines: IDiffLine[];
}

/** Unchanged lines shown around a change; changes closer than twice this share a hunk. */
export const CONTEXT_LINES = 3;

/** Above this many cells of the subsequence table, the middle is one replacement. */
const MAX_TABLE = 4_000_000;

/** The lines of a text, without the final newline's empty line. */
export function splitLines(text: string): string[] {
  if (text === '') {
    return [];
  }
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') {
    lines.pop();
  }
  return lines;
}

/** Every line of `a` and `b` in order, marked kept, removed or added. */
export function diffLines(a: string[], b: string[]): IDiffLine[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) {
    start++;
  }
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const head = a.slice(0, start).map(text => ({ kind: ' ' as const, text }));
  const tail = a.slice(endA).map(text => ({ kind: ' ' as const, text }));
  return [
    ...head,
    ...middle(a.slice(start, endA), b.slice(start, endB)),
    ...tail
  ];
}

function middle(a: string[], b: string[]): IDiffLine[] {
  const n = a.length;
  const m = b.length;
  if (n * m > MAX_TABLE) {
    return [
      ...a.map(text => ({ kind: '-' as const, text })),
      ...b.map(text => ({ kind: '+' as const, text }))
    ];
  }
  // lcs[i][j]: the longest common subsequence of a[i:] and b[j:]
  const lcs: Uint32Array[] = [];
  for (let i = 0; i <= n; i++) {
    lcs.push(new Uint32Array(m + 1));
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] =
        a[i] === b[j]
          ? lcs[i + 1][j + 1] + 1
          : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out: IDiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ kind: ' ', text: a[i] });
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      out.push({ kind: '-', text: a[i++] });
    } else {
      out.push({ kind: '+', text: b[j++] });
    }
  }
  while (i < n) {
    out.push({ kind: '-', text: a[i++] });
  }
  while (j < m) {
    out.push({ kind: '+', text: b[j++] });
  }
  return out;
}

/** The changes from `a` to `b` as hunks with `context` unchanged lines around. */
export function hunks(
  a: string[],
  b: string[],
  context = CONTEXT_LINES
): IHunk[] {
  const lines = diffLines(a, b);
  const out: IHunk[] = [];
  // where each line is in the old and the new text
  const oldAt: number[] = [];
  const newAt: number[] = [];
  let o = 0;
  let nw = 0;
  for (const line of lines) {
    oldAt.push(o);
    newAt.push(nw);
    if (line.kind !== '+') {
      o++;
    }
    if (line.kind !== '-') {
      nw++;
    }
  }
  let k = 0;
  while (k < lines.length) {
    if (lines[k].kind === ' ') {
      k++;
      continue;
    }
    // a change: take context before it, then changes until 2*context kept lines in a row
    const first = Math.max(0, k - context);
    let last = k;
    let kept = 0;
    let x = k;
    while (x < lines.length) {
      if (lines[x].kind === ' ') {
        kept++;
        if (kept > 2 * context) {
          break;
        }
      } else {
        kept = 0;
        last = x;
      }
      x++;
    }
    const end = Math.min(lines.length, last + 1 + context);
    const part = lines.slice(first, end);
    out.push({
      oldStart: oldAt[first],
      oldLines: part.filter(line => line.kind !== '+').length,
      newStart: newAt[first],
      newLines: part.filter(line => line.kind !== '-').length,
      lines: part
    });
    k = end;
  }
  return out;
}

/**
 * `a` with the accepted hunks applied and the others left as they were.
 * The hunks must be `hunks(a, ...)`'s, in their order.
 */
export function applyHunks(
  a: string[],
  parts: ReadonlyArray<IHunk>,
  accepted: ReadonlyArray<boolean>
): string[] {
  const out: string[] = [];
  let at = 0;
  parts.forEach((hunk, i) => {
    out.push(...a.slice(at, hunk.oldStart));
    const side = accepted[i] ? '-' : '+'; // the side left out
    out.push(...hunk.lines.filter(l => l.kind !== side).map(l => l.text));
    at = hunk.oldStart + hunk.oldLines;
  });
  out.push(...a.slice(at));
  return out;
}
