// `mps-lint server`: a language server over stdio (LSP, vscode-languageserver).
//
// Each lint is a whole-project run (the call graph spans files: a sync in one module is a finding
// because a thread in another reaches it), the same run as the CLI's with the open buffers' text
// in place of the files on disk (lintWorkspace in src/main.ts, then lintProject), and the facts
// cache on: unchanged files are not parsed again.
// Findings are published for open documents: the witness path (spawn site first) as
// relatedInformation, fixes as code actions titled with their safety, the rule's summary on hover.

import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  CodeActionKind,
  createConnection,
  DiagnosticSeverity,
  type Diagnostic as LspDiagnostic,
  type Connection,
  type CodeAction,
  type InitializeParams,
  ProposedFeatures,
  StreamMessageReader,
  StreamMessageWriter,
  TextDocuments,
  TextDocumentSyncKind,
} from "vscode-languageserver/node.js";
import { TextDocument } from "vscode-languageserver-textdocument";
import { lintWorkspace } from "../cli/cli-main.js";
import type { ReportDiagnostic } from "../reporters/types.js";
import { RULES } from "../../rules/index.js";

const SEVERITY = { error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, info: DiagnosticSeverity.Information };
/** Quiet time after a keystroke before a lint starts. */
const DEBOUNCE_MS = 250;

/** Rows and columns as the lint has them (0-based, UTF-16 code units): LSP's own. */
const pos = (p: { row: number; column: number }) => ({ line: p.row, character: p.column });

export function startServer(
  // Streams given explicitly: without them the library looks for --stdio among the process's arguments.
  connection: Connection = createConnection(ProposedFeatures.all, new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout)),
): Promise<number> {
  const documents = new TextDocuments(TextDocument);
  let root = process.cwd();
  /** Findings by file, of the last lint. */
  let findings = new Map<string, ReportDiagnostic[]>();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let published = new Set<string>();

  connection.onInitialize((params: InitializeParams) => {
    const folder = params.workspaceFolders?.[0]?.uri ?? params.rootUri;
    if (folder?.startsWith("file:")) root = fileURLToPath(folder);
    else if (params.rootPath) root = params.rootPath;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        hoverProvider: true,
      },
      serverInfo: { name: "mps-lint" },
    };
  });

  const fileOf = (uri: string): string | null => (uri.startsWith("file:") ? fileURLToPath(uri) : null);

  async function lintNow(): Promise<void> {
    const overrides = new Map<string, string>();
    for (const doc of documents.all()) {
      const file = fileOf(doc.uri);
      if (file && file.endsWith(".py")) overrides.set(file, doc.getText());
    }
    let out;
    try {
      // The run's own stages up to the findings (src/main.ts lintWorkspace -> lintProject).
      out = lintWorkspace({ paths: [root], cwd: root, format: "json", quiet: false, exitZero: true, color: false, overrides });
    } catch (e) {
      connection.console.error(`mps-lint: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    const next = new Map<string, ReportDiagnostic[]>();
    for (const f of out.diagnostics) {
      const list = next.get(f.file) ?? [];
      list.push(f);
      next.set(f.file, list);
    }
    findings = next;
    publish();
  }

  function publish(): void {
    const now = new Set<string>();
    for (const doc of documents.all()) {
      const file = fileOf(doc.uri);
      if (!file) continue;
      now.add(doc.uri);
      connection.sendDiagnostics({ uri: doc.uri, diagnostics: (findings.get(file) ?? []).map(toLsp) });
    }
    // A closed document's findings are cleared (the editor would otherwise keep them).
    for (const uri of published) if (!now.has(uri)) connection.sendDiagnostics({ uri, diagnostics: [] });
    published = now;
  }

  function schedule(delay: number): void {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      if (running) {
        again = true;
        return;
      }
      running = lintNow().finally(() => {
        running = null;
        if (again) {
          again = false;
          schedule(0);
        }
      });
    }, delay);
  }

  documents.onDidOpen(() => schedule(0));
  documents.onDidChangeContent(() => schedule(DEBOUNCE_MS));
  documents.onDidSave(() => schedule(0));
  documents.onDidClose(() => schedule(0));

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
      const value = [`**${f.code}** ${f.name}: ${summary}`, "", f.message, ...(f.url.startsWith("http") ? ["", `[Rule documentation](${f.url})`] : [])].join("\n");
      return { contents: { kind: "markdown", value }, range: { start: s, end: e } };
    }
    return null;
  });

  let exitCode = 1;
  connection.onShutdown(() => {
    exitCode = 0;
  });
  documents.listen(connection);
  connection.listen();
  return new Promise((resolve) => {
    connection.onExit(() => resolve(exitCode));
  });

  function toLsp(f: ReportDiagnostic): LspDiagnostic {
    return {
      range: { start: pos(f.range.start), end: pos(f.range.end) },
      severity: SEVERITY[f.severity],
      code: f.code,
      source: "mps-lint",
      message: f.message,
      ...(f.url.startsWith("http") ? { codeDescription: { href: f.url } } : {}),
      relatedInformation: f.path.map((step, i) => ({
        location: { uri: pathToFileURL(path.resolve(root, step.file)).href, range: { start: pos(step.range.start), end: pos(step.range.start) } },
        message: i === 0 ? `thread started here: ${step.label}` : `via ${step.label}`,
      })),
      data: { fix: f.fix?.applicability ?? null },
    };
  }
}
