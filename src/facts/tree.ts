// A copy of a tree-sitter tree in flat typed arrays, made in one TreeCursor pass.
//
// Why: through the Node binding every `type`, `namedChildren`, `childForFieldName`, `text` or
// `startPosition` is an N-API call that also creates and caches node objects; the extractor
// walking a tree that way cost twice as much as parsing it. A cursor pass makes three to six
// cheap calls per node. Arrays rather than a tree of JS objects: such a tree stays alive through
// the whole extraction, and the garbage collector spent as long copying it as building it took.
// PyNode, a small handle made on demand, offers the part of the SyntaxNode API the extractor
// uses, with the same answers.

import { pythonNodeTypes, type Tree } from "./parse.js";

export interface Point {
  row: number;
  column: number;
}

// Type and field names, asked of the cursor once per id (there is one language). Type ids are
// public symbols (one name each, named or not); ERROR's is 0xffff, so types are renumbered
// densely in the order first seen.
const denseType = new Uint16Array(0x10000);
const typeNames: string[] = [""];
const typeNamed: boolean[] = [false];
// From the grammar's node types: whether the cursor can put a child of this type's nodes in a
// field (half of all nodes are children of types that have no fields), and whether its nodes
// are tokens, which have no children; from the grammar, which anonymous nodes can have children
// (two: "is not", "not in"). Each spares a cursor call per node.
const typeHasFields: boolean[] = [false];
const typeIsToken: boolean[] = [false];
/** Anonymous types that may have children ("is not"); every other anonymous node is a leaf. */
const typeMayHaveChildren: boolean[] = [false];
const fieldNames: string[] = [""];
const fieldIds = new Map<string, number>();

/**
 * A keyword or punctuation leaf. The extractor asks only its type (and field: operators), so one
 * shared object per type and field stands for all of them: a third of all nodes, whose offsets
 * the cursor is then not asked for.
 */
export interface Token {
  readonly type: string;
  readonly isNamed: false;
  readonly field: string;
}
const tokens: Token[][] = [];
const TOKEN = -1;

/** The tree's nodes by number, in document order (a node's first child is the next number). */
class Mirror {
  count = 0;
  types: Uint16Array;
  fields: Uint16Array;
  /** TOKEN for keyword and punctuation leaves. */
  starts: Int32Array;
  ends: Int32Array;
  parents: Int32Array;
  /** The next sibling, or -1. */
  nexts: Int32Array;
  private lineStarts: number[] | null = null;

  constructor(
    readonly text: string,
    capacity: number,
  ) {
    this.types = new Uint16Array(capacity);
    this.fields = new Uint16Array(capacity);
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
    this.parents = new Int32Array(capacity);
    this.nexts = new Int32Array(capacity);
  }

  grow(): void {
    const more = <T extends Uint16Array | Int32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2 + 16);
      b.set(a);
      return b;
    };
    this.types = more(this.types);
    this.fields = more(this.fields);
    this.starts = more(this.starts);
    this.ends = more(this.ends);
    this.parents = more(this.parents);
    this.nexts = more(this.nexts);
  }

  /** Node `i` as a handle, or its shared token. */
  at(i: number): PyNode | Token {
    if (this.starts[i] !== TOKEN) return new PyNode(this, i);
    const t = this.types[i];
    const f = this.fields[i];
    return ((tokens[t] ??= [])[f] ??= { type: typeNames[t], isNamed: false, field: fieldNames[f] });
  }

  /** Node `i`'s first child, or -1. */
  first(i: number): number {
    return i + 1 < this.count && this.parents[i + 1] === i ? i + 1 : -1;
  }

  /**
   * The binding counts positions in UTF-16 units, as it counts offsets, and tree-sitter's lexer
   * starts a row at each "\n" only: a position is the row of the offset and its distance from
   * that row's start. Computed on demand: few nodes are asked for their position.
   */
  point(index: number): Point {
    const starts = (this.lineStarts ??= lineStarts(this.text));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return { row: lo, column: index - starts[lo] };
  }
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

/** A node: a named one, or an anonymous one with children ("is not" is two keywords). */
export class PyNode {
  constructor(
    private readonly m: Mirror,
    private readonly i: number,
  ) {}

  get type(): string {
    return typeNames[this.m.types[this.i]];
  }

  get isNamed(): boolean {
    return typeNamed[this.m.types[this.i]];
  }

  /** The field this node fills in its parent, "" for none (the cursor's currentFieldName). */
  get field(): string {
    return fieldNames[this.m.fields[this.i]];
  }

  get startIndex(): number {
    return this.m.starts[this.i];
  }

  get endIndex(): number {
    return this.m.ends[this.i];
  }

  get parent(): PyNode | null {
    const p = this.m.parents[this.i];
    return p < 0 ? null : new PyNode(this.m, p);
  }

  /** Visible children in order, extras (comments) included, as SyntaxNode.children. */
  get children(): (PyNode | Token)[] {
    const out: (PyNode | Token)[] = [];
    for (let k = this.m.first(this.i); k >= 0; k = this.m.nexts[k]) out.push(this.m.at(k));
    return out;
  }

  get namedChildren(): PyNode[] {
    const { m } = this;
    const out: PyNode[] = [];
    for (let k = m.first(this.i); k >= 0; k = m.nexts[k]) if (typeNamed[m.types[k]]) out.push(new PyNode(m, k));
    return out;
  }

  /**
   * The first child in the field, as SyntaxNode.childForFieldName (a field naming a hidden node
   * gives its first visible child, which is also the first child the cursor puts in the field);
   * null where that child is a token: only operator fields hold tokens (see fieldType). One
   * difference: tree-sitter's also finds a field of a rule aliased to a visible node among that
   * node's children (match_statement's `alternative`: the case clauses in its body block).
   */
  childForFieldName(name: string): PyNode | null {
    const k = this.fieldChild(name);
    return k >= 0 && this.m.starts[k] !== TOKEN ? new PyNode(this.m, k) : null;
  }

  /** As SyntaxNode.childrenForFieldName (itself a cursor walk over the children), nodes only. */
  childrenForFieldName(name: string): PyNode[] {
    const { m } = this;
    const f = fieldIds.get(name);
    const out: PyNode[] = [];
    if (f === undefined) return out;
    for (let k = m.first(this.i); k >= 0; k = m.nexts[k]) if (m.fields[k] === f && m.starts[k] !== TOKEN) out.push(new PyNode(m, k));
    return out;
  }

  /** The type of the first child in the field (an operator token, say), or null. */
  fieldType(name: string): string | null {
    const k = this.fieldChild(name);
    return k >= 0 ? typeNames[this.m.types[k]] : null;
  }

  private fieldChild(name: string): number {
    const { m } = this;
    // A name no tree so far had is in no node of this one either (it is fully copied).
    const f = fieldIds.get(name);
    if (f === undefined) return -1;
    for (let k = m.first(this.i); k >= 0; k = m.nexts[k]) if (m.fields[k] === f) return k;
    return -1;
  }

  /** As SyntaxNode.text: the parsed string between the offsets. */
  get text(): string {
    return this.m.text.slice(this.startIndex, this.endIndex);
  }

  get startPosition(): Point {
    return this.m.point(this.startIndex);
  }

  get endPosition(): Point {
    return this.m.point(this.endIndex);
  }
}

/**
 * Copy `tree` (parsed from `text`); returns the root. Iterative: trees can be deep. The cursor API
 * used is the same in both parser backends (src/facts/parse.ts), and so is every value read from it.
 */
export function mirrorTree(tree: Tree, text: string): PyNode {
  const c = tree.walk();
  const m = new Mirror(text, tree.rootNode.descendantCount + 1);
  let parent = -1;
  let prev = -1;
  for (;;) {
    // The cursor is on the next node in document order: a child of `parent` after `prev`.
    const id = c.nodeTypeId;
    let t = denseType[id];
    if (t === 0) {
      t = denseType[id] = typeNames.length;
      typeNames.push(c.nodeType);
      typeNamed.push(c.nodeIsNamed);
      const known = pythonNodeTypes();
      typeHasFields.push(!(typeNamed[t] && known.fieldless.has(typeNames[t])));
      typeIsToken.push(typeNamed[t] && known.tokens.has(typeNames[t]));
      typeMayHaveChildren.push(!typeNamed[t] && (known.anonymousParents?.has(typeNames[t]) ?? true));
    }
    const f = parent >= 0 && typeHasFields[m.types[parent]] ? c.currentFieldId : 0;
    if (f !== 0 && fieldNames[f] === undefined) {
      fieldNames[f] = c.currentFieldName;
      fieldIds.set(fieldNames[f], f);
    }
    if (m.count === m.types.length) m.grow();
    const k = m.count++;
    m.types[k] = t;
    m.fields[k] = f;
    m.parents[k] = parent;
    m.nexts[k] = -1;
    if (prev >= 0) m.nexts[prev] = k;
    let descend: boolean;
    if (typeNamed[t]) {
      m.starts[k] = c.startIndex;
      m.ends[k] = c.endIndex;
      descend = !typeIsToken[t] && c.gotoFirstChild();
    } else if (typeMayHaveChildren[t] && c.gotoFirstChild()) {
      c.gotoParent();
      m.starts[k] = c.startIndex;
      m.ends[k] = c.endIndex;
      descend = c.gotoFirstChild();
    } else {
      m.starts[k] = TOKEN;
      descend = false;
    }
    if (descend) {
      parent = k;
      prev = -1;
      continue;
    }
    prev = k;
    // On to the next sibling, of this node or of the nearest ancestor that has one.
    while (!c.gotoNextSibling()) {
      if (parent < 0) {
        // The wasm backend's cursor lives in WebAssembly memory until deleted (the native one has no delete).
        (c as { delete?: () => void }).delete?.();
        return new PyNode(m, 0);
      }
      c.gotoParent();
      prev = parent;
      parent = m.parents[parent];
    }
  }
}
