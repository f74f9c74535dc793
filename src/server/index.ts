// `mps-lint server`: a language server (LSP, vscode-languageserver) over standard input and output
// (`--stdio`, or no flag), Node IPC (`--node-ipc`), a socket (`--socket=PORT`) or a pipe (`--pipe=NAME`).
//
// Each lint analyses the open documents inside the whole workspace (the call graph spans files: a
// sync in one module is a finding because a thread in another reaches it), as the CLI does for
// files named on the command line, with the open buffers' text in place of the files on disk
// (lintWorkspace in src/main.ts with reportOnly, then lintProject): the workspace is set up, and
// the rules stop once the open documents are checked. It runs
// in a worker thread (./analysis-worker.ts, ./analysis.ts), so this thread always answers:
// hovers, code actions and `# noqa` completions read the last findings and never wait on an
// analysis. Edits are debounced; an edit made while an analysis runs cancels it (it stops at its
// next stage or module) and a new one starts with the newest text. The first analysis reports
// `$/progress` (files read, parsed, modules checked) to clients that support it.
// Findings are published for open documents with the version they were computed for: the witness
// path (spawn site first) as relatedInformation, fixes as code actions titled with their safety,
// the rule's summary and a link to its page on hover.

import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  CodeActionKind,
  CompletionItemKind,
  createConnection,
  DiagnosticSeverity,
  DidChangeWatchedFilesNotification,
  type CompletionItem,
  type Diagnostic as LspDiagnostic,
  type Connection,
  type CodeAction,
  type InitializeParams,
  ProposedFeatures,
  StreamMessageReader,
  StreamMessageWriter,
  TextDocuments,
  TextDocumentSyncKind,
  type WorkDoneProgressServerReporter,
} from "vscode-languageserver/node.js";
import { TextDocument } from "vscode-languageserver-textdocument";
import type { LintProgress } from "../facts/collect.js";
import type { ReportDiagnostic } from "../reporters/types.js";
import { RULES } from "../../rules/index.js";
import { AnalysisHost } from "./analysis-host.js";
import type { AnalysisResult } from "./analysis.js";

const SEVERITY = { error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, info: DiagnosticSeverity.Information };
/**
 * Quiet time after a keystroke before an analysis starts: a burst of typing is one analysis. Short,
 * because an analysis that a later keystroke supersedes is cancelled anyway.
 */
const DEBOUNCE_MS = 40;

/** How the editor talks to the server. */
export type Transport = "stdio" | "node-ipc" | "socket" | "pipe";

/** Rows and columns as the lint has them (0-based, UTF-16 code units): LSP's own. */
const pos = (p: { row: number; column: number }) => ({ line: p.row, character: p.column });

/** Where the progress of the first analysis stands, in percent of the whole (stages weighted by their usual cost). */
function percentOf(p: LintProgress): number {
  const [from, to] = { scan: [0, 10], parse: [10, 45], index: [45, 55], check: [55, 100] }[p.phase];
  return Math.round(from + ((to - from) * (p.total > 0 ? Math.min(1, p.done / p.total) : 0)));
}

function progressMessage(p: LintProgress): string {
  switch (p.phase) {
    case "scan":
      return `reading files ${p.done}/${p.total}`;
    case "parse":
      return `parsing files ${p.done}/${p.total}`;
    case "index":
      return `building the project model (${p.total} modules)`;
    case "check":
      return `checking modules ${p.done}/${p.total}`;
  }
}

/** The rule's page shipped with the package (docs/rules/NAME.md), as a file: URI. */
const docsRoot = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = path.dirname(dir)) if (existsSync(path.join(dir, "docs", "rules"))) return path.join(dir, "docs", "rules");
  return null;
})();
function ruleLink(f: ReportDiagnostic): string | null {
  if (f.url.startsWith("http")) return f.url;
  const page = docsRoot && f.name ? path.join(docsRoot, `${f.name}.md`) : null;
  return page && existsSync(page) ? pathToFileURL(page).href : null;
}

// `# noqa: MPS0|` and `# mps-lint: ignore[MPS0|`: the codes typed so far, and the one being typed.
const NOQA_AT_CURSOR = /#\s*noqa\s*:\s*((?:[A-Za-z]+[0-9]+\s*,\s*)*)([A-Za-z]*[0-9]*)$/i;
const IGNORE_AT_CURSOR = /#\s*mps-lint\s*:\s*(?:file-)?ignore\s*\[\s*((?:[A-Za-z]+[0-9]+\s*,\s*)*)([A-Za-z]*[0-9]*)$/i;

export function startServer(transport: Transport = "stdio", given?: Connection): Promise<number> {
  const connection = given ?? connect(transport);
  const documents = new TextDocuments(TextDocument);
  let root = process.cwd();
  /** Findings by file, of the last analysis published. */
  let findings = new Map<string, ReportDiagnostic[]>();
  /** What was last published per document: its version and diagnostics (unchanged ones are not sent again). */
  const published = new Map<string, { version: number; key: string }>();
  /** Files opened, edited or closed since the last request; null: a full analysis (first, saves, files changed on disk). */
  let changed: Set<string> | null = null;
  let timer: NodeJS.Timeout | null = null;
  /** The newest request: only its result is published (an older one's text is already stale). */
  let newest = 0;
  let requests = 0;
  let firstPublished = false;
  let progress: Promise<WorkDoneProgressServerReporter | null> | null = null;
  let reporter: WorkDoneProgressServerReporter | null = null;
  let watchedFiles = false;
  const host = new AnalysisHost((message) => connection.console.error(`mps-lint: ${message}`));

  connection.onInitialize((params: InitializeParams) => {
    const folder = params.workspaceFolders?.[0]?.uri ?? params.rootUri;
    if (folder?.startsWith("file:")) root = fileURLToPath(folder);
    else if (params.rootPath) root = params.rootPath;
    watchedFiles = !!params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        hoverProvider: true,
        completionProvider: { triggerCharacters: [":", ",", " ", "["] },
      },
      serverInfo: { name: "mps-lint" },
    };
  });

  connection.onInitialized(() => {
    // Files changed on disk (a checkout, another editor, a saved configuration) start an analysis.
    if (watchedFiles) {
      void connection.client.register(DidChangeWatchedFilesNotification.type, {
        watchers: [{ globPattern: "**/*.{py,pyi,ipynb}" }, { globPattern: "**/{pyproject.toml,mps-lint.toml,.mps-lint.toml}" }],
      });
    }
  });

  const fileOf = (uri: string): string | null => (uri.startsWith("file:") ? fileURLToPath(uri) : null);
  const linted = (file: string | null): file is string => !!file && file.endsWith(".py");

  function analyse(): void {
    const overrides = new Map<string, string>();
    const versions = new Map<string, number>();
    for (const doc of documents.all()) {
      const file = fileOf(doc.uri);
      versions.set(doc.uri, doc.version);
      if (linted(file)) overrides.set(file, doc.getText());
    }
    const request = { root, overrides, changed: changed ? [...changed] : null };
    changed = new Set();
    const id = ++requests;
    newest = id;
    const reporting = !firstPublished ? startProgress() : null;
    void host.analyze(request, reporting ? (p) => void reporting.then((r) => r?.report(percentOf(p), progressMessage(p))) : undefined).then((outcome) => {
      if (outcome.status === "failed") connection.console.error(`mps-lint: ${outcome.message}`);
      // The editor's log of the server (LSP's window/logMessage, "Log" level): what each request cost.
      else if (outcome.status === "cancelled") connection.console.log(`mps-lint: request ${id} superseded by a newer edit: cancelled`);
      else connection.console.log(`mps-lint: ${outcome.result.how === "reused" ? "no changed file can change a finding: previous findings kept" : outcome.result.how === "moved" ? "the edit kept the file's facts: previous findings moved with the text" : "analysed the workspace"} in ${Math.round(outcome.ms)} ms (request ${id}${request.changed ? `, ${request.changed.length} changed file(s)` : ", everything"})`);
      if (outcome.status !== "done" || id !== newest || closed) return;
      take(outcome.result);
      if (!firstPublished) {
        // The progress ends as the diagnostics come (or once the client has answered its creation).
        firstPublished = true;
        if (reporter) reporter.done();
        else void progress?.then((r) => r?.done());
      }
      publish(versions);
    });
  }

  function startProgress(): Promise<WorkDoneProgressServerReporter | null> {
    progress ??= connection.window.createWorkDoneProgress().then(
      (r) => {
        r.begin("mps-lint", 0, "analysing the workspace", false);
        reporter = r;
        return r;
      },
      // The client refused the token: no progress, the analysis goes on.
      () => null,
    );
    return progress;
  }

  function take(result: AnalysisResult): void {
    const next = new Map<string, ReportDiagnostic[]>();
    for (const f of result.diagnostics) {
      const list = next.get(f.file) ?? [];
      list.push(f);
      next.set(f.file, list);
    }
    findings = next;
  }

  function publish(versions: Map<string, number>): void {
    for (const doc of documents.all()) {
      const file = fileOf(doc.uri);
      const version = versions.get(doc.uri);
      // Opened after the request: its own analysis comes next.
      if (!file || version === undefined) continue;
      const diagnostics = (findings.get(file) ?? []).map(toLsp);
      const key = JSON.stringify(diagnostics);
      const before = published.get(doc.uri);
      if (before && before.version === version && before.key === key) continue;
      connection.sendDiagnostics({ uri: doc.uri, version, diagnostics });
      published.set(doc.uri, { version, key });
    }
    // A closed document's findings are cleared (the editor would otherwise keep them).
    for (const uri of [...published.keys()]) {
      if (documents.get(uri)) continue;
      connection.sendDiagnostics({ uri, diagnostics: [] });
      published.delete(uri);
    }
  }

  function schedule(delay: number, file: string | null): void {
    if (changed !== null) {
      if (file === null) changed = null;
      else changed.add(file);
    }
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      analyse();
    }, delay);
  }

  documents.onDidOpen((e) => schedule(0, fileOf(e.document.uri)));
  documents.onDidChangeContent((e) => schedule(DEBOUNCE_MS, fileOf(e.document.uri)));
  // A save may come with files changed on disk that no one reported: look at everything.
  documents.onDidSave(() => schedule(0, null));
  documents.onDidClose((e) => schedule(0, fileOf(e.document.uri)));
  connection.onDidChangeWatchedFiles(() => schedule(DEBOUNCE_MS, null));

  connection.onCodeAction((params) => {
    const file = fileOf(params.textDocument.uri);
    if (!file) return [];
    const actions: CodeAction[] = [];
    for (const f of findings.get(file) ?? []) {
      if (!f.fix || f.fix.edits.length === 0) continue;
      const r = { start: pos(f.range.start), end: pos(f.range.end) };
      const overlaps = r.start.line <= params.range.end.line && params.range.start.line <= r.end.line;
      if (!overlaps) continue;
      actions.push({
        title: `${f.fix.message} (${f.code}, ${f.fix.applicability === "safe" ? "safe fix" : "unsafe fix: may change behaviour, review it"})`,
        kind: CodeActionKind.QuickFix,
        isPreferred: f.fix.applicability === "safe",
        diagnostics: [toLsp(f)],
        edit: {
          changes: {
            [params.textDocument.uri]: f.fix.edits.map((e) => ({ range: { start: pos(e.range.start), end: pos(e.range.end) }, newText: e.content })),
          },
        },
      });
    }
    return actions;
  });

  connection.onHover((params) => {
    const file = fileOf(params.textDocument.uri);
    if (!file) return null;
    const { line, character } = params.position;
    for (const f of findings.get(file) ?? []) {
      const s = pos(f.range.start);
      const e = pos(f.range.end);
      const inside = (line > s.line || (line === s.line && character >= s.character)) && (line < e.line || (line === e.line && character <= e.character));
      if (!inside) continue;
      const rule = RULES.find((r) => r.meta.code === f.code);
      const summary = rule ? rule.meta.summary : f.message;
      const link = ruleLink(f);
      const value = [`**${f.code}** ${f.name}: ${summary}`, "", f.message, ...(link ? ["", `[${f.code} ${f.name}: rule documentation](${link})`] : [])].join("\n");
      return { contents: { kind: "markdown", value }, range: { start: s, end: e } };
    }
    return null;
  });

  // Rule codes after `# noqa:` or `# mps-lint: ignore[`: the line's findings first.
  connection.onCompletion((params) => {
    const doc = documents.get(params.textDocument.uri);
    if (!doc) return null;
    const { line, character } = params.position;
    const before = doc.getText({ start: { line, character: 0 }, end: { line, character } });
    const m = NOQA_AT_CURSOR.exec(before) ?? IGNORE_AT_CURSOR.exec(before);
    if (!m) return null;
    const listed = new Set(m[1].split(/[\s,]+/).filter(Boolean).map((c) => c.toUpperCase()));
    const typed = m[2];
    const file = fileOf(doc.uri);
    const here = new Set((file ? (findings.get(file) ?? []) : []).filter((f) => f.range.start.row <= line && line <= f.range.end.row).map((f) => f.code));
    const items: CompletionItem[] = [];
    for (const rule of RULES) {
      const { code, name, summary } = rule.meta;
      if (listed.has(code)) continue;
      items.push({
        label: code,
        kind: CompletionItemKind.Value,
        detail: here.has(code) ? `${name} (reported on this line)` : name,
        documentation: summary,
        sortText: `${here.has(code) ? 0 : 1}${code}`,
        preselect: here.has(code),
        textEdit: { range: { start: { line, character: character - typed.length }, end: { line, character } }, newText: code },
      });
    }
    return items;
  });

  let exitCode = 1;
  /** After shutdown: nothing more is published. */
  let closed = false;
  connection.onShutdown(async () => {
    exitCode = 0;
    closed = true;
    if (timer) clearTimeout(timer);
    await host.close();
  });
  documents.listen(connection);
  connection.listen();
  if (!given && transport === "stdio") {
    // The editor closed our input without shutdown and exit (it crashed or was killed): stop, as
    // the library does for the streams it opens itself (exit 1 unless shutdown came).
    process.stdin.once("end", () => void host.close().finally(() => process.exit(exitCode)));
  }
  return new Promise((resolve) => {
    connection.onExit(() => resolve(exitCode));
  });

  function toLsp(f: ReportDiagnostic): LspDiagnostic {
    const link = ruleLink(f);
    return {
      range: { start: pos(f.range.start), end: pos(f.range.end) },
      severity: SEVERITY[f.severity],
      code: f.code,
      source: "mps-lint",
      message: f.message,
      ...(link ? { codeDescription: { href: link } } : {}),
      relatedInformation: f.path.map((step, i) => ({
        location: { uri: pathToFileURL(path.resolve(root, step.file)).href, range: { start: pos(step.range.start), end: pos(step.range.start) } },
        message: i === 0 ? `thread started here: ${step.label}` : `via ${step.label}`,
      })),
      data: { fix: f.fix?.applicability ?? null },
    };
  }
}

/** The connection for a transport: stdio with its streams given (the library's own stdio exits on EOF mid-analysis); the others as the library reads them from the command line. */
function connect(transport: Transport): Connection {
  if (transport === "stdio") return createConnection(ProposedFeatures.all, new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));
  return createConnection(ProposedFeatures.all);
}
