// One tree-sitter Parser per thread, from one of two backends with the same tree API:
//
//   native  the `tree-sitter` Node addon (optional dependency: its linux-x64 prebuild needs
//           GLIBCXX_3.4.31, and without it npm compiles C++ at install, which needs a toolchain)
//   wasm    tree-sitter's official WebAssembly binding (`web-tree-sitter`) with the grammar's own
//           tree-sitter-python.wasm: plain files, nothing to compile, loads on any Node.
//
// The default is DEFAULT_BACKEND (chosen by `npm run bench:parsers`, numbers in bench/parsers.md);
// the other is the fallback when the default cannot load. MPS_LINT_PARSER=native|wasm forces one
// (no fallback then: a forced backend that cannot load is an error).
//
// WebAssembly modules load asynchronously, and the pipeline parses synchronously (workers are
// waited on with Atomics.wait), so the backend is loaded by this module's top-level await: every
// importer can parse as soon as its import resolves. Native loading is cheap (~10 ms); the wasm
// backend's first load compiles ~0.7 MB of WebAssembly.

import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);

/**
 * A file of the grammar package: next to this module first (the self-contained build,
 * `standalone/`, ships tree-sitter-python.wasm, node-types.json and grammar.json beside its code,
 * with no node_modules), else from the installed tree-sitter-python package.
 */
function grammarFile(name: string, inPackage: string): string {
  const beside = fileURLToPath(new URL(`./${name}`, import.meta.url));
  return existsSync(beside) ? beside : require.resolve(`tree-sitter-python/${inPackage}`);
}

export type ParserBackend = "native" | "wasm";
/**
 * Native where it loads, wasm the fallback. Measured on dML (1,252 files), CLI, --no-cache, three
 * alternating runs each (docs/install.md): native 13.9-14.7 s CPU, 650-657 MB peak RSS; wasm
 * 14.9-15.8 s CPU, 419-426 MB; the same findings. One file: native 0.68-1.32 s, wasm 1.64-2.81 s.
 * Speed decides (one file is what a hook or an editor lints); wasm needs a third less memory.
 */
export const DEFAULT_BACKEND: ParserBackend = "native";

export class ParserLoadError extends Error {}

// The part of the tree API both backends give, declared here rather than imported from the
// `tree-sitter` package: that package is an optional dependency (absent when its addon neither
// loads nor builds), and the build must not need it. Both backends' objects have these members
// with these meanings (test/adoption-parsers.test.ts compares their facts on every fixture).

export interface Point {
  row: number;
  column: number;
}

export interface SyntaxNode {
  /** Unique within its tree (both backends: the node's address). */
  readonly id: number;
  readonly type: string;
  readonly isNamed: boolean;
  readonly isMissing: boolean;
  readonly hasError: boolean;
  readonly text: string;
  readonly startIndex: number;
  readonly endIndex: number;
  readonly startPosition: Point;
  readonly endPosition: Point;
  readonly parent: SyntaxNode | null;
  readonly children: SyntaxNode[];
  readonly namedChildren: SyntaxNode[];
  readonly childCount: number;
  readonly namedChildCount: number;
  readonly firstChild: SyntaxNode | null;
  readonly lastChild: SyntaxNode | null;
  readonly nextSibling: SyntaxNode | null;
  readonly previousSibling: SyntaxNode | null;
  readonly nextNamedSibling: SyntaxNode | null;
  readonly previousNamedSibling: SyntaxNode | null;
  readonly descendantCount: number;
  child(index: number): SyntaxNode | null;
  namedChild(index: number): SyntaxNode | null;
  childForFieldName(name: string): SyntaxNode | null;
  childrenForFieldName(name: string): SyntaxNode[];
  descendantForPosition(start: Point, end?: Point): SyntaxNode;
  descendantsOfType(type: string | string[], start?: Point, end?: Point): SyntaxNode[];
}

export interface TreeCursor {
  readonly nodeType: string;
  readonly nodeTypeId: number;
  readonly nodeIsNamed: boolean;
  readonly currentFieldId: number;
  readonly currentFieldName: string;
  readonly startIndex: number;
  readonly endIndex: number;
  gotoFirstChild(): boolean;
  gotoNextSibling(): boolean;
  gotoParent(): boolean;
}

export interface Tree {
  readonly rootNode: SyntaxNode;
  walk(): TreeCursor;
}

/** The native addon's Parser, as far as it is used here. */
interface NativeParser {
  setLanguage(language: unknown): void;
  parse(text: string, oldTree: undefined, options: { bufferSize: number }): Tree;
}

interface Backend {
  name: ParserBackend;
  parse(text: string): Tree;
  /** A tree the caller holds past the next parse; it is freed when `owner` is collected. */
  parseKept(text: string, owner: object): Tree;
}

/** Milliseconds spent inside tree-sitter's parse in this thread (timing, src/timing.ts). */
export const parseStats = { ms: 0 };

// The native binding copies the string to tree-sitter through a buffer of this many characters.
const CHUNK = 64 * 1024;

function loadNative(): Backend {
  const Parser = require("tree-sitter") as new () => NativeParser;
  const Python = require("tree-sitter-python");
  const p = new Parser();
  p.setLanguage(Python);
  const parse = (text: string) => p.parse(text, undefined, { bufferSize: CHUNK });
  // The addon's trees are freed by the garbage collector: a kept tree needs nothing more.
  return { name: "native", parse, parseKept: parse };
}

async function loadWasm(): Promise<Backend> {
  const { Parser, Language } = await import("web-tree-sitter");
  await Parser.init();
  const python = await Language.load(readFileSync(grammarFile("tree-sitter-python.wasm", "tree-sitter-python.wasm")));
  const p = new Parser();
  p.setLanguage(python);
  // A wasm tree lives in the module's linear memory until deleted; the garbage collector does not
  // see it. Callers use one tree at a time and are done with it before parsing again (the
  // extractor copies it, src/facts/tree.ts), so the previous tree is deleted at the next parse.
  let last: { delete(): void } | null = null;
  // A kept tree is deleted once the object that holds it is collected.
  const kept = new FinalizationRegistry<{ delete(): void }>((tree) => tree.delete());
  return {
    name: "wasm",
    parse(text) {
      last?.delete();
      last = null;
      const tree = p.parse(text);
      if (!tree) throw new Error("tree-sitter (wasm) returned no tree");
      last = tree;
      return tree as unknown as Tree;
    },
    parseKept(text, owner) {
      const tree = p.parse(text);
      if (!tree) throw new Error("tree-sitter (wasm) returned no tree");
      kept.register(owner, tree);
      return tree as unknown as Tree;
    },
  };
}

function firstLine(e: unknown): string {
  return e instanceof Error ? e.message.split("\n")[0] : String(e);
}

async function loadBackend(): Promise<Backend | ParserLoadError> {
  const forced = process.env.MPS_LINT_PARSER;
  if (forced && forced !== "native" && forced !== "wasm") {
    return new ParserLoadError(`MPS_LINT_PARSER must be "native" or "wasm", not "${forced}"`);
  }
  const order: ParserBackend[] = forced ? [forced as ParserBackend] : DEFAULT_BACKEND === "native" ? ["native", "wasm"] : ["wasm", "native"];
  const why: string[] = [];
  for (const name of order) {
    try {
      return name === "native" ? loadNative() : await loadWasm();
    } catch (e) {
      why.push(`${name}: ${firstLine(e)}`);
    }
  }
  return new ParserLoadError(
    `cannot load the tree-sitter Python parser (${why.join("; ")}); ` +
      `reinstall mps-lint (the WebAssembly parser needs only the web-tree-sitter and tree-sitter-python packages)`,
  );
}

// A load failure is kept, not thrown here: commands that parse nothing still run, and the first
// parse reports it (as a ParserLoadError the CLI prints as a usage error).
const loaded = await loadBackend();

/** The backend this thread parses with, or null when none loads. */
export function parserBackend(): ParserBackend | null {
  return loaded instanceof ParserLoadError ? null : loaded.name;
}

/** Why no backend loads (every one tried, and how each failed), or null when one does. */
export function parserLoadError(): ParserLoadError | null {
  return loaded instanceof ParserLoadError ? loaded : null;
}

/** A tree valid until the next parse in this thread (the wasm backend then deletes it). */
export function parsePython(source: string): Tree {
  if (loaded instanceof ParserLoadError) throw loaded;
  const t = performance.now();
  const tree = loaded.parse(source);
  parseStats.ms += performance.now() - t;
  return tree;
}

/**
 * A tree that stays valid while `owner` lives, whatever is parsed meanwhile: for a caller that
 * holds it across other parses (the fix builders keep one per module while the analysis loads more).
 */
export function parsePythonKept(source: string, owner: object): Tree {
  if (loaded instanceof ParserLoadError) throw loaded;
  const t = performance.now();
  const tree = loaded.parseKept(source, owner);
  parseStats.ms += performance.now() - t;
  return tree;
}

/**
 * What the grammar's node-types.json says of named node types (src/facts/tree.ts asks the cursor
 * less with it). Both sets are empty when the package lacks the file; ERROR is in neither.
 */
export interface NodeTypeFacts {
  /** Types none of whose children is ever in a field (fields of hidden rules count for the visible node holding them). */
  fieldless: ReadonlySet<string>;
  /** Tokens (identifiers, numbers, comments): listed without a `fields` entry, as rules never are. They have no children. */
  tokens: ReadonlySet<string>;
  /**
   * Anonymous types that can have children: a rule aliased to an unnamed node ("is not", from
   * grammar.json); every other anonymous node is a keyword or punctuation leaf. null when the
   * grammar cannot be read (then any anonymous node may have children).
   */
  anonymousParents: ReadonlySet<string> | null;
}

interface GrammarRule {
  type?: string;
  name?: string;
  value?: unknown;
  named?: boolean;
  content?: GrammarRule;
}

/** Names of unnamed aliases whose content is a rule of the grammar that is not a token. */
function anonymousParents(grammar: { rules?: Record<string, GrammarRule> } | undefined): Set<string> | null {
  const rules = grammar?.rules;
  if (!rules || typeof rules !== "object") return null;
  const isToken = (r: GrammarRule | undefined): boolean =>
    !!r && (r.type === "STRING" || r.type === "PATTERN" || r.type === "TOKEN" || r.type === "IMMEDIATE_TOKEN");
  const out = new Set<string>();
  const stack: unknown[] = Object.values(rules);
  while (stack.length > 0) {
    const x = stack.pop();
    if (Array.isArray(x)) {
      stack.push(...x);
    } else if (x && typeof x === "object") {
      const r = x as GrammarRule;
      if (r.type === "ALIAS" && r.named === false && typeof r.value === "string") {
        // A literal or token aliased stays a leaf; a rule (or anything else) may have children.
        const c = r.content;
        const target = c?.type === "SYMBOL" && typeof c.name === "string" ? rules[c.name] : c;
        if (!isToken(target)) out.add(r.value);
      }
      stack.push(...Object.values(r));
    }
  }
  return out;
}

interface NodeTypeInfo {
  type: string;
  named: boolean;
  fields?: Record<string, unknown>;
  subtypes?: unknown[];
}

function nodeTypeFacts(info: NodeTypeInfo[] | undefined, grammar: { rules?: Record<string, GrammarRule> } | undefined): NodeTypeFacts {
  const named = Array.isArray(info) ? info.filter((t) => t.named && !t.subtypes) : [];
  return {
    fieldless: new Set(named.filter((t) => Object.keys(t.fields ?? {}).length === 0).map((t) => t.type)),
    tokens: new Set(named.filter((t) => t.fields === undefined).map((t) => t.type)),
    anonymousParents: anonymousParents(grammar),
  };
}

function readGrammarJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(grammarFile(file, `src/${file}`), "utf8")) as T;
  } catch {
    return undefined;
  }
}

let nodeTypes: NodeTypeFacts | null = null;

/** Read from the grammar package's src/node-types.json and src/grammar.json, the same files for both backends. */
export function pythonNodeTypes(): NodeTypeFacts {
  nodeTypes ??= nodeTypeFacts(readGrammarJson<NodeTypeInfo[]>("node-types.json"), readGrammarJson("grammar.json"));
  return nodeTypes;
}
