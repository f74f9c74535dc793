// Shared data types. Everything here is plain data: ModuleFacts are cached and sent between
// worker threads, Diagnostics are serialized by every reporter.

/** 0-based row and UTF-16 column, as tree-sitter reports them. Reporters convert to 1-based. */
export interface Position {
  row: number;
  column: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export type Severity = "error" | "warning" | "info";

/** One hop of a witness path: how a worker thread gets to the finding. */
export interface PathStep {
  file: string;
  range: Range;
  /** e.g. "Thread(target=worker)", "worker", "run_batch" */
  label: string;
  /** The call was dispatched to a subclass override for a receiver whose class is not known. */
  unknownReceiver?: boolean;
}

export interface TextEdit {
  range: Range;
  /** Byte-independent offsets into the source (UTF-16), used to apply the edit. */
  startOffset: number;
  endOffset: number;
  content: string;
}

export interface Fix {
  applicability: "safe" | "unsafe";
  message: string;
  edits: TextEdit[];
}

/** A line of a source file, as message data: reporters render it for the reader (src/reporters/message.ts). */
export interface SourceLine {
  file: string;
  /** 0-based. */
  row: number;
}

/**
 * Values for a message template's `{{placeholders}}`. Text and numbers are inserted as they are;
 * a SourceLine becomes "line 12" in the finding's own file, "pkg/handler.py:387" in another
 * (relative to the working folder), "cell 3, line 2" in a notebook. `{{witness}}` is reserved:
 * the finding's `path`, rendered the same way.
 */
export type MessageData = Record<string, string | number | SourceLine>;

export interface Diagnostic {
  code: string;
  name: string;
  severity: Severity;
  /** A key of the rule's `meta.messages`: the template of this finding's text. */
  messageId: string;
  data: MessageData;
  file: string;
  range: Range;
  /** Spawn site first, then each call hop; empty for findings that need no thread. */
  path: PathStep[];
  fix: Fix | null;
  url: string;
  /** Extra data reporters may show (e.g. verify measurements). */
  properties?: Record<string, unknown>;
}

/** A suppression comment of a file (src/suppress/suppress.ts parses them; MPS100 reads them). */
export interface Directive {
  /** "noqa" (flake8/Ruff form), "ignore" (mps-lint: ignore), "file" (file level). */
  kind: "noqa" | "ignore" | "file";
  /** Codes named, upper case; null: every code. */
  codes: string[] | null;
  /** Rows (0-based) the directive covers; empty for file level. */
  rows: number[];
  /** The comment, for messages and MPS100 locations. */
  row: number;
  column: number;
  text: string;
}
