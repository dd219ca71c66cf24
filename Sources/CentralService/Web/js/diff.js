// A line diff (longest common subsequence) of two documents, as hunks with context, for the
// profile editor's "changes against version N".

/**
 * The edit script from `a` to `b` (arrays of lines): [{op: ' ' | '-' | '+', text, oldNo, newNo}].
 * The common head and tail are taken off first; what is left is compared by LCS. For very large
 * differences (over ~4 million cells) the middle is shown as removed then added, which is still
 * correct, only less minimal.
 */
export function diffLines(a, b) {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA--; endB--; }

  const out = [];
  for (let i = 0; i < start; i++) out.push({ op: ' ', text: a[i], oldNo: i + 1, newNo: i + 1 });

  const n = endA - start;
  const m = endB - start;
  if (n * m > 4_000_000) {
    for (let i = start; i < endA; i++) out.push({ op: '-', text: a[i], oldNo: i + 1 });
    for (let j = start; j < endB; j++) out.push({ op: '+', text: b[j], newNo: j + 1 });
  } else {
    // lcs[i][j]: length of the LCS of a[start+i..endA) and b[start+j..endB).
    const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i][j] = a[start + i] === b[start + j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[start + i] === b[start + j]) {
        out.push({ op: ' ', text: a[start + i], oldNo: start + i + 1, newNo: start + j + 1 });
        i++; j++;
      } else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) {
        out.push({ op: '+', text: b[start + j], newNo: start + j + 1 });
        j++;
      } else {
        out.push({ op: '-', text: a[start + i], oldNo: start + i + 1 });
        i++;
      }
    }
  }
  for (let k = 0; k < a.length - endA; k++) {
    out.push({ op: ' ', text: a[endA + k], oldNo: endA + k + 1, newNo: endB + k + 1 });
  }
  // Within a changed block, removed lines first, then added ones (as in a unified diff).
  return normalise(out);
}

function normalise(ops) {
  const result = [];
  let removed = [];
  let added = [];
  const flush = () => { result.push(...removed, ...added); removed = []; added = []; };
  for (const op of ops) {
    if (op.op === '-') removed.push(op);
    else if (op.op === '+') added.push(op);
    else { flush(); result.push(op); }
  }
  flush();
  return result;
}

/** Hunks of changed lines with `context` unchanged lines around them: [{lines, header}]. */
export function hunks(ops, context = 3) {
  const changed = ops.map((o, i) => (o.op === ' ' ? -1 : i)).filter((i) => i >= 0);
  if (!changed.length) return [];
  const ranges = [];
  for (const i of changed) {
    const from = Math.max(0, i - context);
    const to = Math.min(ops.length - 1, i + context);
    const last = ranges[ranges.length - 1];
    if (last && from <= last.to + 1) last.to = Math.max(last.to, to);
    else ranges.push({ from, to });
  }
  return ranges.map(({ from, to }) => {
    const lines = ops.slice(from, to + 1);
    const oldStart = lines.find((l) => l.oldNo)?.oldNo ?? 0;
    const newStart = lines.find((l) => l.newNo)?.newNo ?? 0;
    const oldCount = lines.filter((l) => l.op !== '+').length;
    const newCount = lines.filter((l) => l.op !== '-').length;
    return { lines, header: `@@ -${oldStart},${oldCount} +${newStart},${newCount} @@` };
  });
}

export function stats(ops) {
  return {
    added: ops.filter((o) => o.op === '+').length,
    removed: ops.filter((o) => o.op === '-').length,
  };
}

/** Splits a document into lines the way the server counts them ("\r\n" and "\n"). */
export const lines = (text) => text.replace(/\r\n?/g, '\n').split('\n');
