// Name lookup for peek and poke: exact match, or an error listing the closest names.

export class SignalNameError extends Error {
  override name = "SignalNameError";
}

/** Edit distance between two names (Levenshtein), for "did you mean" lists. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

export function closestNames(name: string, candidates: readonly string[], count = 5): string[] {
  const leaf = name.split(".").pop()!;
  return candidates
    .map((c) => ({ c, d: Math.min(editDistance(name, c), editDistance(leaf, c.split(".").pop()!) + 1) }))
    .sort((x, y) => x.d - y.d || (x.c < y.c ? -1 : 1))
    .slice(0, count)
    .map((x) => x.c);
}

export function unknownSignal(name: string, top: string, candidates: readonly string[]): SignalNameError {
  const near = closestNames(name, candidates);
  return new SignalNameError(
    `no signal named "${name}" in ${top}` + (near.length ? `; closest: ${near.map((n) => `"${n}"`).join(", ")}` : ""),
  );
}
