// Property-based robustness checks (fast-check): real Python sources from fixtures/, mutated
// (tokens and lines deleted, duplicated and swapped; random bytes and Python punctuation
// inserted), go through the whole pipeline. Properties: no exception escapes, the output is
// the same on a second run, and every finding lies inside its file. A hang fails through the
// test's time limit; how long inputs take is recorded (maxMs) but not asserted (speed lives in
// `npm run bench`). test/fuzz.test.ts runs a quick round in `npm test`; `npm run fuzz`
// runs many more (MPS_LINT_FUZZ_RUNS, MPS_LINT_FUZZ_SEED).

import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { discover } from "../src/files/discover.js";
import { lintFiles } from "../src/engine/engine.js";
import { runLint } from "../src/main.js";
import { decodePython } from "../src/files/source.js";
import { RULES } from "../rules/index.js";

export const ROOT = path.resolve(import.meta.dirname, "..");
export const CORPUS: { file: string; bytes: Buffer }[] = discover([path.join(ROOT, "fixtures")], ROOT, { extensions: [".py"] })
  .sort()
  .map((file) => ({ file, bytes: readFileSync(file) }));

/** Multi-module fixture projects (folders): cross-module resolution on mutated code. */
export const PROJECTS: string[][] = (() => {
  const byDir = new Map<string, string[]>();
  for (const { file } of CORPUS) {
    const rel = path.relative(path.join(ROOT, "fixtures"), file).split(path.sep);
    if (rel.length < 3) continue;
    const key = rel.slice(0, 2).join("/");
    byDir.set(key, [...(byDir.get(key) ?? []), file]);
  }
  return [...byDir.values()];
})();

type Mutation =
  | { k: "delTok" | "dupTok" | "delLine" | "dupLine"; i: number }
  | { k: "swapTok" | "swapLine"; i: number; j: number }
  | { k: "bytes"; at: number; b: number[] }
  | { k: "punct"; at: number; s: string };

const PUNCT = ["(", ")", "[", "]", "{", "}", ":", ",", ".", "=", "\\", "#", '"', "'", '"""', "\n", "\r", "\r\n", "\t", "    ", "lambda", "def ", "class ", "async ", "await ", "@", "*", "**", "->", "\ufeff", "\u{1F600}", "é", "\u0000"];

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ k: fc.constantFrom("delTok" as const, "dupTok" as const, "delLine" as const, "dupLine" as const), i: fc.nat() }),
  fc.record({ k: fc.constantFrom("swapTok" as const, "swapLine" as const), i: fc.nat(), j: fc.nat() }),
  fc.record({ k: fc.constant("bytes" as const), at: fc.nat(), b: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }) }),
  fc.record({ k: fc.constant("punct" as const), at: fc.nat(), s: fc.constantFrom(...PUNCT) }),
);

const TOKEN = /(\s+|\w+|[^\w\s])/;

export function mutate(bytes: Buffer, ms: readonly Mutation[]): Buffer {
  let buf = bytes;
  for (const m of ms) {
    if (m.k === "bytes") {
      const at = buf.length === 0 ? 0 : m.at % (buf.length + 1);
      buf = Buffer.concat([buf.subarray(0, at), Buffer.from(m.b), buf.subarray(at)]);
      continue;
    }
    const text = buf.toString("utf8");
    let out: string;
    if (m.k === "punct") {
      const at = m.at % (text.length + 1);
      out = text.slice(0, at) + m.s + text.slice(at);
    } else {
      const line = m.k.endsWith("Line");
      const parts = line ? text.split(/(?<=\n)/) : text.split(TOKEN).filter((p) => p !== "");
      if (parts.length === 0) continue;
      const i = m.i % parts.length;
      if (m.k === "delTok" || m.k === "delLine") parts.splice(i, 1);
      else if (m.k === "dupTok" || m.k === "dupLine") parts.splice(i, 0, parts[i]);
      else {
        const j = m.j % parts.length;
        [parts[i], parts[j]] = [parts[j], parts[i]];
      }
      out = parts.join("");
    }
    buf = Buffer.from(out, "utf8");
  }
  return buf;
}

function timed<T>(f: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0 };
}

export interface FuzzStats {
  inputs: number;
  single: number;
  projects: number;
  maxMs: number;
  syntaxErrors: number;
  findings: number;
}

export function newStats(): FuzzStats {
  return { inputs: 0, single: 0, projects: 0, maxMs: 0, syntaxErrors: 0, findings: 0 };
}

function checkRanges(diags: { file: string; range: { start: { row: number }; end: { row: number } } }[], lines: (file: string) => number): void {
  for (const d of diags) {
    const n = lines(d.file);
    if (d.range.start.row < 0 || d.range.start.row >= n || d.range.end.row >= n || d.range.end.row < d.range.start.row) {
      throw new Error(`finding outside its file: ${d.file} rows ${d.range.start.row}-${d.range.end.row} of ${n}`);
    }
  }
}

const lineCount = (text: string) => text.split(/\r\n|\n|\r/).length;

// Standard input is linted inside its project (the folder of pyproject.toml / .git): a folder
// with neither keeps each input on its own, as the fuzz cases are single files.
const SINGLE_CWD = mkdtempSync(path.join(os.tmpdir(), "mps-lint-fuzz-"));

/** One mutated file through the whole CLI pipeline (stdin mode, JSON report), twice. */
export async function checkSingle(input: Buffer, stats: FuzzStats): Promise<void> {
  const text = decodePython(input).text;
  const run = () =>
    runLint({ paths: ["-"], stdin: text, stdinFilename: "fuzz.py", cwd: SINGLE_CWD, isolated: true, format: "json", quiet: false, exitZero: false, color: false, extendSelect: ["MPS100"] });
  const t0 = performance.now();
  const a = await run();
  const ms = performance.now() - t0;
  stats.maxMs = Math.max(stats.maxMs, ms);
  const b = await run();
  if (a.stdout !== b.stdout || a.exitCode !== b.exitCode) throw new Error("output differs between two runs");
  if (a.exitCode !== 0 && a.exitCode !== 1) throw new Error(`exit code ${a.exitCode}: ${a.stderr}`);
  const findings = JSON.parse(a.stdout) as { code: string; location: { row: number }; end_location: { row: number } }[];
  const n = lineCount(text);
  for (const f of findings) {
    if (f.location.row < 1 || f.location.row > n || f.end_location.row > n) throw new Error(`finding outside the file: ${JSON.stringify(f)}`);
  }
  stats.inputs++;
  stats.single++;
  stats.syntaxErrors += findings.filter((f) => f.code === "MPS000").length;
  stats.findings += findings.length;
}

/** A multi-module project with every file mutated: the project-wide analysis, twice. */
export function checkProject(files: string[], inputs: Buffer[], stats: FuzzStats): void {
  const overrides = new Map(files.map((f, i) => [f, decodePython(inputs[i]).text]));
  const root = path.dirname(files[0]);
  const run = () => lintFiles({ files, rules: RULES, overrides, searchRoots: [root] });
  const a = timed(run);
  stats.maxMs = Math.max(stats.maxMs, a.ms);
  const b = run();
  const key = (r: typeof a.value) => JSON.stringify([r.diagnostics, r.problems]);
  if (key(a.value) !== key(b)) throw new Error("project output differs between two runs");
  checkRanges(a.value.diagnostics, (f) => lineCount(overrides.get(f) ?? ""));
  stats.inputs += files.length;
  stats.projects++;
  stats.findings += a.value.diagnostics.length;
}

export function singleArb(): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.integer({ min: 0, max: CORPUS.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 30 }))
    .map(([i, ms]) => mutate(CORPUS[i].bytes, ms));
}

export function projectArb(): fc.Arbitrary<{ files: string[]; inputs: Buffer[] }> {
  return fc.integer({ min: 0, max: PROJECTS.length - 1 }).chain((p) => {
    const files = PROJECTS[p];
    return fc
      .tuple(...files.map(() => fc.array(mutationArb, { minLength: 0, maxLength: 6 })))
      .map((mss) => ({ files, inputs: files.map((f, i) => mutate(readFileSync(f), mss[i])) }));
  });
}
