// The shapes a cache entry must have before anything of it is used (src/facts/cache.ts). The
// cache folder is input like any other: another build, a crash, a disk error or a person may have
// written anything there, and a facts or results entry of the wrong shape would otherwise fail
// deep inside the analysis or a reporter ("e is not iterable"). Each check returns null when the
// value is good, else the first thing wrong, for the warning.

import { FACTS_VERSION } from "./model.js";

type Why = string | null;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isNat = (v: unknown): v is number => isInt(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === "string";
const isBool = (v: unknown): v is boolean => typeof v === "boolean";

function position(v: unknown): boolean {
  return isObj(v) && isNat(v.row) && isNat(v.column);
}

function range(v: unknown): boolean {
  return isObj(v) && position(v.start) && position(v.end);
}

function every<T>(v: unknown, item: (x: unknown) => T | boolean): boolean {
  if (!Array.isArray(v)) return false;
  for (const x of v) if (!item(x)) return false;
  return true;
}

// ---- ModuleFacts (src/facts/model.ts) --------------------------------------------------------------

/** Sizes of the module's tables, for the indices facts hold into them. */
let nScopes = 0;
let nCalls = 0;

/** An Expr; `depth` bounds the walk (extraction cuts nesting off at 300). */
function expr(v: unknown, depth = 0): boolean {
  if (!isObj(v) || depth > 2000) return false;
  switch (v.t) {
    case "name":
      return isStr(v.name) && isInt(v.scope) && v.scope >= -1 && v.scope < nScopes && (v.at === undefined || isNat(v.at));
    case "attr":
      return isStr(v.attr) && expr(v.obj, depth + 1);
    case "call":
      return isNat(v.id) && v.id < nCalls;
    case "scope":
      return isNat(v.scope) && v.scope < nScopes;
    case "import":
      return isStr(v.module) && isNat(v.level) && (v.name === null || isStr(v.name));
    case "str":
      return isStr(v.value);
    case "const":
      return v.text === undefined || isStr(v.text);
    case "seq":
      return every(v.items, (x) => expr(x, depth + 1));
    case "item":
    case "enter":
    case "await":
      return expr(v.of, depth + 1);
    case "op":
      return every(v.args, (x) => expr(x, depth + 1)) && (v.choice === undefined || v.choice === true);
    case "unknown":
      return true;
    default:
      return false;
  }
}

function call(v: unknown): boolean {
  if (!isObj(v)) return false;
  if (!expr(v.fn) || !every(v.args, (x) => expr(x)) || !isObj(v.kwargs)) return false;
  for (const k in v.kwargs) if (!expr(v.kwargs[k])) return false;
  return isBool(v.star) && range(v.range) && isNat(v.end) && isNat(v.scope) && isBool(v.loop) && every(v.guards, isStr) && isStr(v.callee) && isBool(v.awaited);
}

function scope(v: unknown, scopes: number): Why {
  if (!isObj(v)) return "a scope is not an object";
  if (v.kind !== "module" && v.kind !== "function" && v.kind !== "class") return "a scope has no kind";
  if (!isStr(v.name) || !isStr(v.qualname) || !isInt(v.parent) || v.parent < -1 || v.parent >= scopes || !range(v.range) || !range(v.nameRange)) return "a scope's name, parent or range";
  if (!isBool(v.isAsync) || !isBool(v.isLambda) || !isBool(v.isGenerator) || !every(v.params, isStr)) return "a scope's flags or parameters";
  if (v.paramTypes !== undefined && !every(v.paramTypes, (x) => x === null || expr(x))) return "a scope's parameter types";
  if (!every(v.decorators, (x) => expr(x)) || !every(v.bases, (x) => expr(x))) return "a scope's decorators or bases";
  if (!every(v.bindings, (b) => isObj(b) && isStr(b.name) && expr(b.value) && isNat(b.end) && range(b.range) && isBool(b.loop))) return "a binding";
  if (!every(v.attrStores, (a) => isObj(a) && expr(a.obj) && isStr(a.attr) && expr(a.value) && isNat(a.end) && (a.element === undefined || isBool(a.element)))) {
    return "an attribute store";
  }
  if (!every(v.returns, (r) => isObj(r) && expr(r.value) && isNat(r.end) && range(r.range))) return "a return";
  if (!every(v.subtractions, (s) => isObj(s) && expr(s.left) && expr(s.right) && isNat(s.end) && isBool(s.compared))) return "a subtraction";
  if (!every(v.starImports, (s) => isObj(s) && isStr(s.module) && isNat(s.level))) return "a star import";
  return null;
}

/** Is `v` the ModuleFacts of `file` (this build's FACTS_VERSION)? */
export function checkFacts(v: unknown, file: string): Why {
  if (!isObj(v)) return "not an object";
  if (v.version !== FACTS_VERSION) return `facts version ${String(v.version)}, not ${FACTS_VERSION}`;
  if (v.file !== file) return "facts of another file";
  if (!Array.isArray(v.scopes) || v.scopes.length === 0) return "no scopes";
  if (!Array.isArray(v.calls)) return "no calls";
  if (!isObj(v.scopes[0]) || v.scopes[0].kind !== "module") return "scope 0 is not the module";
  nScopes = v.scopes.length;
  nCalls = v.calls.length;
  for (const s of v.scopes) {
    const why = scope(s, v.scopes.length);
    if (why) return why;
  }
  for (const c of v.calls) if (!call(c) || (c as { scope: number }).scope >= v.scopes.length) return "a call";
  if (!every(v.comments, (c) => isObj(c) && isNat(c.row) && isNat(c.column) && isStr(c.text))) return "a comment";
  if (!every(v.syntaxErrors, (e) => isObj(e) && range(e.range) && isStr(e.message))) return "a syntax error";
  if (!isBool(v.mentionsAccelerator) || !every(v.accelerators, isStr) || !isNat(v.lineCount)) return "the module's flags";
  return null;
}

// ---- A whole run's results (src/engine/engine.ts, CachedResult) ----------------------------------

function messageData(v: unknown): boolean {
  if (!isObj(v)) return false;
  for (const k in v) {
    const x = v[k];
    if (!isStr(x) && typeof x !== "number" && !(isObj(x) && isStr(x.file) && isNat(x.row))) return false;
  }
  return true;
}

function edit(v: unknown): boolean {
  return isObj(v) && range(v.range) && isNat(v.startOffset) && isNat(v.endOffset) && v.startOffset <= v.endOffset && isStr(v.content);
}

function fix(v: unknown): boolean {
  return v === null || (isObj(v) && (v.applicability === "safe" || v.applicability === "unsafe") && isStr(v.message) && every(v.edits, edit));
}

/** A Diagnostic (src/types.ts) about one of `files`. */
function diagnostic(v: unknown, files: ReadonlySet<string>): Why {
  if (!isObj(v)) return "a finding is not an object";
  if (!isStr(v.code) || !isStr(v.name) || !isStr(v.messageId) || !isStr(v.url)) return "a finding's code, name or message";
  if (v.severity !== "error" && v.severity !== "warning" && v.severity !== "info") return "a finding's severity";
  if (!messageData(v.data)) return "a finding's message data";
  if (!isStr(v.file) || !files.has(v.file)) return "a finding in a file this run does not lint";
  if (!range(v.range)) return "a finding's range";
  if (!every(v.path, (p) => isObj(p) && isStr(p.file) && range(p.range) && isStr(p.label) && (p.unknownReceiver === undefined || isBool(p.unknownReceiver)))) return "a finding's path";
  if (!fix(v.fix)) return "a finding's fix";
  if (v.properties !== undefined && !isObj(v.properties)) return "a finding's properties";
  return null;
}

/** Is `v` a results entry for a run over `files` (in this order)? */
export function checkResults(v: unknown, files: readonly string[]): Why {
  if (!isObj(v)) return "not an object";
  if (!Array.isArray(v.diagnostics)) return "no findings list";
  if (!isNat(v.analyzed) || v.analyzed > files.length || !isNat(v.demandLoaded) || v.demandLoaded > files.length) return "its file counts";
  if (!every(v.commentFiles, (i) => isNat(i) && i < files.length)) return "its list of files with comments";
  if (!every(v.read, (r) => Array.isArray(r) && r.length === 2 && isNat(r[0]) && r[0] < files.length && isStr(r[1]) && /^[0-9a-f]{40}$/.test(r[1]))) {
    return "its list of the files the analysis read";
  }
  const set = new Set(files);
  for (const d of v.diagnostics) {
    const why = diagnostic(d, set);
    if (why) return why;
  }
  return null;
}

// ---- The manifest (src/facts/cache.ts, ManifestEntry) --------------------------------------------

const HEX40 = /^[0-9a-f]{40}$/;

/** [mtimeMs, size, ino, sha1, relevant, decode warning, ctimeMs] */
export function checkManifestEntry(v: unknown): boolean {
  return (
    Array.isArray(v) &&
    v.length === 7 &&
    typeof v[0] === "number" &&
    isNat(v[1]) &&
    typeof v[2] === "number" &&
    isStr(v[3]) &&
    HEX40.test(v[3]) &&
    (v[4] === 0 || v[4] === 1) &&
    (v[5] === null || isStr(v[5])) &&
    typeof v[6] === "number"
  );
}
