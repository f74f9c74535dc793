// The language server's analysis behind one call, `analyze(request, control)`: what changed since
// the last call in, the workspace's findings out. It runs in a worker thread
// (./analysis-worker.ts), so the server answers hovers, code actions and completions while it runs.
//
// The contract an implementation keeps: the findings it returns are exactly the open documents'
// findings of a from-scratch lint of the workspace with their text, the open documents named
// first as files named on the command line are (lintWorkspace with reportOnly: the rules stop once
// they are checked), whatever it reuses; `changed` lists the files whose text may differ from the previous call's, whether that
// call completed or was cancelled (null: anything may have changed: the first call, files
// changed on disk, a configuration file saved); it stops with AnalysisCancelled once `cancelled()`
// says so, and a later call still accounts for the changes of a cancelled one.
//
// MemoAnalysis, today's implementation, on the current core:
//   - facts of unchanged files stay in memory between calls (MemoryFacts): an edit re-parses the
//     edited file alone; the project model and the rules still run over the whole project.
//   - an edit that cannot change any finding is answered with the previous findings, without a
//     lint: the edited file was not read by the last analysis (the prefilter rejected it and no
//     analysed module asked for it) and its new text still names no token of the prefilter. The
//     analysis is deterministic, so a lint of the new text would load and conclude the same.
//   - an edit that keeps the edited file's facts, positions and suppression comments aside, in an
//     open document whose text no rule read (comments, docstrings, fixes read the text:
//     LintResult.textRead), needs no analysis (early cut-off, src/facts/splice.ts): the engine
//     sees the same facts in the same order, so its findings are the old ones moved. Away from
//     the rows of findings and suppression comments, with the same comments, the final findings
//     are moved too; otherwise the stages after the engine (suppressions, severities,
//     fingerprints) run again over the moved engine findings (typing `# noqa`).
//   - the first call lints open documents whose text is the file's on disk as files, so a
//     workspace the CLI (or an earlier server) linted is answered from the disk cache's results;
//     then, while idle, warmUp() runs the analysis that fills the memory for the edits to come.
// An incremental core (module graph, memoized queries per file) plugs in here as another
// implementation of WorkspaceAnalysis: it gets the same `changed` files to invalidate.

import { readFileSync } from "node:fs";
import type { LintProgress } from "../facts/collect.js";
import { hashText, runFactsJob } from "../facts/facts-job.js";
import { compareMovedFacts, moveOffset, movePoint, moveRange, spliceBetween, type Splice } from "../facts/splice.js";
import type { ModuleFacts } from "../facts/model.js";
import type { LintResult } from "../engine/engine.js";
import { renderMessage } from "../reporters/message.js";
import type { Diagnostic, Range } from "../types.js";
import type { WorkspaceHooks, WorkspaceLint } from "../main.js";
import type { CliOptions } from "../config/cli-options.js";
import type { ReportDiagnostic } from "../reporters/types.js";
import { MemoryFacts } from "./fact-memo.js";
import { isNotebook } from "../files/notebook.js";
import { decodePython } from "../files/source.js";

export interface AnalysisRequest {
  /** Workspace folder: linted as `mps-lint <root>` run there would lint it. */
  root: string;
  /** The open documents' text, by absolute path: linted instead of the files on disk. */
  overrides: ReadonlyMap<string, string>;
  /** Files whose text may have changed since the previous call (opened, edited, closed); null: anything may have. */
  changed: readonly string[] | null;
}

export interface AnalysisControl {
  /** True once a newer request supersedes this one. */
  cancelled(): boolean;
  progress?(p: LintProgress): void;
}

export interface AnalysisResult {
  diagnostics: ReportDiagnostic[];
  problems: { file: string; message: string }[];
  /**
   * "analysed": a lint ran; "reused": no changed file could change a finding, the previous
   * findings stand; "moved": the edit kept the facts, the previous findings moved with the text.
   */
  how: "analysed" | "reused" | "moved";
}

export interface WorkspaceAnalysis {
  /** Throws AnalysisCancelled when `control.cancelled()` stopped it. */
  analyze(request: AnalysisRequest, control: AnalysisControl): AnalysisResult;
  /** Work worth doing while no request waits (it changes no finding); false when there is none. May throw AnalysisCancelled. */
  warmUp?(control: AnalysisControl): boolean;
}

export class AnalysisCancelled extends Error {}

type Lint = (opts: CliOptions, hooks: WorkspaceHooks) => WorkspaceLint;

export class MemoAnalysis implements WorkspaceAnalysis {
  private readonly memo = new MemoryFacts();
  private last: {
    root: string;
    lint: WorkspaceLint;
    files: Set<string>;
    analysed: Set<string>;
    open: Set<string>;
    /** The open documents' text as the last findings saw it. */
    texts: ReadonlyMap<string, string>;
  } | null = null;
  /** Files changed since the last completed lint; null: anything may have. */
  private pending: Set<string> | null = null;
  /** The last findings came from the disk cache: the memory is still empty (warmUp fills it). */
  private cold: AnalysisRequest | null = null;

  constructor(private readonly lint: Lint) {}

  analyze(request: AnalysisRequest, control: AnalysisControl): AnalysisResult {
    if (request.changed === null || this.pending === null || !this.last || this.last.root !== request.root) this.pending = null;
    if (this.pending !== null) for (const f of request.changed!) this.pending.add(f);
    if (control.cancelled()) throw new AnalysisCancelled();
    const last = this.last;
    // The last findings are those of the documents open then: a newly opened one needs a lint.
    const sameOpen = !!last && [...request.overrides.keys()].every((f) => last.open.has(f));
    if (last && sameOpen && this.pending !== null && [...this.pending].every((f) => this.unaffected(f, request.overrides))) {
      this.pending.clear();
      return { diagnostics: last.lint.diagnostics, problems: last.lint.problems, how: "reused" };
    }
    if (last && sameOpen && this.pending !== null) {
      let moved: AnalysisResult | null = null;
      try {
        moved = this.moved(request, control);
      } catch (e) {
        // The cut-off is an optimization: whatever goes wrong in it, the lint below decides.
        if (e instanceof AnalysisCancelled) throw e;
      }
      if (moved) return moved;
    }
    // First: open documents as saved are linted as the files, which lets the disk cache answer.
    const overrides = this.last ? request.overrides : unsaved(request.overrides);
    const lint = this.run(request.root, overrides, request.overrides, control);
    this.cold = lint.cachedResult ? request : null;
    return { diagnostics: lint.diagnostics, problems: lint.problems, how: "analysed" };
  }

  warmUp(control: AnalysisControl): boolean {
    const request = this.cold;
    if (!request || this.pending === null || this.pending.size > 0) return false;
    // With the buffers as overrides, the engine does not take the results from the disk cache.
    this.run(request.root, request.overrides, request.overrides, control);
    this.cold = null;
    return true;
  }

  /** `open`: the open documents and their text (`overrides` may leave out those saved as they are). */
  private run(root: string, overrides: ReadonlyMap<string, string>, open: ReadonlyMap<string, string>, control: AnalysisControl, engine?: LintResult): WorkspaceLint {
    let lint: WorkspaceLint;
    try {
      lint = this.lint(
        { paths: [root], cwd: root, format: "json", quiet: false, exitZero: true, color: false, overrides },
        { memo: this.memo, cancelled: () => control.cancelled(), progress: control.progress, reportOnly: [...open.keys()], engine },
      );
    } catch (e) {
      if (control.cancelled()) throw new AnalysisCancelled();
      throw e;
    }
    this.last = { root, lint, files: new Set(lint.files), analysed: new Set(lint.analysed), open: new Set(open.keys()), texts: new Map(open) };
    this.pending = new Set();
    this.memo.retain(this.last.files);
    return lint;
  }

  /**
   * An answer without a new analysis to one edit of an open document, or null when a lint must
   * decide (see the header). Needed: one pending file besides unaffected ones, its last text and
   * facts known, the edit one splice, its new facts the old ones moved (suppression comments
   * aside: no rule reads them), its prefilter verdict kept, no problem of the engine's in it, and
   * no rule that read its text. Then the engine's findings are the old ones moved; when the
   * suppression comments are also the same and no finding or comment stands beside the edited
   * rows, so are the final findings (moved and their messages rendered again); otherwise the
   * stages after the engine run again over the engine's moved findings (suppressions, severities,
   * fingerprints).
   */
  private moved(request: AnalysisRequest, control: AnalysisControl): AnalysisResult | null {
    const last = this.last!;
    const lint = last.lint;
    const textRead = lint.engine.textRead;
    if (lint.cachedResult || !textRead) return null;
    const edited = [...this.pending!].filter((f) => !this.unaffected(f, request.overrides));
    if (edited.length !== 1) return null;
    const file = edited[0];
    const text = request.overrides.get(file);
    const before = last.texts.get(file);
    if (text === undefined || before === undefined || !file.endsWith(".py") || textRead.has(file)) return null;
    if (lint.engine.problems.some((p) => p.file === file)) return null;
    if (text === before) {
      // The same text again (an undo back to it, a client resending it): the same findings.
      this.pending!.clear();
      return { diagnostics: lint.diagnostics, problems: lint.problems, how: "moved" };
    }
    const oldFacts = this.memo.facts(file, hashText(before));
    const sp = oldFacts ? spliceBetween(before, text) : null;
    if (!oldFacts || !sp) return null;
    if (lint.prefilter && lint.prefilter.test(before) !== lint.prefilter.test(text)) return null;
    const job = runFactsJob(file, text, null, "", true);
    if (!job.facts || job.error) return null;
    const same = compareMovedFacts(oldFacts, job.facts, sp);
    if (same === "different") return null;
    this.memo.keep(file, job.hash, job.facts);
    const facts = job.facts;
    let engine: LintResult;
    try {
      engine = {
        ...lint.engine,
        diagnostics: lint.engine.diagnostics.map((d) => movePositions(d, file, sp)),
        facts: lint.engine.facts.map((f) => (f.file === file ? facts : f)),
        source: (f) => (f === file ? text : lint.engine.source(f)),
      };
    } catch {
      return null; // a finding's position in the replaced text
    }
    // A moved finding's message is rendered again from its presented rows, which in a notebook
    // are rows of a cell: one that names a notebook goes through the stages after the engine.
    if (same === "same" && !lint.problems.some((p) => p.file === file) && awayFromFindings(lint.diagnostics, oldFacts, file, sp)) {
      const moved = lint.diagnostics.map((d) => ({ d, m: movePositions(d, file, sp) }));
      if (!moved.some(({ d, m }) => m !== d && namesNotebook(d))) {
        const diagnostics = moved.map(({ d, m }) => (m === d ? d : { ...m, message: renderMessage(m, { cwd: request.root }) }));
        this.last = { ...last, lint: { ...lint, diagnostics, engine }, texts: new Map(last.texts).set(file, text) };
        this.pending!.clear();
        return { diagnostics, problems: lint.problems, how: "moved" };
      }
    }
    const relint = this.run(request.root, request.overrides, request.overrides, control, engine);
    return { diagnostics: relint.diagnostics, problems: relint.problems, how: "moved" };
  }

  /** A change to this file cannot change any finding (see the header). */
  private unaffected(file: string, overrides: ReadonlyMap<string, string>): boolean {
    const last = this.last!;
    // A file the last lint did not have may be new on disk: a lint decides. Findings from the disk
    // cache do not say which files the analysis read.
    if (!last.files.has(file) || last.analysed.has(file) || !last.lint.prefilter || last.lint.cachedResult) return false;
    const text = overrides.get(file);
    if (text !== undefined) return !last.lint.prefilter.test(text);
    // Closed: back to the text on disk.
    try {
      return !last.lint.prefilter.testBytes(readFileSync(file));
    } catch {
      return false;
    }
  }
}

/**
 * No finding, witness step or message line in `file`, and no suppression comment of it, at or
 * beside the edited rows: a fingerprint (its line's text) and a suppression (its row, the row
 * below when alone on its row) stay as they were.
 */
function awayFromFindings(diagnostics: readonly ReportDiagnostic[], facts: ModuleFacts, file: string, sp: Splice): boolean {
  const near = (a: number, b: number) => a <= sp.lastRow + 1 && b >= sp.firstRow - 1;
  const nearRange = (r: Range) => near(r.start.row, r.end.row);
  const inLine = sp.to.row === sp.from.row && sp.toAfter.row === sp.from.row;
  if (facts.comments.some((c) => (inLine ? c.row === sp.firstRow : c.row >= sp.firstRow - 1 && c.row <= sp.lastRow))) return false;
  return diagnostics.every(
    (d) =>
      !(d.file === file && (nearRange(d.range) || d.fix?.edits.some((e) => nearRange(e.range)))) &&
      !d.path.some((p) => p.file === file && nearRange(p.range)) &&
      !Object.values(d.data).some((v) => typeof v === "object" && v.file === file && near(v.row, v.row)),
  );
}

/** Does the finding name a notebook: its file, a witness step or a line of its message. */
function namesNotebook(d: Diagnostic): boolean {
  return isNotebook(d.file) || d.path.some((p) => isNotebook(p.file)) || Object.values(d.data).some((v) => typeof v === "object" && isNotebook(v.file));
}

/** A finding with its positions in `file` moved by the splice (the same object when it has none there). Throws for a position in the replaced text. */
function movePositions<D extends Diagnostic>(d: D, file: string, sp: Splice): D {
  if (d.file !== file && !d.path.some((p) => p.file === file) && !Object.values(d.data).some((v) => typeof v === "object" && v.file === file)) return d;
  const data = Object.fromEntries(Object.entries(d.data).map(([k, v]) => [k, typeof v === "object" && v.file === file ? { ...v, row: movePoint({ row: v.row, column: 0 }, sp).row } : v]));
  const path = d.path.map((p) => (p.file === file ? { ...p, range: moveRange(p.range, sp) } : p));
  const own = d.file === file;
  const fix = own && d.fix ? { ...d.fix, edits: d.fix.edits.map((e) => ({ ...e, range: moveRange(e.range, sp), startOffset: moveOffset(e.startOffset, sp), endOffset: moveOffset(e.endOffset, sp, true) })) } : d.fix;
  return { ...d, data, path, fix, range: own ? moveRange(d.range, sp) : d.range };
}

/** The documents whose text differs from their file on disk (unsaved edits). */
function unsaved(overrides: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [file, text] of overrides) {
    let disk: string | null = null;
    try {
      // As the lint reads the file (a BOM dropped, a coding cookie's encoding).
      disk = decodePython(readFileSync(file)).text;
    } catch {
      /* not on disk */
    }
    if (disk !== text) out.set(file, text);
  }
  return out;
}
