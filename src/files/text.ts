// Small text helpers shared by every stage: escaping for a terminal, edit distance for "did you mean".

/** Control bytes as escapes (\n, \x1b): text from files and paths never reaches a terminal raw. */
export function escapeControl(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (ch) => {
    const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
    return named[ch] ?? `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

/** Edit distance, for "did you mean" (unknown options, subcommands and configuration keys). */
export function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
