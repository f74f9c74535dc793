// Paths through a function's conditions, as the extractor spells them (`CallFact.guards`: the
// source text of each enclosing `if` condition, innermost first, and `not (...)` for else arms).
// A condition is read as a formula over atoms (the texts it combines with `not`, `and` and `or`),
// so an `if a and b:` arm and its `not (a and b)` else arm split the paths between them.

type Formula = { t: "atom"; text: string } | { t: "not"; of: Formula } | { t: "and" | "or"; of: Formula[] };

/** Split at top-level occurrences of ` op ` (outside brackets and strings). */
export function splitTop(g: string, op: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  const sep = ` ${op} `;
  for (let i = 0; i < g.length; i++) {
    const ch = g[i];
    if (quote) {
      if (ch === quote) quote = null;
      continue;
    }
    if (ch === "'" || ch === '"') quote = ch;
    else if ("([{".includes(ch)) depth++;
    else if (")]}".includes(ch)) depth--;
    else if (depth === 0 && g.startsWith(sep, i)) {
      out.push(g.slice(start, i).trim());
      start = i + sep.length;
      i += sep.length - 1;
    }
  }
  out.push(g.slice(start).trim());
  return out.filter((x) => x.length > 0);
}

/** Is the whole text one parenthesized group. */
function wrapped(g: string): boolean {
  if (!g.startsWith("(") || !g.endsWith(")")) return false;
  let depth = 0;
  for (let i = 0; i < g.length; i++) {
    if (g[i] === "(") depth++;
    else if (g[i] === ")" && --depth === 0 && i < g.length - 1) return false;
  }
  return true;
}

function parse(text: string, depth = 0): Formula {
  let g = text.trim();
  while (wrapped(g)) g = g.slice(1, -1).trim();
  if (depth > 8) return { t: "atom", text: g };
  const ors = splitTop(g, "or");
  if (ors.length > 1) return { t: "or", of: ors.map((x) => parse(x, depth + 1)) };
  const ands = splitTop(g, "and");
  if (ands.length > 1) return { t: "and", of: ands.map((x) => parse(x, depth + 1)) };
  const not = /^not\s*\(([\s\S]*)\)$/.exec(g) ?? /^not\s+([\s\S]*)$/.exec(g);
  if (not && (g.startsWith("not (") ? wrapped(g.slice(4).trim()) : true)) return { t: "not", of: parse(not[1], depth + 1) };
  return { t: "atom", text: g };
}

function atoms(f: Formula, out: Set<string>): void {
  if (f.t === "atom") out.add(f.text);
  else if (f.t === "not") atoms(f.of, out);
  else for (const x of f.of) atoms(x, out);
}

function holds(f: Formula, v: Map<string, boolean>): boolean {
  switch (f.t) {
    case "atom":
      return v.get(f.text) ?? false;
    case "not":
      return !holds(f.of, v);
    case "and":
      return f.of.every((x) => holds(x, v));
    case "or":
      return f.of.some((x) => holds(x, v));
  }
}

/**
 * Do waits, each running under its list of conditions, cover every path on which the closing read
 * runs (under the conditions `assumed`)? Every truth assignment of the conditions' atoms that
 * satisfies `assumed` must satisfy all conditions of some wait. Conditions are taken as
 * independent atoms (the same text twice is the same atom); past 10 atoms the answer is no.
 */
export function coversAllPaths(waits: readonly (readonly string[])[], assumed: readonly string[]): boolean {
  if (waits.some((w) => w.length === 0)) return true;
  const ws = waits.map((w) => w.map((g) => parse(g)));
  const as = assumed.map((g) => parse(g));
  const names = new Set<string>();
  for (const f of [...ws.flat(), ...as]) atoms(f, names);
  const list = [...names];
  if (list.length > 10) return false;
  for (let mask = 0; mask < 1 << list.length; mask++) {
    const v = new Map(list.map((n, i) => [n, (mask & (1 << i)) !== 0]));
    if (!as.every((f) => holds(f, v))) continue;
    if (!ws.some((w) => w.every((f) => holds(f, v)))) return false;
  }
  return true;
}
