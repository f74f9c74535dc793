// Baselines: record today's findings, then report only new ones. An entry is keyed by a
// fingerprint of the rule, the file (relative to the baseline file's folder, so the baseline
// works from any working folder), the code on the finding's line with whitespace normalized,
// and which occurrence of that (rule, file, code) it is. Line numbers are kept for people
// reading the file but never matched, so findings survive edits that move lines.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Diagnostic } from "../types.js";
import { writeFileAtomic } from "../files/write.js";

export class BaselineError extends Error {}

export interface BaselineEntry {
  code: string;
  file: string;
  fingerprint: string;
  /** 1-based, informational only. */
  line: number;
  message: string;
}

export interface BaselineFile {
  tool: "mps-lint";
  version: 1;
  findings: BaselineEntry[];
}

function normalizeLine(text: string): string {
  return text.trim().replace(/\s+/g, " ");
}

function relFile(file: string, baseDir: string): string {
  if (file === "-" || file.startsWith("<")) return file;
  return path.relative(baseDir, path.resolve(file)).split(path.sep).join("/");
}

/**
 * Fingerprints of diagnostics, in the order given. `source` gives the text the finding's rows
 * refer to; `baseDir` is the folder file paths are taken relative to.
 */
export function fingerprints(diagnostics: readonly Diagnostic[], source: (file: string) => string, baseDir: string): string[] {
  const lines = new Map<string, string[]>();
  const lineOf = (d: Diagnostic): string => {
    let l = lines.get(d.file);
    if (!l) {
      let text = "";
      try {
        text = source(d.file);
      } catch {
        /* unreadable: fingerprint on the rule and file alone */
      }
      lines.set(d.file, (l = text.split(/\r\n|\n|\r/)));
    }
    return normalizeLine(l[d.range.start.row] ?? "");
  };
  // Occurrence index in position order, whatever order the diagnostics come in.
  const order = diagnostics
    .map((d, i) => ({ d, i }))
    .sort(
      (a, b) =>
        (a.d.file < b.d.file ? -1 : a.d.file > b.d.file ? 1 : 0) ||
        a.d.range.start.row - b.d.range.start.row ||
        a.d.range.start.column - b.d.range.start.column,
    );
  const seen = new Map<string, number>();
  const out: string[] = new Array(diagnostics.length);
  for (const { d, i } of order) {
    const key = `${d.code}\0${relFile(d.file, baseDir)}\0${lineOf(d)}`;
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    out[i] = createHash("sha256").update(`${key}\0${n}`).digest("hex").slice(0, 32);
  }
  return out;
}

/** `messageOf`: the finding's text for a reader (src/reporters/message.ts); the baseline keeps it for people, matching ignores it. */
export function writeBaseline(file: string, diagnostics: readonly Diagnostic[], source: (file: string) => string, messageOf: (d: Diagnostic) => string): number {
  const baseDir = path.dirname(path.resolve(file));
  const fps = fingerprints(diagnostics, source, baseDir);
  const findings: BaselineEntry[] = diagnostics.map((d, i) => ({
    code: d.code,
    file: relFile(d.file, baseDir),
    fingerprint: fps[i],
    line: d.range.start.row + 1,
    message: messageOf(d),
  }));
  const doc: BaselineFile = { tool: "mps-lint", version: 1, findings };
  writeFileAtomic(file, JSON.stringify(doc, null, 2) + "\n");
  return findings.length;
}

export function readBaseline(file: string): BaselineFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new BaselineError(`${file}: cannot read baseline: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new BaselineError(`${file}: not a baseline (invalid JSON: ${(e as Error).message})`);
  }
  const d = doc as Partial<BaselineFile>;
  if (typeof doc !== "object" || doc === null || d.tool !== "mps-lint" || d.version !== 1 || !Array.isArray(d.findings)) {
    throw new BaselineError(`${file}: not an mps-lint baseline (expected {"tool": "mps-lint", "version": 1, "findings": [...]}; write one with --write-baseline)`);
  }
  for (const [i, f] of d.findings.entries()) {
    if (typeof f?.fingerprint !== "string" || typeof f?.code !== "string") throw new BaselineError(`${file}: findings[${i}]: expected "code" and "fingerprint" strings`);
  }
  return d as BaselineFile;
}

export interface BaselineResult {
  kept: Diagnostic[];
  /** Findings the baseline accounted for. */
  matched: number;
  /** Baseline entries that no current finding matched (fixed, or changed). */
  stale: number;
}

export function filterBaseline(
  baselineFile: string,
  baseline: BaselineFile,
  diagnostics: readonly Diagnostic[],
  source: (file: string) => string,
): BaselineResult {
  const baseDir = path.dirname(path.resolve(baselineFile));
  const fps = fingerprints(diagnostics, source, baseDir);
  const left = new Map<string, number>();
  for (const f of baseline.findings) left.set(f.fingerprint, (left.get(f.fingerprint) ?? 0) + 1);
  const kept: Diagnostic[] = [];
  let matched = 0;
  diagnostics.forEach((d, i) => {
    const n = left.get(fps[i]) ?? 0;
    if (n > 0) {
      left.set(fps[i], n - 1);
      matched++;
    } else kept.push(d);
  });
  let stale = 0;
  for (const n of left.values()) stale += n;
  return { kept, matched, stale };
}
