// ModuleFacts: what one tree-sitter pass over a file tells the rest of the linter.
// Plain JSON-serializable data (cached on disk, returned by worker threads). Names are already
// bound to the scope that defines them (Python's LEGB rule), so the project step never needs
// the syntax tree again.

import type { Range } from "../types.js";

/** A symbolic expression: enough structure to resolve what a name or call refers to. */
export type Expr =
  /**
   * A name, bound in `scope` (an index into ModuleFacts.scopes); -1: builtin or unbound. `at`
   * (the offset of the reference) is kept when the name is read in the scope that binds it, so
   * the binding visible at that point can be chosen (a name defined twice in one function).
   */
  | { t: "name"; name: string; scope: number; at?: number }
  | { t: "attr"; obj: Expr; attr: string }
  /** A call; `id` indexes ModuleFacts.calls. */
  | { t: "call"; id: number }
  /** A def, lambda or class defined here (an index into ModuleFacts.scopes). */
  | { t: "scope"; scope: number }
  /** What an import statement binds: module `module` (relative `level`), or its member `name`. */
  | { t: "import"; module: string; level: number; name: string | null }
  | { t: "str"; value: string }
  /** A literal number, True/False/None or `...`; `text` is its source spelling (`1`, `False`). */
  | { t: "const"; text?: string }
  /** Tuple, list or set display. */
  | { t: "seq"; items: Expr[] }
  /** An element of `of`: subscript, for-loop target, unpacking. */
  | { t: "item"; of: Expr }
  /** What `with of as x` binds x to. */
  | { t: "enter"; of: Expr }
  /** Arithmetic, conditional or boolean combination: any operand's value. */
  /** An operator; `choice` for `a or b` / `a if c else b`, whose value is one operand (no computation). */
  | { t: "op"; args: Expr[]; choice?: true }
  | { t: "await"; of: Expr }
  | { t: "unknown" };

export interface CallFact {
  fn: Expr;
  args: Expr[];
  kwargs: Record<string, Expr>;
  /** Has *args or **kwargs: positions after it are unknown. */
  star: boolean;
  range: Range;
  /** Offset where the call completes: its place in the scope's order of evaluation. */
  end: number;
  /** The scope whose body contains the call. */
  scope: number;
  /** Inside a loop or comprehension of its scope. */
  loop: boolean;
  /** Source text of enclosing `if` conditions, innermost first ("not (...)" in else branches). */
  guards: string[];
  /**
   * The same conditions as tests a constant can decide (`device == "cuda"`, `"cpu" in str(d)`,
   * `use_cuda`), parallel to `guards` (null where a condition is no such test); absent when none is.
   */
  tests?: (GuardTest | null)[];
  /** Source text of the callee, for messages. */
  callee: string;
  /** Is the call the operand of `await`. */
  awaited: boolean;
  /**
   * A call Python makes without a call in the source: a `for` loop (or comprehension) calls
   * `iter(x)`, that is `x.__iter__()` ("iter"), and the iterator's `__next__()` each round
   * ("next"). Recorded as `x.__iter__()` / `x.__iter__().__next__()` with the iterable's range;
   * only project code they run is followed (see ProjectIndex.iterableObjects).
   */
  implicit?: "iter" | "next";
}

/** A condition as a comparison of two values, or one value's truth; `negated` in else branches and under `not`. */
export interface GuardTest {
  op: "==" | "!=" | "<" | ">" | "<=" | ">=" | "in" | "not in" | "is" | "is not" | "truthy";
  left: Expr;
  right?: Expr;
  negated: boolean;
}

export interface Binding {
  name: string;
  value: Expr;
  end: number;
  range: Range;
  /** Inside a loop or comprehension of its scope. */
  loop: boolean;
}

/**
 * A subtraction `left - right` (`time.perf_counter() - t0`, `t1 - t0`): how a clock read is
 * used as the end of an interval.
 */
export interface SubtractionFact {
  left: Expr;
  right: Expr;
  end: number;
  /** An operand of a comparison (`time.time() - t > limit`): a deadline check, not a measurement. */
  compared: boolean;
}

/** `obj.attr = value` (self.x = ... in methods; module attributes). */
export interface AttrStore {
  obj: Expr;
  attr: string;
  value: Expr;
  end: number;
  /** Stored into an element (`obj.attr[key] = value`), not the attribute itself. */
  element?: boolean;
  /** The annotation of `self.x: T = value` (a plain or dotted name, unwrapped from Optional). */
  type?: Expr;
}

export interface ReturnFact {
  value: Expr;
  end: number;
  range: Range;
}

export interface ScopeFact {
  kind: "module" | "function" | "class";
  name: string;
  /** Dotted path inside the module: "Runner.step", "main.worker", "<lambda>@12". */
  qualname: string;
  parent: number;
  range: Range;
  nameRange: Range;
  isAsync: boolean;
  isLambda: boolean;
  params: string[];
  /**
   * Annotations of the parameters that are plain or dotted names (`tasks: BackgroundTasks`), by
   * position in `params`; absent where none is.
   */
  paramTypes?: (Expr | null)[];
  decorators: Expr[];
  /** Base classes (class scopes). */
  bases: Expr[];
  bindings: Binding[];
  attrStores: AttrStore[];
  returns: ReturnFact[];
  /** Subtractions evaluated in the scope, in source order. */
  subtractions: SubtractionFact[];
  isGenerator: boolean;
  /** Modules of `from m import *` (module scope). */
  starImports: { module: string; level: number }[];
  /**
   * Names annotated in a class body, in order (`fn: Callable`, `n: int = 0`): a dataclass's or
   * NamedTuple's fields, whose order gives the constructor's positions; with the annotation when
   * it is a plain or dotted name (unwrapped from `Optional[...]` / `X | None`). Class scopes only;
   * absent where none is.
   */
  fields?: { name: string; type: Expr | null }[];
  /**
   * `if`/`elif`/`while` conditions that are tests (GuardTest), where Python reads their truth:
   * testing a device tensor (`if next_token == eos:`) copies it to the host and waits. With the
   * conditions the test itself runs under (as CallFact.guards/tests); absent where none is.
   */
  truthTests?: { test: GuardTest; end: number; row: number; loop: boolean; guards: string[]; tests?: (GuardTest | null)[] }[];
}

export interface CommentFact {
  row: number;
  column: number;
  text: string;
}

export interface SyntaxErrorFact {
  range: Range;
  /** e.g. "missing `)`", "cannot parse `x = = 2`" */
  message: string;
}

export interface ModuleFacts {
  /** Bumped whenever the shape or meaning of facts changes (cache key). */
  version: number;
  file: string;
  /** Scope 0 is the module. */
  scopes: ScopeFact[];
  calls: CallFact[];
  /** Comments that carry directives (noqa, mps-lint:, expect:). */
  comments: CommentFact[];
  /** Where tree-sitter could not parse (first error of each region), with a short message. */
  syntaxErrors: SyntaxErrorFact[];
  /** The file names an accelerator: "mps"/"cuda"/"xpu" strings, .cuda(), torch.mps... */
  mentionsAccelerator: boolean;
  /** Accelerator names that appear in string literals or APIs ("mps", "cuda", "xpu"). */
  accelerators: string[];
  lineCount: number;
}

export const FACTS_VERSION = 12;
