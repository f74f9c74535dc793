// Invariants of the project analysis, under fast-check: the finding set does not depend on the
// order of definitions in a module, nor on unrelated files added to the project (a nested folder
// named like an installed package included).

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lintFiles } from "../../src/engine/engine.js";
import { RULES } from "../../rules/index.js";

type Stmt = { k: "call"; to: number } | { k: "method"; to: number } | { k: "sync" } | { k: "work" } | { k: "wait" };
interface Gen {
  fns: Stmt[][];
  /** Functions started on threads (and whether in a loop: several threads). */
  spawns: { fn: number; how: "loop" | "once" | "submit" }[];
  /** Classes: a base whose run() calls self.step(), subclasses overriding step with function bodies. */
  subs: number[];
  spawnSub: number | null;
}

const stmtArb = (n: number): fc.Arbitrary<Stmt> =>
  fc.oneof(
    fc.record({ k: fc.constant("call" as const), to: fc.nat(n - 1) }),
    fc.record({ k: fc.constant("method" as const), to: fc.nat(n - 1) }),
    fc.constant({ k: "sync" as const }),
    fc.constant({ k: "work" as const }),
    fc.constant({ k: "wait" as const }),
  );

const genArb: fc.Arbitrary<Gen> = fc.integer({ min: 2, max: 6 }).chain((n) =>
  fc.record({
    fns: fc.array(fc.array(stmtArb(n), { maxLength: 4 }), { minLength: n, maxLength: n }),
    spawns: fc.array(fc.record({ fn: fc.nat(n - 1), how: fc.constantFrom("loop" as const, "once" as const, "submit" as const) }), { maxLength: 3 }),
    subs: fc.array(fc.nat(n - 1), { minLength: 1, maxLength: 3 }),
    spawnSub: fc.option(fc.nat(2), { nil: null }),
  }),
);

/** Each top-level definition as its own block of lines, named. */
function blocks(g: Gen): { name: string; lines: string[] }[] {
  const out: { name: string; lines: string[] }[] = [];
  g.fns.forEach((body, i) => {
    const lines = [`def f${i}(model, x):`, "    y = x"];
    for (const st of body) {
      if (st.k === "call") lines.push(`    y = f${st.to}(model, y)`);
      else if (st.k === "method") lines.push(`    y = Sub${st.to % g.subs.length}().run(model, y)`);
      else if (st.k === "sync") lines.push("    torch.mps.synchronize()");
      else if (st.k === "work") lines.push("    y = model(y.to('mps'))");
      else lines.push("    y = y.cpu()");
    }
    lines.push("    return y");
    out.push({ name: `f${i}`, lines });
  });
  out.push({ name: "Base", lines: ["class Base:", "    def run(self, model, x):", "        return self.step(model, x)", "    def step(self, model, x):", "        return x"] });
  g.subs.forEach((target, j) => {
    out.push({ name: `Sub${j}`, lines: [`class Sub${j}(Base):`, "    def step(self, model, x):", `        return f${target}(model, x)`] });
  });
  const starts = ["def start(model, xs):"];
  for (const sp of g.spawns) {
    if (sp.how === "loop") starts.push("    for x in xs:", `        threading.Thread(target=f${sp.fn}, args=(model, x)).start()`);
    else if (sp.how === "once") starts.push(`    threading.Thread(target=f${sp.fn}, args=(model, xs)).start()`);
    // A future's result is handed back: MPS002 looks at what the target returns.
    else starts.push(`    xs = ThreadPoolExecutor(4).submit(f${sp.fn}, model, xs).result()`);
  }
  if (g.spawnSub !== null) starts.push(`    threading.Thread(target=Sub${g.spawnSub % g.subs.length}().run, args=(model, xs)).start()`);
  starts.push("    return xs");
  out.push({ name: "start", lines: starts });
  return out;
}

const HEADER = ["import threading", "from concurrent.futures import ThreadPoolExecutor", "", "import torch", ""];

function render(bs: { name: string; lines: string[] }[]): { text: string; owner: (row: number) => string } {
  const lines = [...HEADER];
  const spans: { name: string; from: number; to: number }[] = [];
  for (const b of bs) {
    spans.push({ name: b.name, from: lines.length, to: lines.length + b.lines.length });
    lines.push(...b.lines, "");
  }
  return {
    text: lines.join("\n"),
    owner: (row) => {
      const s = spans.find((x) => row >= x.from && row < x.to);
      return s ? `${s.name}+${row - s.from}` : `header+${row}`;
    },
  };
}

function project(files: Record<string, string>): { root: string; files: string[] } {
  const root = mkdtempSync(path.join(tmpdir(), "mps-lint-inv-"));
  const out: string[] = [];
  for (const [rel, text] of Object.entries(files)) {
    const f = path.join(root, rel);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, text);
    out.push(f);
  }
  return { root, files: out };
}

/** Findings in app.py, named by their definition and line within it. */
function findings(files: Record<string, string>, owner: (row: number) => string, withRoots: boolean): string[] {
  const p = project(files);
  const r = lintFiles({ files: p.files, rules: RULES, searchRoots: withRoots ? [p.root] : [] });
  return r.diagnostics
    .filter((d) => d.file === path.join(p.root, "app.py"))
    .map((d) => `${d.code} ${owner(d.range.start.row)}`)
    .sort();
}

const UNRELATED = {
  "vendor/act/torch/__init__.py": "from . import mps\n\ndef synchronize():\n    return None\n",
  "vendor/act/torch/mps.py": "def synchronize():\n    return None\n",
  "tools/threading.py": "class Thread:\n    def __init__(self, target=None, args=()):\n        pass\n",
  "tools/queue.py": "def put(x):\n    return x\n",
  "other.py": "import torch\n\ndef helper(x):\n    return x.to('mps')\n",
};

describe("analysis invariants (property tests)", () => {
  it("finds the same findings whatever the order of definitions in a module", () => {
    fc.assert(
      fc.property(genArb, fc.nat(), (g, seed) => {
        const bs = blocks(g);
        const shuffled = [...bs];
        let s = seed;
        for (let i = shuffled.length - 1; i > 0; i--) {
          s = (s * 1103515245 + 12345) % 2147483648;
          const j = s % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
        }
        const a = render(bs);
        const b = render(shuffled);
        expect(findings({ "app.py": b.text }, b.owner, true)).toEqual(findings({ "app.py": a.text }, a.owner, true));
      }),
      { numRuns: 25, seed: 1313 },
    );
  });

  it("finds the same findings when unrelated files are added (a nested folder named torch, threading.py in a tool folder)", () => {
    fc.assert(
      fc.property(genArb, fc.boolean(), (g, withRoots) => {
        const a = render(blocks(g));
        const alone = findings({ "app.py": a.text }, a.owner, withRoots);
        const withOthers = findings({ "app.py": a.text, ...UNRELATED }, a.owner, withRoots);
        expect(withOthers).toEqual(alone);
      }),
      { numRuns: 25, seed: 1717 },
    );
  });

  it("reports something on the generated projects (the property is not vacuous)", () => {
    const g: Gen = { fns: [[{ k: "work" }, { k: "sync" }], []], spawns: [{ fn: 0, how: "loop" }], subs: [1], spawnSub: null };
    const a = render(blocks(g));
    expect(findings({ "app.py": a.text }, a.owner, true)).toContain("MPS001 f0+3");
  });
});
