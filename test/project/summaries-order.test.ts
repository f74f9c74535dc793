// Summaries do not depend on the order in which functions are defined (or first asked about):
// every permutation of a fixture's top-level definitions gives the same findings, each placed
// by the function it is in and its line inside that function.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lintFiles } from "../../src/engine/engine.js";
import { FIXTURES } from "../harness.js";
import { RULES } from "../../rules/index.js";

/** The text before the first `def`, and the top-level definitions, each with its name. */
function split(text: string): { head: string; defs: { name: string; text: string }[] } {
  const parts = text.split(/\n(?=def )/);
  const head = parts[0].startsWith("def ") ? "" : parts.shift()!;
  return { head, defs: parts.map((p) => ({ name: /^def (\w+)/.exec(p)![1], text: p.replace(/\n*$/, "\n\n") })) };
}

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

/** Findings as "code function+line" for one order of the definitions. */
function findings(file: string, head: string, defs: { name: string; text: string }[], code: string): string[] {
  const text = [head.replace(/\n*$/, "\n\n\n"), ...defs.map((d) => d.text)].join("");
  const starts: { name: string; row: number }[] = [];
  let row = head.replace(/\n*$/, "\n\n\n").split("\n").length - 1;
  for (const d of defs) {
    starts.push({ name: d.name, row });
    row += d.text.split("\n").length - 1;
  }
  const result = lintFiles({ files: [file], rules: RULES, overrides: new Map([[file, text]]) });
  return result.diagnostics
    .filter((d) => d.code === code)
    .map((d) => {
      const r = d.range.start.row;
      const owner = [...starts].reverse().find((s) => s.row <= r)!;
      return `${code} ${owner.name}+${r - owner.row}`;
    })
    .sort();
}

describe("summaries do not depend on definition order", () => {
  for (const [name, code] of [
    ["unsynced-thread-result/recursion_a_first.py", "MPS002"],
    ["unsynced-thread-result/helpers.py", "MPS002"],
    ["unsynced-thread-result/callee_wait_shapes.py", "MPS002"],
    ["unsynced-timing/callee_wait_shapes.py", "MPS004"],
  ] as const) {
    it(`${name}: every order of its definitions gives the same ${code} findings`, () => {
      const file = path.join(FIXTURES, name);
      const { head, defs } = split(readFileSync(file, "utf8"));
      // Every order for small files; for larger ones the rotations and their reversals.
      const orders =
        defs.length <= 5
          ? permutations(defs)
          : defs.flatMap((_, i) => {
              const rotated = [...defs.slice(i), ...defs.slice(0, i)];
              return [rotated, [...rotated].reverse()];
            });
      const first = findings(file, head, orders[0], code);
      expect(first.length).toBeGreaterThan(0);
      for (const order of orders.slice(1)) expect(findings(file, head, order, code)).toEqual(first);
    });
  }
});
