// MPS005's fix (see docs/fixes.md): `ev = torch.mps.Event()` in a loop moved to just before the
// (outermost) loop, when the loop runs it on every iteration and nothing it needs changes there.

import type { RuleContext } from "../src/engine/rule.js";
import type { SyntaxNode } from "../src/facts/parse.js";
import type { Fix, Range, TextEdit } from "../src/types.js";
import { aloneOnLines, assignedCallAt, edit, fix, identifiersIn, inFinally, lineContentEnd, lineStart, nextLineStart, syntaxOf } from "./support/edit-kit.js";

const LOOPS = new Set(["for_statement", "while_statement"]);
const SCOPES = new Set(["function_definition", "lambda", "class_definition", "module"]);

function assignedIn(node: SyntaxNode): Set<string> {
  const out = new Set<string>();
  const targets = (t: SyntaxNode | null) => {
    if (t) for (const id of identifiersIn(t)) out.add(id);
  };
  const walk = (n: SyntaxNode) => {
    switch (n.type) {
      case "assignment":
      case "augmented_assignment":
        targets(n.childForFieldName("left"));
        break;
      case "for_statement":
      case "for_in_clause":
        targets(n.childForFieldName("left"));
        break;
      case "named_expression":
        targets(n.childForFieldName("name"));
        break;
      case "as_pattern":
        targets(n.childForFieldName("alias"));
        break;
      case "global_statement":
      case "nonlocal_statement":
        targets(n);
        break;
      default:
    }
    for (const c of n.namedChildren) walk(c);
  };
  walk(node);
  return out;
}

function containsCall(n: SyntaxNode): boolean {
  return n.type === "call" || n.namedChildren.some(containsCall);
}

function containsJump(n: SyntaxNode): boolean {
  if (/^(continue_statement|break_statement|return_statement|raise_statement|yield)$/.test(n.type)) return true;
  if (n.type === "function_definition" || n.type === "lambda" || n.type === "class_definition") return false;
  return n.namedChildren.some(containsJump);
}

/** Does the loop run its body at least once: `while True:`, `for _ in range(N)` with a literal N >= 1. */
function certainlyIterates(loop: SyntaxNode): boolean {
  if (loop.type === "while_statement") return /^(True|1)$/.test(loop.childForFieldName("condition")?.text ?? "");
  const right = loop.childForFieldName("right");
  if (!right || right.type !== "call" || right.childForFieldName("function")?.text !== "range") return false;
  const args = right.childForFieldName("arguments")?.namedChildren ?? [];
  const ints = args.map((a) => (a.type === "integer" ? parseInt(a.text, 10) : NaN));
  if (ints.length === 1) return ints[0] >= 1;
  if (ints.length === 2) return ints[1] > ints[0];
  return false;
}

/** MPS005: `ev = torch.mps.Event()` in a loop moved to just before the (outermost) loop. */
export function hoistEventFix(ctx: RuleContext, range: Range, name: string): Fix | null {
  const syn = syntaxOf(ctx);
  if (!syn) return null;
  const at = assignedCallAt(syn, range);
  if (!at) return null;
  const { call, assign } = at;
  if (assign.childForFieldName("left")?.type !== "identifier" || assign.childForFieldName("left")?.text !== name) return null;
  const stmt = assign.parent;
  if (!stmt || stmt.type !== "expression_statement" || stmt.namedChildCount !== 1 || stmt.parent?.type !== "block") return null;
  if (!aloneOnLines(syn, stmt) || inFinally(stmt)) return null;
  // The outermost loop whose body runs the statement on every iteration: a conditional (`if`,
  // `try`, `match`) in between runs it only sometimes, and the Event must not be created where
  // the original did not create it (`if dev == "cuda": ev = torch.cuda.Event()` on a CPU run).
  let loop: SyntaxNode | null = null;
  for (let n: SyntaxNode | null = stmt.parent; n && !SCOPES.has(n.type); n = n.parent) {
    if (LOOPS.has(n.type)) {
      const body = n.childForFieldName("body");
      if (body && body.startIndex <= stmt.startIndex && stmt.endIndex <= body.endIndex) loop = n;
      else break; // in the loop's `else:` clause
    } else if (n.type !== "block" && n.type !== "with_statement") break;
  }
  if (!loop) return null;
  // Nothing before it in the loop body may skip it (`continue`, `break`, `return`, `raise`).
  for (let n: SyntaxNode = stmt; n.id !== loop.id; n = n.parent!) {
    const block = n.parent!;
    for (const sib of block.namedChildren) {
      if (sib.startIndex >= n.startIndex) break;
      if (/\b(continue|break|return|raise|yield)\b/.test(sib.text) && containsJump(sib)) return null;
    }
  }
  const before = syn.src.slice(lineStart(syn, loop.startIndex), loop.startIndex);
  if (!/^[ \t]*$/.test(before)) return null;
  // The constructor must not depend on anything the loop changes, nor call anything else.
  const args = call.childForFieldName("arguments");
  if (args && containsCall(args)) return null;
  const fnPart = call.childForFieldName("function");
  if (!fnPart || containsCall(fnPart)) return null;
  const changed = assignedIn(loop);
  const argNames = new Set<string>();
  const walk = (n: SyntaxNode) => {
    if (n.type === "keyword_argument") {
      const v = n.childForFieldName("value");
      if (v) walk(v);
      return;
    }
    if (n.type === "attribute") {
      const o = n.childForFieldName("object");
      if (o) walk(o);
      return;
    }
    if (n.type === "identifier") argNames.add(n.text);
    for (const c of n.namedChildren) walk(c);
  };
  walk(call);
  if ([...argNames].some((n) => changed.has(n) && n !== name)) return null;
  // The moved line keeps its trailing comment; continuation lines are re-indented with it.
  const stmtLineStart = lineStart(syn, stmt.startIndex);
  const oldIndent = syn.src.slice(stmtLineStart, stmt.startIndex);
  const newIndent = before;
  const moved = syn.src
    .slice(stmt.startIndex, lineContentEnd(syn, stmt.endIndex))
    .split(/(\r\n|\n)/)
    .map((part, i) => (i > 0 && i % 2 === 0 && part.startsWith(oldIndent) ? newIndent + part.slice(oldIndent.length) : part))
    .join("");
  const loopLine = lineStart(syn, loop.startIndex);
  const edits: TextEdit[] = [edit(syn, loopLine, loopLine, `${newIndent}${moved}${syn.eol}`)];
  const block = stmt.parent!;
  const siblings = block.namedChildren.filter((n) => n.type !== "comment");
  if (siblings.length === 1) {
    edits.push(edit(syn, stmt.startIndex, lineContentEnd(syn, stmt.endIndex), "pass"));
  } else {
    edits.push(edit(syn, stmtLineStart, nextLineStart(syn, stmt.endIndex), ""));
  }
  // A loop that may run no iteration (`for x in xs:` with xs empty) never made the Event; the fix
  // makes it anyway, which fails where the backend is absent: unsafe, unless the loop runs.
  const runs = certainlyIterates(loop);
  return fix(runs ? "safe" : "unsafe", runs ? `Create the Event once, before the loop` : `Create the Event once, before the loop (unsafe: it is then created even when the loop runs no iteration)`, edits);
}
