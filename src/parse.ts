// One tree-sitter Parser per thread, loaded on first use so that commands which parse nothing
// (--help, rule docs) start fast.

import { createRequire } from "node:module";
import type ParserType from "tree-sitter";

const require = createRequire(import.meta.url);

let parser: ParserType | null = null;
let nodeTypes: NodeTypeFacts | null = null;

export class ParserLoadError extends Error {}

function load(): ParserType {
  try {
    const Parser = require("tree-sitter") as typeof ParserType;
    const Python = require("tree-sitter-python");
    const p = new Parser();
    p.setLanguage(Python);
    nodeTypes = nodeTypeFacts(Python.nodeTypeInfo);
    return p;
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new ParserLoadError(
      `cannot load the tree-sitter Python parser (${why}); ` +
        `run \`npm rebuild tree-sitter tree-sitter-python\` to build it for this machine`,
    );
  }
}

// The binding copies the string to tree-sitter through a buffer of this many characters.
const CHUNK = 64 * 1024;

/** Milliseconds spent inside tree-sitter's parse in this thread (timing, src/timing.ts). */
export const parseStats = { ms: 0 };

export function parsePython(source: string): ParserType.Tree {
  parser ??= load();
  const t = performance.now();
  const tree = parser.parse(source, undefined, { bufferSize: CHUNK });
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
}

interface NodeTypeInfo {
  type: string;
  named: boolean;
  fields?: Record<string, unknown>;
  subtypes?: unknown[];
}

function nodeTypeFacts(info: NodeTypeInfo[] | undefined): NodeTypeFacts {
  const named = Array.isArray(info) ? info.filter((t) => t.named && !t.subtypes) : [];
  return {
    fieldless: new Set(named.filter((t) => Object.keys(t.fields ?? {}).length === 0).map((t) => t.type)),
    tokens: new Set(named.filter((t) => t.fields === undefined).map((t) => t.type)),
  };
}

export function pythonNodeTypes(): NodeTypeFacts {
  parser ??= load();
  return nodeTypes!;
}

export type SyntaxNode = ParserType.SyntaxNode;
export type Tree = ParserType.Tree;
