// The house's layers: each stage folder imports only from its own layer or the ones below it, and
// no two modules import each other through any chain (type-only imports included: a cycle of
// types is still a cycle a reader has to untangle). ARCHITECTURE.md lists the stages.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./cli.js";

/** Lowest first. A module may import from its own layer and any layer before it. */
const LAYERS: { name: string; paths: string[] }[] = [
  { name: "shared data", paths: ["src/types.ts", "src/timing.ts"] },
  { name: "files", paths: ["src/files/"] },
  { name: "facts", paths: ["src/facts/"] },
  { name: "project", paths: ["src/project/"] },
  // The engine runs the rules its caller hands it (LintInput.rules): the rules import the engine's
  // Rule type, never the other way round.
  { name: "engine", paths: ["src/engine/"] },
  { name: "rules", paths: ["rules/"] },
  { name: "suppress", paths: ["src/suppress/"] },
  { name: "verify", paths: ["src/verify/"] },
  { name: "report", paths: ["src/reporters/", "src/docs/"] },
  // Settings are read first but validated against what the stages know (rule codes, format names).
  { name: "config", paths: ["src/config/"] },
  { name: "lint", paths: ["src/lint/"] },
  { name: "fix", paths: ["src/fix/"] },
  { name: "run", paths: ["src/main.ts", "src/pipeline.ts", "src/trace/", "src/server/", "src/cli/"] },
];

/** Imports that run against the order today, each with why it is still there. Shrink, never grow. */
const KNOWN: Record<string, string> = {};

function sources(): string[] {
  const out: string[] = [];
  for (const top of ["src", "rules"]) {
    for (const e of readdirSync(path.join(ROOT, top), { recursive: true, withFileTypes: true })) {
      if (e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(path.relative(ROOT, path.join(e.parentPath, e.name)));
    }
  }
  return out.sort();
}

/** Relative imports of a module (static, type-only, re-exports and import()), as repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  const out = new Set<string>();
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm)) {
    out.add(path.normalize(path.join(path.dirname(file), m[1])).replace(/\.js$/, ".ts"));
  }
  return [...out];
}

function layerOf(file: string): number {
  const i = LAYERS.findIndex((l) => l.paths.some((p) => (p.endsWith("/") ? file.startsWith(p) : file === p)));
  if (i < 0) throw new Error(`${file} is in no layer: add its folder to LAYERS (and to ARCHITECTURE.md)`);
  return i;
}

describe("layers", () => {
  const files = sources();
  const graph = new Map(files.map((f) => [f, importsOf(f)]));

  it("every import points to its own layer or a lower one", () => {
    const upward: string[] = [];
    for (const [from, tos] of graph) {
      for (const to of tos) {
        if (layerOf(to) > layerOf(from) && !KNOWN[`${from} -> ${to}`]) {
          upward.push(`${from} (${LAYERS[layerOf(from)].name}) -> ${to} (${LAYERS[layerOf(to)].name})`);
        }
      }
    }
    expect(upward).toEqual([]);
  });

  it("the known exceptions still exist (a mended one is taken off the list)", () => {
    for (const edge of Object.keys(KNOWN)) {
      const [from, to] = edge.split(" -> ");
      expect(graph.get(from) ?? [], edge).toContain(to);
    }
  });

  it("no import circles", () => {
    // Tarjan's strongly connected components over the module graph.
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const circles: string[][] = [];
    let next = 0;
    const visit = (v: string) => {
      index.set(v, next);
      low.set(v, next++);
      stack.push(v);
      onStack.add(v);
      for (const w of graph.get(v) ?? []) {
        if (!graph.has(w)) continue;
        if (!index.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
      if (low.get(v) === index.get(v)) {
        const scc: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          scc.push(w);
        } while (w !== v);
        if (scc.length > 1) circles.push(scc.sort());
      }
    };
    for (const f of files) if (!index.has(f)) visit(f);
    expect(circles).toEqual([]);
  });
});
