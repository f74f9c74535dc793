// One pass over a tree-sitter tree -> ModuleFacts.
//
// Scopes follow Python: module, class and function (def and lambda) scopes; a name is local to
// the function that assigns it unless declared global/nonlocal; class bodies are not visible
// from their methods. Comprehension variables are treated as locals of the enclosing scope.
// Deeply nested code is cut off at MAX_DEPTH (real Python rejects far less nesting).

import { parsePython, type SyntaxNode, type Tree } from "./parse.js";
import type { Range } from "../types.js";
import {
  FACTS_VERSION,
  type CallFact,
  type CommentFact,
  type Expr,
  type GuardTest,
  type ModuleFacts,
  type ScopeFact,
  type SyntaxErrorFact,
} from "./model.js";

/** Nodes between a subtraction and a comparison that still compare the difference (see binary_operator). */
const DEADLINE_WRAPPERS = new Set(["parenthesized_expression", "binary_operator", "unary_operator", "keyword_argument", "argument_list", "call"]);
import { mirrorTree, type Point, type PyNode } from "./tree.js";

const MAX_DEPTH = 300;
const MAX_SYNTAX_ERRORS = 50;
const MAX_REPAIR_PASSES = 10;
const DIRECTIVE = /noqa|mps-lint|expect/i;
const ACCELERATOR_STRING = /^(mps|cuda|xpu)(:\d+)?$/;
const ACCELERATOR_ATTR = new Set(["mps", "cuda", "xpu"]);

export function rangeOf(n: { startPosition: Point; endPosition: Point }): Range {
  const start = n.startPosition;
  const end = n.endPosition;
  return { start: { row: start.row, column: start.column }, end: { row: end.row, column: end.column } };
}

interface ScopeState {
  fact: ScopeFact;
  locals: Set<string>;
  globals: Set<string>;
  nonlocals: Set<string>;
}

interface Ctx {
  scope: number;
  loop: boolean;
  guards: string[];
  /** Parallel to guards: each condition as a test, when it is one. */
  tests?: (GuardTest | null)[];
  awaited: boolean;
}

class Extractor {
  readonly scopes: ScopeState[] = [];
  readonly calls: CallFact[] = [];
  readonly accelerators = new Set<string>();
  /** Name expressions to bind once all scopes are known, with the scope they occur in. */
  private readonly pendingNames: { e: Extract<Expr, { t: "name" }>; from: number; at: number }[] = [];

  constructor(private readonly source: string) {}

  run(root: PyNode): void {
    const mod = this.newScope("module", "<module>", -1, root, root, false, false);
    this.block(root, { scope: mod, loop: false, guards: [], awaited: false }, 0);
    for (const { e, from, at } of this.pendingNames) {
      e.scope = this.resolve(e.name, from);
      if (e.scope === from && e.scope >= 0) e.at = at;
    }
  }

  private newScope(
    kind: ScopeFact["kind"],
    name: string,
    parent: number,
    node: PyNode,
    nameNode: PyNode,
    isAsync: boolean,
    isLambda: boolean,
  ): number {
    const parentQual = parent >= 0 && parent !== 0 ? this.scopes[parent].fact.qualname + "." : "";
    const fact: ScopeFact = {
      kind,
      name,
      qualname: kind === "module" ? "" : parentQual + name,
      parent,
      range: rangeOf(node),
      nameRange: rangeOf(nameNode),
      isAsync,
      isLambda,
      params: [],
      decorators: [],
      bases: [],
      bindings: [],
      attrStores: [],
      returns: [],
      subtractions: [],
      isGenerator: false,
      starImports: [],
    };
    this.scopes.push({ fact, locals: new Set(), globals: new Set(), nonlocals: new Set() });
    return this.scopes.length - 1;
  }

  /** LEGB lookup from the scope a name occurs in. */
  private resolve(name: string, from: number): number {
    let s = from;
    const start = this.scopes[from];
    if (start.globals.has(name)) return 0;
    let first = true;
    while (s >= 0) {
      const st = this.scopes[s];
      const visible = first || st.fact.kind !== "class";
      if (visible && !(first && st.nonlocals.has(name)) && st.locals.has(name)) return s;
      if (s === 0) return st.fact.starImports.length > 0 ? 0 : -1;
      first = false;
      s = st.fact.parent;
    }
    return -1;
  }

  /** End of the assignment statement being bound: its targets take effect after the value. */
  private statementEnd: number | null = null;

  private bind(scope: number, name: string, value: Expr, at: PyNode, loop = false): void {
    let target = scope;
    const st = this.scopes[scope];
    if (st.globals.has(name)) target = 0;
    this.scopes[target].locals.add(name);
    const end = this.statementEnd ?? at.endIndex;
    this.scopes[target].fact.bindings.push({ name, value, end, range: rangeOf(at), loop: loop && target === scope });
  }

  private text(n: PyNode, max = 120): string {
    const t = this.source.slice(n.startIndex, Math.min(n.endIndex, n.startIndex + max));
    return t.replace(/\s+/g, " ");
  }

  // ---- statements -------------------------------------------------------------------------

  private block(node: PyNode, ctx: Ctx, depth: number): void {
    if (depth > MAX_DEPTH) return;
    for (const child of node.namedChildren) this.statement(child, ctx, depth + 1);
  }

  private statement(n: PyNode, ctx: Ctx, depth: number): void {
    if (depth > MAX_DEPTH) return;
    switch (n.type) {
      case "expression_statement":
        for (const c of n.namedChildren) this.exprStatement(c, ctx, depth);
        return;
      case "function_definition":
        this.functionDef(n, ctx, [], depth);
        return;
      case "class_definition":
        this.classDef(n, ctx, [], depth);
        return;
      case "decorated_definition": {
        const def = n.childForFieldName("definition");
        const decos = n.namedChildren
          .filter((c) => c.type === "decorator")
          .map((d) => (d.namedChildren[0] ? this.expr(d.namedChildren[0], ctx, depth) : ({ t: "unknown" } as Expr)));
        if (def?.type === "function_definition") this.functionDef(def, ctx, decos, depth);
        else if (def?.type === "class_definition") this.classDef(def, ctx, decos, depth);
        return;
      }
      case "return_statement": {
        const v = n.namedChildren[0];
        const value = v ? this.expr(v, ctx, depth) : ({ t: "const" } as Expr);
        this.scopes[ctx.scope].fact.returns.push({ value, end: n.endIndex, range: rangeOf(n) });
        return;
      }
      case "import_statement":
        this.importStatement(n, ctx);
        return;
      case "import_from_statement":
        this.importFrom(n, ctx);
        return;
      case "future_import_statement":
        return;
      case "global_statement":
        for (const c of n.namedChildren) if (c.type === "identifier") this.scopes[ctx.scope].globals.add(c.text);
        return;
      case "nonlocal_statement":
        for (const c of n.namedChildren) if (c.type === "identifier") this.scopes[ctx.scope].nonlocals.add(c.text);
        return;
      case "if_statement":
        this.ifStatement(n, ctx, depth);
        return;
      case "for_statement": {
        const right = n.childForFieldName("right");
        const iter = right ? this.expr(right, ctx, depth) : ({ t: "unknown" } as Expr);
        const left = n.childForFieldName("left");
        const inner = { ...ctx, loop: true };
        if (right && n.children[0]?.type !== "async") this.iteration(iter, right, ctx);
        if (left) this.bindTarget(left, { t: "item", of: iter }, inner, depth);
        const body = n.childForFieldName("body");
        if (body) this.block(body, inner, depth);
        const alt = n.childForFieldName("alternative");
        if (alt) this.block(alt, ctx, depth);
        return;
      }
      case "while_statement": {
        const cond = n.childForFieldName("condition");
        const inner = { ...ctx, loop: true };
        if (cond) this.condition(cond, inner, depth);
        const body = n.childForFieldName("body");
        if (body) this.block(body, inner, depth);
        const alt = n.childForFieldName("alternative");
        if (alt) this.block(alt, ctx, depth);
        return;
      }
      case "with_statement":
        this.withStatement(n, ctx, depth);
        return;
      case "try_statement":
        for (const c of n.namedChildren) {
          if (c.type === "block") this.block(c, ctx, depth);
          else if (c.type === "except_clause" || c.type === "except_group_clause") {
            for (const cc of c.namedChildren) {
              if (cc.type === "block") this.block(cc, ctx, depth);
              else if (cc.type === "as_pattern") {
                const alias = cc.childForFieldName("alias");
                const id = alias?.namedChildren[0] ?? alias;
                if (id?.type === "identifier") this.bind(ctx.scope, id.text, { t: "unknown" }, id);
              }
            }
          } else if (c.type === "else_clause" || c.type === "finally_clause") {
            for (const cc of c.namedChildren) if (cc.type === "block") this.block(cc, ctx, depth);
          }
        }
        return;
      case "match_statement":
      case "block":
      case "else_clause":
      case "case_clause":
        for (const c of n.namedChildren) {
          if (c.type === "block") this.block(c, ctx, depth);
          else if (c.type.endsWith("statement") || c.type === "case_clause") this.statement(c, ctx, depth + 1);
          else this.expr(c, ctx, depth);
        }
        return;
      case "delete_statement":
      case "assert_statement":
      case "raise_statement":
      case "print_statement":
      case "exec_statement":
        for (const c of n.namedChildren) this.expr(c, ctx, depth);
        return;
      case "ERROR":
        for (const c of n.namedChildren) this.statement(c, ctx, depth + 1);
        return;
      case "comment":
      case "pass_statement":
      case "break_statement":
      case "continue_statement":
        return;
      default:
        // Type aliases and anything newer: still record the calls inside.
        for (const c of n.namedChildren) this.expr(c, ctx, depth);
    }
  }

  private exprStatement(n: PyNode, ctx: Ctx, depth: number): void {
    if (n.type === "assignment") {
      this.assignment(n, ctx, depth);
      return;
    }
    if (n.type === "augmented_assignment") {
      const right = n.childForFieldName("right");
      if (right) this.expr(right, ctx, depth);
      const left = n.childForFieldName("left");
      if (left) this.expr(left, ctx, depth);
      return;
    }
    this.expr(n, ctx, depth);
  }

  private assignment(n: PyNode, ctx: Ctx, depth: number): void {
    const annotated = n.childForFieldName("type");
    const target = n.childForFieldName("left");
    const scopeFact = this.scopes[ctx.scope].fact;
    if (annotated && target?.type === "identifier" && scopeFact.kind === "class") {
      (scopeFact.fields ??= []).push({ name: target.text, type: this.annotation(annotated, ctx, depth) });
    }
    const right = n.childForFieldName("right");
    let value: Expr = { t: "unknown" };
    if (right) {
      value = right.type === "assignment" ? this.chainedAssignment(right, ctx, depth) : this.expr(right, ctx, depth);
    }
    const left = n.childForFieldName("left");
    if (left && right) {
      const outer = this.statementEnd;
      this.statementEnd = n.endIndex;
      const stores = scopeFact.attrStores.length;
      this.bindTarget(left, value, ctx, depth);
      this.statementEnd = outer;
      // `self.transport: Transport = transport`: the attribute's declared class.
      if (annotated && left.type === "attribute" && scopeFact.attrStores.length === stores + 1) {
        const type = this.annotation(annotated, ctx, depth);
        if (type) scopeFact.attrStores[stores].type = type;
      }
    } else if (left && n.childForFieldName("type")) {
      // Annotation only: `x: int` declares a local without a value.
      if (left.type === "identifier") this.scopes[ctx.scope].locals.add(left.text);
    }
  }

  /**
   * A type annotation as a name or dotted name (`Transport`, `mod.Transport`, `"Transport"`),
   * unwrapped from `Optional[X]` and `X | None`; null for anything else. Names only: reading it
   * records no call.
   */
  private annotation(node: PyNode, ctx: Ctx, depth: number): Expr | null {
    let n: PyNode | null | undefined = node.type === "type" ? node.namedChildren[0] : node;
    for (let i = 0; n && i < 4; i++) {
      if (n.type === "identifier" || n.type === "attribute") return this.dottedName(n, ctx);
      if (n.type === "string") {
        const text = n.namedChildren.filter((c) => c.type === "string_content").map((c) => c.text).join("").trim();
        return /^[A-Za-z_]\w*$/.test(text) ? this.nameExpr(text, ctx, n.startIndex) : null;
      }
      if (n.type === "subscript" && /^(typing\.)?Optional$/.test(n.childForFieldName("value")?.text ?? "")) {
        n = n.childrenForFieldName("subscript")[0];
        continue;
      }
      if (n.type === "binary_operator" && n.fieldType("operator") === "|") {
        const l = n.childForFieldName("left");
        const r = n.childForFieldName("right");
        n = r?.type === "none" ? l : l?.type === "none" ? r : null;
        continue;
      }
      if (n.type === "generic_type") {
        // Optional[X]: X; any other generic (list[int], Callable[..., T]) names no class of its value.
        if (!/^(typing\.)?Optional$/.test(n.namedChildren[0]?.text ?? "")) return null;
        n = n.namedChildren.find((c) => c.type === "type_parameter")?.namedChildren[0];
        continue;
      }
      if (n.type === "type") {
        n = n.namedChildren[0];
        continue;
      }
      return null;
    }
    void depth;
    return null;
  }

  /** `a` or `a.b.c` as an Expr, without recording anything else. */
  private dottedName(n: PyNode, ctx: Ctx): Expr | null {
    if (n.type === "identifier") return this.nameExpr(n.text, ctx, n.startIndex);
    if (n.type !== "attribute") return null;
    const obj = n.childForFieldName("object");
    const attr = n.childForFieldName("attribute");
    const o = obj ? this.dottedName(obj, ctx) : null;
    return o && attr ? { t: "attr", obj: o, attr: attr.text } : null;
  }

  /** a = b = value: bind every target to the innermost value. */
  private chainedAssignment(n: PyNode, ctx: Ctx, depth: number): Expr {
    const right = n.childForFieldName("right");
    const value = right
      ? right.type === "assignment"
        ? this.chainedAssignment(right, ctx, depth + 1)
        : this.expr(right, ctx, depth)
      : ({ t: "unknown" } as Expr);
    const left = n.childForFieldName("left");
    if (left) this.bindTarget(left, value, ctx, depth);
    return value;
  }

  private bindTarget(target: PyNode, value: Expr, ctx: Ctx, depth: number): void {
    switch (target.type) {
      case "identifier":
        this.bind(ctx.scope, target.text, value, target, ctx.loop);
        return;
      case "pattern_list":
      case "tuple_pattern":
      case "list_pattern":
      case "tuple":
      case "list":
      case "parenthesized_expression":
        for (const c of target.namedChildren) this.bindTarget(c, { t: "item", of: value }, ctx, depth);
        return;
      case "list_splat_pattern":
      case "list_splat":
        for (const c of target.namedChildren) this.bindTarget(c, { t: "unknown" }, ctx, depth);
        return;
      case "attribute": {
        const obj = target.childForFieldName("object");
        const attr = target.childForFieldName("attribute");
        if (obj && attr) {
          const o = this.expr(obj, ctx, depth);
          this.scopes[ctx.scope].fact.attrStores.push({ obj: o, attr: attr.text, value, end: target.endIndex });
        }
        return;
      }
      case "subscript": {
        const obj = target.childForFieldName("value");
        const o = obj ? this.expr(obj, ctx, depth) : null;
        for (const c of target.namedChildren.slice(1)) this.expr(c, ctx, depth);
        // self.models["cfm"] = model: an element of the attribute's container (elements stand for it).
        if (o?.t === "attr") this.scopes[ctx.scope].fact.attrStores.push({ obj: o.obj, attr: o.attr, value, end: target.endIndex, element: true });
        return;
      }
      default:
        this.expr(target, ctx, depth);
    }
  }

  private ifStatement(n: PyNode, ctx: Ctx, depth: number): void {
    const cond = n.childForFieldName("condition");
    const condText = cond ? this.text(cond) : "";
    const test = cond ? this.condition(cond, ctx, depth) : null;
    const tests = ctx.tests ?? ctx.guards.map(() => null);
    const body = n.childForFieldName("consequence");
    if (body) this.block(body, { ...ctx, guards: [condText, ...ctx.guards], tests: [test, ...tests] }, depth);
    const negated: string[] = [`not (${condText})`];
    const negatedTests: (GuardTest | null)[] = [test && { ...test, negated: !test.negated }];
    for (const alt of n.childrenForFieldName("alternative")) {
      if (alt.type === "elif_clause") {
        const c = alt.childForFieldName("condition");
        const t = c ? this.text(c) : "";
        const ct = c ? this.condition(c, ctx, depth) : null;
        const b = alt.childForFieldName("consequence");
        if (b) this.block(b, { ...ctx, guards: [t, ...negated, ...ctx.guards], tests: [ct, ...negatedTests, ...tests] }, depth);
        negated.push(`not (${t})`);
        negatedTests.push(ct && { ...ct, negated: !ct.negated });
      } else {
        const b = alt.childForFieldName("body");
        if (b) this.block(b, { ...ctx, guards: [...negated, ...ctx.guards], tests: [...negatedTests, ...tests] }, depth);
      }
    }
  }

  /**
   * Evaluate an `if` condition (recording its calls once) and return it as a test a constant may
   * decide: a comparison of two operands, a value's truth, either under `not`; null otherwise.
   */
  private condition(cond: PyNode, ctx: Ctx, depth: number): GuardTest | null {
    let node = cond;
    let negated = false;
    while ((node.type === "not_operator" || node.type === "parenthesized_expression") && node.namedChildren.length === 1) {
      if (node.type === "not_operator") negated = !negated;
      node = node.namedChildren[0];
    }
    if (node.type === "comparison_operator" && node.namedChildren.length === 2) {
      const opNode = node.children.find((c) => !c.isNamed);
      const op = opNode?.type;
      const [l, r] = node.namedChildren;
      const left = this.expr(l, ctx, depth);
      const right = this.expr(r, ctx, depth);
      if (op === "==" || op === "!=" || op === "<" || op === ">" || op === "<=" || op === ">=" || op === "in" || op === "not in" || op === "is" || op === "is not") {
        return this.truthTest({ op, left, right, negated }, cond, ctx);
      }
      return null;
    }
    const value = this.expr(node, ctx, depth);
    if (node.type === "identifier" || node.type === "attribute" || node.type === "call" || node.type === "subscript") return this.truthTest({ op: "truthy", left: value, negated }, cond, ctx);
    return null;
  }

  /** Record a condition's test where its truth is read (see ScopeFact.truthTests), and return it. */
  private truthTest(test: GuardTest, cond: PyNode, ctx: Ctx): GuardTest {
    const fact = this.scopes[ctx.scope].fact;
    const guards = ctx.guards.slice(0, 4);
    const tests = ctx.tests?.slice(0, 4);
    (fact.truthTests ??= []).push({ test, end: cond.endIndex, row: cond.startPosition.row, loop: ctx.loop, guards, ...(tests?.some((t) => t !== null) ? { tests } : {}) });
    return test;
  }

  private withStatement(n: PyNode, ctx: Ctx, depth: number): void {
    for (const c of n.namedChildren) {
      if (c.type === "with_clause") {
        for (const item of c.namedChildren) {
          if (item.type !== "with_item") continue;
          const v = item.childForFieldName("value");
          if (!v) continue;
          if (v.type === "as_pattern") {
            const inner = v.namedChildren[0];
            const cm = inner ? this.expr(inner, ctx, depth) : ({ t: "unknown" } as Expr);
            this.withItem(cm, inner ?? v, ctx, n.endIndex + 1);
            const alias = v.childForFieldName("alias");
            const targetNode = alias?.namedChildren[0] ?? alias;
            if (targetNode) this.bindTarget(targetNode, { t: "enter", of: cm }, ctx, depth);
          } else {
            const cm = this.expr(v, ctx, depth);
            this.withItem(cm, v, ctx, n.endIndex + 1);
          }
        }
      } else if (c.type === "block") {
        this.block(c, ctx, depth);
      }
    }
  }

  /**
   * `for x in it:` calls `it.__iter__()` once, then the iterator's `__next__()` every round:
   * record both (marked implicit) so the graph sees the protocol's methods of project classes.
   */
  private iteration(it: Expr, node: PyNode, ctx: Ctx): void {
    if (it.t !== "name" && it.t !== "attr" && it.t !== "call" && it.t !== "item") return;
    const text = this.text(node, 60);
    const iter = this.addCall({ t: "attr", obj: it, attr: "__iter__" }, [], {}, false, node, ctx, `${text}.__iter__`);
    this.calls[this.calls.length - 1].implicit = "iter";
    this.addCall({ t: "attr", obj: iter, attr: "__next__" }, [], {}, false, node, { ...ctx, loop: true }, `${text}.__next__`);
    this.calls[this.calls.length - 1].implicit = "next";
  }

  /**
   * `with cm:` calls cm.__enter__ and cm.__exit__; record both as calls so the graph sees them.
   * Both carry the item's range; __exit__ completes just after the with statement ends
   * (`exitEnd`, one past the body's last call, which ends at the same offset), which is its
   * place in the order of evaluation.
   */
  private withItem(cm: Expr, node: PyNode, ctx: Ctx, exitEnd: number): void {
    for (const method of ["__enter__", "__exit__"]) {
      const call = this.addCall(
        { t: "attr", obj: cm, attr: method },
        [],
        {},
        false,
        node,
        ctx,
        `${this.text(node, 60)}.${method}`,
      );
      if (method === "__exit__" && call.t === "call") this.calls[call.id].end = exitEnd;
    }
  }

  private importStatement(n: PyNode, ctx: Ctx): void {
    for (const c of n.namedChildren) {
      if (c.type === "dotted_name") {
        const full = c.text;
        const top = full.split(".")[0];
        this.bind(ctx.scope, top, { t: "import", module: top, level: 0, name: null }, c);
      } else if (c.type === "aliased_import") {
        const name = c.childForFieldName("name");
        const alias = c.childForFieldName("alias");
        if (name && alias) this.bind(ctx.scope, alias.text, { t: "import", module: name.text, level: 0, name: null }, alias);
      }
    }
  }

  private importFrom(n: PyNode, ctx: Ctx): void {
    const modNode = n.childForFieldName("module_name");
    if (!modNode) return;
    let level = 0;
    let module = modNode.text;
    if (modNode.type === "relative_import") {
      const prefix = modNode.namedChildren.find((c) => c.type === "import_prefix");
      level = prefix ? prefix.text.length : 0;
      module = modNode.namedChildren.find((c) => c.type === "dotted_name")?.text ?? "";
    }
    if (n.namedChildren.some((c) => c.type === "wildcard_import")) {
      this.scopes[ctx.scope].fact.starImports.push({ module, level });
      return;
    }
    for (const c of n.childrenForFieldName("name")) {
      if (c.type === "dotted_name") {
        this.bind(ctx.scope, c.text, { t: "import", module, level, name: c.text }, c);
      } else if (c.type === "aliased_import") {
        const name = c.childForFieldName("name");
        const alias = c.childForFieldName("alias");
        if (name && alias) this.bind(ctx.scope, alias.text, { t: "import", module, level, name: name.text }, alias);
      }
    }
  }

  private functionDef(n: PyNode, ctx: Ctx, decorators: Expr[], depth: number): void {
    const nameNode = n.childForFieldName("name") ?? n;
    const isAsync = n.children[0]?.type === "async";
    const id = this.newScope("function", nameNode.text, ctx.scope, n, nameNode, isAsync, false);
    const fact = this.scopes[id].fact;
    fact.decorators = decorators;
    const params = n.childForFieldName("parameters");
    // Defaults are evaluated in the enclosing scope.
    if (params) this.parameters(params, id, ctx, depth);
    this.bind(ctx.scope, nameNode.text, { t: "scope", scope: id }, nameNode);
    const body = n.childForFieldName("body");
    if (body) this.block(body, { scope: id, loop: false, guards: [], awaited: false }, depth);
  }

  private parameters(params: PyNode, fn: number, outer: Ctx, depth: number): void {
    const st = this.scopes[fn];
    const types: (Expr | null)[] = [];
    for (const p of params.namedChildren) {
      let nameNode: PyNode | null = null;
      if (p.type === "identifier") nameNode = p;
      else if (p.type === "typed_parameter" || p.type === "list_splat_pattern" || p.type === "dictionary_splat_pattern") {
        nameNode = p.namedChildren.find((c) => c.type === "identifier") ?? null;
      } else if (p.type === "default_parameter" || p.type === "typed_default_parameter") {
        nameNode = p.childForFieldName("name");
        const v = p.childForFieldName("value");
        if (v) this.expr(v, outer, depth);
      }
      if (!nameNode) continue;
      const name = nameNode.text;
      const isSplat = p.type === "list_splat_pattern" || p.type === "dictionary_splat_pattern" ||
        (p.type === "typed_parameter" && /^\*/.test(p.text));
      st.fact.params.push(isSplat ? "*" + name : name);
      st.locals.add(name);
      // A name or dotted-name annotation (evaluated in the enclosing scope, like defaults).
      const ann = p.type === "typed_parameter" || p.type === "typed_default_parameter" ? p.childForFieldName("type") : undefined;
      types.push(ann && !isSplat ? this.annotation(ann, outer, depth) : null);
    }
    // Dense (null where a parameter has none), so the facts survive a JSON round trip unchanged.
    if (types.some((t) => t !== null)) st.fact.paramTypes = types;
  }

  private classDef(n: PyNode, ctx: Ctx, decorators: Expr[], depth: number): void {
    const nameNode = n.childForFieldName("name") ?? n;
    const supers = n.childForFieldName("superclasses");
    const bases: Expr[] = [];
    if (supers) {
      for (const c of supers.namedChildren) {
        if (c.type === "keyword_argument") {
          const v = c.childForFieldName("value");
          if (v) this.expr(v, ctx, depth);
        } else bases.push(this.expr(c, ctx, depth));
      }
    }
    const id = this.newScope("class", nameNode.text, ctx.scope, n, nameNode, false, false);
    this.scopes[id].fact.decorators = decorators;
    this.scopes[id].fact.bases = bases;
    this.bind(ctx.scope, nameNode.text, { t: "scope", scope: id }, nameNode);
    const body = n.childForFieldName("body");
    if (body) this.block(body, { scope: id, loop: false, guards: [], awaited: false }, depth);
  }

  // ---- expressions ------------------------------------------------------------------------

  private nameExpr(name: string, ctx: Ctx, at: number): Expr {
    const e: Extract<Expr, { t: "name" }> = { t: "name", name, scope: -1 };
    this.pendingNames.push({ e, from: ctx.scope, at });
    return e;
  }

  private addCall(
    fn: Expr,
    args: Expr[],
    kwargs: Record<string, Expr>,
    star: boolean,
    node: PyNode,
    ctx: Ctx,
    callee: string,
  ): Expr {
    const id = this.calls.length;
    this.calls.push({
      fn,
      args,
      kwargs,
      star,
      range: rangeOf(node),
      end: node.endIndex,
      scope: ctx.scope,
      loop: ctx.loop,
      guards: ctx.guards.slice(0, 4),
      ...(ctx.tests?.slice(0, 4).some((t) => t !== null) ? { tests: ctx.tests.slice(0, 4) } : {}),
      callee,
      awaited: ctx.awaited,
    });
    return { t: "call", id };
  }

  expr(n: PyNode, ctx: Ctx, depth: number): Expr {
    if (depth > MAX_DEPTH) return { t: "unknown" };
    const d = depth + 1;
    switch (n.type) {
      case "identifier":
        return this.nameExpr(n.text, ctx, n.startIndex);
      case "attribute": {
        const obj = n.childForFieldName("object");
        const attr = n.childForFieldName("attribute");
        if (!obj || !attr) return { t: "unknown" };
        if (ACCELERATOR_ATTR.has(attr.text)) this.accelerators.add(attr.text);
        return { t: "attr", obj: this.expr(obj, { ...ctx, awaited: false }, d), attr: attr.text };
      }
      case "call":
        return this.callExpr(n, ctx, d);
      case "string": {
        if (n.namedChildren.some((c) => c.type === "interpolation")) {
          for (const c of n.namedChildren) if (c.type === "interpolation") this.walkChildren(c, ctx, d);
          return { t: "unknown" };
        }
        const value = n.namedChildren
          .filter((c) => c.type === "string_content")
          .map((c) => c.text)
          .join("");
        if (ACCELERATOR_STRING.test(value)) this.accelerators.add(value.split(":")[0]);
        return { t: "str", value };
      }
      case "concatenated_string":
        for (const c of n.namedChildren) this.expr(c, ctx, d);
        return { t: "unknown" };
      case "integer":
      case "float":
      case "true":
      case "false":
      case "none":
      case "ellipsis":
        return { t: "const", text: n.text };
      case "parenthesized_expression":
        return n.namedChildren[0] ? this.expr(n.namedChildren[0], ctx, d) : { t: "unknown" };
      case "tuple":
      case "list":
      case "set":
      case "expression_list":
        return { t: "seq", items: n.namedChildren.map((c) => this.expr(c, { ...ctx, awaited: false }, d)) };
      case "dictionary": {
        // A dict display evaluates, for d[k], to any of its values (keys are walked for their calls).
        const items: Expr[] = [];
        for (const c of n.namedChildren) {
          if (c.type !== "pair") {
            this.expr(c, { ...ctx, awaited: false }, d);
            continue;
          }
          const key = c.childForFieldName("key");
          if (key) this.expr(key, { ...ctx, awaited: false }, d);
          const value = c.childForFieldName("value");
          if (value) items.push(this.expr(value, { ...ctx, awaited: false }, d));
        }
        return { t: "seq", items };
      }
      case "subscript": {
        const v = n.childForFieldName("value");
        for (const c of n.childrenForFieldName("subscript")) this.expr(c, { ...ctx, awaited: false }, d);
        return v ? { t: "item", of: this.expr(v, { ...ctx, awaited: false }, d) } : { t: "unknown" };
      }
      case "binary_operator":
      case "boolean_operator": {
        const l = n.childForFieldName("left");
        const r = n.childForFieldName("right");
        const inner = { ...ctx, awaited: false };
        const left: Expr = l ? this.expr(l, inner, d) : { t: "unknown" };
        const right: Expr = r ? this.expr(r, inner, d) : { t: "unknown" };
        if (n.type === "binary_operator" && n.fieldType("operator") === "-") {
          // A deadline check compares the difference, also through a conversion or scaling:
          // `time.time() - t > limit`, `timedelta(seconds=time.time() - t) > timeout`,
          // `(time.monotonic() - t) * 1000 >= budget_ms`.
          let up = n.parent;
          while (up && DEADLINE_WRAPPERS.has(up.type)) up = up.parent;
          this.scopes[ctx.scope].fact.subtractions.push({ left, right, end: n.endIndex, compared: up?.type === "comparison_operator" });
        }
        return n.type === "boolean_operator" ? { t: "op", args: [left, right], choice: true } : { t: "op", args: [left, right] };
      }
      case "unary_operator":
      case "not_operator": {
        const a = n.childForFieldName("argument") ?? n.namedChildren[0];
        return a ? { t: "op", args: [this.expr(a, { ...ctx, awaited: false }, d)] } : { t: "unknown" };
      }
      case "conditional_expression": {
        const parts = n.namedChildren.map((c) => this.expr(c, { ...ctx, awaited: false }, d));
        // a if cond else b: the value is a or b.
        return { t: "op", args: parts.length === 3 ? [parts[0], parts[2]] : parts, choice: true };
      }
      case "await": {
        const v = n.namedChildren[0];
        return v ? { t: "await", of: this.expr(v, { ...ctx, awaited: true }, d) } : { t: "unknown" };
      }
      case "lambda":
        return this.lambda(n, ctx, d);
      case "named_expression": {
        const name = n.childForFieldName("name");
        const v = n.childForFieldName("value");
        const value = v ? this.expr(v, ctx, d) : ({ t: "unknown" } as Expr);
        if (name) this.bind(ctx.scope, name.text, value, name, ctx.loop);
        return value;
      }
      case "list_comprehension":
      case "set_comprehension":
      case "generator_expression":
      case "dictionary_comprehension":
        return this.comprehension(n, ctx, d);
      case "yield":
        this.scopes[ctx.scope].fact.isGenerator = true;
        this.walkChildren(n, ctx, d);
        return { t: "unknown" };
      case "keyword_argument": {
        const v = n.childForFieldName("value");
        return v ? this.expr(v, ctx, d) : { t: "unknown" };
      }
      case "comment":
        return { t: "unknown" };
      default:
        this.walkChildren(n, { ...ctx, awaited: false }, d);
        return { t: "unknown" };
    }
  }

  private walkChildren(n: PyNode, ctx: Ctx, depth: number): void {
    for (const c of n.namedChildren) this.expr(c, ctx, depth);
  }

  private callExpr(n: PyNode, ctx: Ctx, depth: number): Expr {
    const fnNode = n.childForFieldName("function");
    const argsNode = n.childForFieldName("arguments");
    const inner = { ...ctx, awaited: false };
    const fn = fnNode ? this.expr(fnNode, inner, depth) : ({ t: "unknown" } as Expr);
    const args: Expr[] = [];
    const kwargs: Record<string, Expr> = {};
    let star = false;
    if (argsNode?.type === "generator_expression") {
      args.push(this.expr(argsNode, inner, depth));
    } else if (argsNode) {
      for (const a of argsNode.namedChildren) {
        if (a.type === "keyword_argument") {
          const k = a.childForFieldName("name");
          const v = a.childForFieldName("value");
          if (k && v) kwargs[k.text] = this.expr(v, inner, depth);
        } else if (a.type === "list_splat" || a.type === "dictionary_splat") {
          star = true;
          this.walkChildren(a, inner, depth);
        } else if (a.type !== "comment") {
          args.push(this.expr(a, inner, depth));
        }
      }
    }
    return this.addCall(fn, args, kwargs, star, n, ctx, fnNode ? this.text(fnNode, 80) : "?");
  }

  private lambda(n: PyNode, ctx: Ctx, depth: number): Expr {
    const id = this.newScope("function", `<lambda>@${n.startPosition.row + 1}`, ctx.scope, n, n, false, true);
    const params = n.childForFieldName("parameters");
    if (params) this.parameters(params, id, ctx, depth);
    const body = n.childForFieldName("body");
    if (body) {
      const inner: Ctx = { scope: id, loop: false, guards: [], awaited: false };
      const value = this.expr(body, inner, depth);
      this.scopes[id].fact.returns.push({ value, end: body.endIndex, range: rangeOf(body) });
    }
    return { t: "scope", scope: id };
  }

  private comprehension(n: PyNode, ctx: Ctx, depth: number): Expr {
    const inner = { ...ctx, loop: true, awaited: false };
    // Clauses first: they bind the loop variables the body reads.
    for (const c of n.namedChildren) {
      if (c.type === "for_in_clause") {
        const right = c.childForFieldName("right");
        const iter = right ? this.expr(right, ctx, depth) : ({ t: "unknown" } as Expr);
        if (right && !c.children.some((k) => k.type === "async")) this.iteration(iter, right, ctx);
        const left = c.childForFieldName("left");
        if (left) this.bindTarget(left, { t: "item", of: iter }, inner, depth);
      } else if (c.type === "if_clause") {
        this.walkChildren(c, inner, depth);
      }
    }
    const body = n.childForFieldName("body");
    if (n.type === "dictionary_comprehension" && body?.type === "pair") {
      // {k: v for ...}: d[k] is any v.
      const key = body.childForFieldName("key");
      if (key) this.expr(key, inner, depth);
      const value = body.childForFieldName("value");
      return { t: "seq", items: value ? [this.expr(value, inner, depth)] : [] };
    }
    const item = body ? this.expr(body, inner, depth) : ({ t: "unknown" } as Expr);
    return n.type === "generator_expression" || n.type === "list_comprehension" || n.type === "set_comprehension"
      ? { t: "seq", items: [item] }
      : { t: "unknown" };
  }
}

// ---- comments and syntax errors ---------------------------------------------------------------

/** Directive comments: candidate lines by text, confirmed with the tree (a "#" may sit in a string). */
function directiveComments(source: string, root: SyntaxNode): CommentFact[] {
  const comments: CommentFact[] = [];
  // No directive word anywhere: no line has one (most files; spares splitting them into lines).
  if (!DIRECTIVE.test(source)) return comments;
  const lines = source.split("\n");
  for (let row = 0; row < lines.length; row++) {
    const line = lines[row];
    const hash = line.indexOf("#");
    if (hash < 0 || !DIRECTIVE.test(line)) continue;
    for (let col = hash; col >= 0 && col < line.length; col = line.indexOf("#", col + 1)) {
      const node = root.descendantForPosition({ row, column: col });
      if (node.type === "comment" && node.startPosition.row === row && node.startPosition.column === col) {
        if (DIRECTIVE.test(node.text)) comments.push({ row, column: col, text: node.text });
        break;
      }
    }
  }
  return comments;
}

/** The first ERROR or MISSING node in document order (iterative: trees can be deep). */
function firstError(root: SyntaxNode): SyntaxNode | null {
  let node = root;
  for (;;) {
    if (node.type === "ERROR" || node.isMissing) return node;
    const next = node.children.find((c) => c.hasError || c.isMissing || c.type === "ERROR");
    if (!next) return node === root ? null : node;
    node = next;
  }
}

function syntaxMessage(node: SyntaxNode, source: string): string {
  if (node.isMissing) return node.type === "identifier" ? "missing a name" : `missing \`${node.type}\``;
  const text = source.slice(node.startIndex, node.endIndex).trim();
  if (text === "") return "unexpected end of input";
  const firstLine = text.split("\n", 1)[0].replace(/\s+#.*$/, "").replace(/\s+/g, " ").trim();
  const short = firstLine.length > 40 ? `${firstLine.slice(0, 40)}…` : firstLine;
  // Binary junk or control characters must not reach a terminal raw.
  const shown = short.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufffd`]/g, (c) => (c === "`" ? "'" : `\\u{${c.codePointAt(0)!.toString(16)}}`));
  return `cannot parse \`${shown}\`${text.includes("\n") ? " (and what follows)" : ""}`;
}

const leadingSpace = (line: string): number => line.length - line.trimStart().length;

/**
 * Rows `row`..end: the line and the block it opens (following lines indented deeper; blank and
 * comment-only lines in between), as the statement that failed to parse most likely spans.
 */
function blockRows(lines: string[], row: number): number {
  const indent = leadingSpace(lines[row] ?? "");
  let end = row;
  for (let r = row + 1; r < lines.length; r++) {
    const t = lines[r].trim();
    if (t === "" || t.startsWith("#")) continue;
    if (leadingSpace(lines[r]) <= indent) break;
    end = r;
  }
  return end;
}

/**
 * `text` with line `row` respelled where tree-sitter-python's grammar rejects valid Python, each
 * respelling of the same length (offsets, rows and columns stay) and the same for the analysis;
 * null when the line has none of them:
 *   - a starred bracket after a comma in an expression list, `return state, *[f(k) for k in ks]`
 *     or `x = a, *(b)` (valid since Python 3.8): the `*` becomes a space (the element a plain list);
 *   - a format spec that starts with `=` in an f-string, `f"{title:=^{width}}"` (fill `=`, centred):
 *     read as a walrus; the `=` becomes a space (a format spec is not analysed).
 */
function grammarGaps(text: string, row: number): string | null {
  let start = 0;
  for (let r = 0; r < row; r++) {
    start = text.indexOf("\n", start) + 1;
    if (start === 0) return null;
  }
  const end = text.indexOf("\n", start);
  const line = text.slice(start, end < 0 ? text.length : end);
  const fixed = line.replace(/(,\s*)\*(?=\s*[[(])/g, "$1 ").replace(/(\{[^{}:!=()[\]]*[^{}:!=()[\]\s]\s*:)=/g, "$1 ");
  return fixed === line ? null : text.slice(0, start) + fixed + text.slice(start + line.length);
}

/**
 * Parse with error recovery beyond tree-sitter's own: tree-sitter sometimes swallows the rest of
 * a file into one ERROR node (an unclosed bracket in a `def` line). Report the first error, blank
 * out its line and the block it opens (spaces, same length: every offset, row and column stays),
 * parse again, and repeat: each later region gets its own finding and the code between regions
 * is analysed. An error above the last blanked row is a consequence of the blanking, not reported.
 */
function parseRecovering(text: string): { tree: Tree; text: string; errors: SyntaxErrorFact[] } {
  let tree = parsePython(text);
  const errors: SyntaxErrorFact[] = [];
  if (!tree.rootNode.hasError) return { tree, text, errors };
  const passes = text.length > 1_000_000 ? 2 : MAX_REPAIR_PASSES;
  let work = text;
  let blankedTo = -1;
  for (let pass = 0; pass < passes; pass++) {
    const node = firstError(tree.rootNode);
    if (!node) break;
    const range = rangeOf(node);
    // Grammar gaps, not errors: tree-sitter-python rejects valid code that CPython accepts (see
    // grammarGaps); read the line in an equivalent spelling of the same length and parse again.
    const ungapped = grammarGaps(work, range.start.row);
    if (ungapped !== null) {
      const again = parsePython(ungapped);
      const next = again.rootNode.hasError ? firstError(again.rootNode) : null;
      if (!next || rangeOf(next).start.row !== range.start.row) {
        work = ungapped;
        tree = again;
        if (!next) break;
        continue;
      }
    }
    if (range.start.row > blankedTo && errors.length < MAX_SYNTAX_ERRORS) errors.push({ range, message: syntaxMessage(node, work) });
    const lines = work.split("\n");
    const from = range.start.row;
    const to = Math.max(blockRows(lines, from), from);
    for (let r = from; r <= to && r < lines.length; r++) lines[r] = " ".repeat(lines[r].length);
    blankedTo = Math.max(blankedTo, to);
    work = lines.join("\n");
    tree = parsePython(work);
    if (!tree.rootNode.hasError) break;
  }
  if (tree.rootNode.hasError) {
    // Out of passes: the rest, the first error of each region, one per line.
    const stack: SyntaxNode[] = [tree.rootNode];
    let lastRow = blankedTo;
    while (stack.length > 0 && errors.length < MAX_SYNTAX_ERRORS) {
      const node = stack.pop()!;
      if (node.type === "ERROR" || node.isMissing) {
        const range = rangeOf(node);
        if (range.start.row > lastRow) errors.push({ range, message: syntaxMessage(node, work) });
        lastRow = Math.max(lastRow, range.end.row);
        continue;
      }
      const kids = node.children;
      for (let i = kids.length - 1; i >= 0; i--) if (kids[i].hasError || kids[i].isMissing) stack.push(kids[i]);
    }
  }
  errors.sort((a, b) => a.range.start.row - b.range.start.row || a.range.start.column - b.range.start.column);
  return { tree, text: work, errors };
}

export function extractFacts(file: string, source: string): ModuleFacts {
  // Python reads a lone CR as a line break (universal newlines); tree-sitter does not. The same
  // length keeps every offset and column; only rows change, and they then count lines as Python
  // (and every other stage: suppressions, baselines, --add-noqa) does.
  const text = source.includes("\r") ? source.replace(/\r(?!\n)/g, "\n") : source;
  const parsed = parseRecovering(text);
  const ex = new Extractor(parsed.text);
  // The extractor reads a copy of the tree (tree.ts): the binding's node API costs an N-API call per read.
  ex.run(mirrorTree(parsed.tree, parsed.text));
  // Comments come from the text as written (a noqa on a line with a syntax error counts).
  const comments = directiveComments(text, parsed.text === text ? parsed.tree.rootNode : parsePython(text).rootNode);
  let lineCount = 1;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lineCount++;
  return {
    version: FACTS_VERSION,
    file,
    scopes: ex.scopes.map((s) => s.fact),
    calls: ex.calls,
    comments,
    syntaxErrors: parsed.errors,
    mentionsAccelerator: ex.accelerators.size > 0,
    accelerators: [...ex.accelerators].sort(),
    lineCount,
  };
}
