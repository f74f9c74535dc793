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
//   - the first call lints open documents whose text is the file's on disk as files, so a
//     workspace the CLI (or an earlier server) linted is answered from the disk cache's results;
//     then, while idle, warmUp() runs the analysis that fills the memory for the edits to come.
// An incremental core (module graph, memoized queries per file) plugs in here as another
// implementation of WorkspaceAnalysis: it gets the same `changed` files to invalidate.

import { readFileSync } from "node:fs";
import type { LintProgress } from "../facts/collect.js";
import type { WorkspaceHooks, WorkspaceLint } from "../main.js";
import type { CliOptions } from "../config/cli-options.js";
import type { ReportDiagnostic } from "../reporters/types.js";
import { MemoryFacts } from "./fact-memo.js";

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
  /** "analysed": a lint ran; "reused": no changed file could change a finding, the previous findings stand. */
  how: "analysed" | "reused";
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
  private last: { root: string; lint: WorkspaceLint; files: Set<string>; analysed: Set<string>; open: Set<string> } | null = null;
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
    // First: open documents as saved are linted as the files, which lets the disk cache answer.
    const overrides = this.last ? request.overrides : unsaved(request.overrides);
    const lint = this.run(request.root, overrides, [...request.overrides.keys()], control);
    this.cold = lint.cachedResult ? request : null;
    return { diagnostics: lint.diagnostics, problems: lint.problems, how: "analysed" };
  }

  warmUp(control: AnalysisControl): boolean {
    const request = this.cold;
    if (!request || this.pending === null || this.pending.size > 0) return false;
    // With the buffers as overrides, the engine does not take the results from the disk cache.
    this.run(request.root, request.overrides, [...request.overrides.keys()], control);
    this.cold = null;
    return true;
  }

  private run(root: string, overrides: ReadonlyMap<string, string>, open: string[], control: AnalysisControl): WorkspaceLint {
    let lint: WorkspaceLint;
    try {
      lint = this.lint(
        { paths: [root], cwd: root, format: "json", quiet: false, exitZero: true, color: false, overrides },
        { memo: this.memo, cancelled: () => control.cancelled(), progress: control.progress, reportOnly: open },
      );
    } catch (e) {
      if (control.cancelled()) throw new AnalysisCancelled();
      throw e;
    }
    this.last = { root, lint, files: new Set(lint.files), analysed: new Set(lint.analysed), open: new Set(open) };
    this.pending = new Set();
    this.memo.retain(this.last.files);
    return lint;
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

/** The documents whose text differs from their file on disk (unsaved edits). */
function unsaved(overrides: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [file, text] of overrides) {
    let disk: string | null = null;
    try {
      disk = readFileSync(file, "utf8");
    } catch {
      /* not on disk */
    }
    if (disk !== text) out.set(file, text);
  }
  return out;
}
