// MPS003's fix (see docs/fixes.md): a shared Event's constructor wrapped in `_PerThreadEvent`
// (per-thread-event.ts), one Event per thread, the call sites unchanged.

import type { RuleContext } from "../src/engine/rule.js";
import type { SyntaxNode } from "../src/facts/parse.js";
import type { Fix, Range, TextEdit } from "../src/types.js";
import { assignedCallAt, edit, ensureImport, ensureModuleBlocks, fix, identifiersIn, inFinally, layoutOf, statementOf, syntaxOf } from "./support/edit-kit.js";
import { OUR_HELPERS, PROXY, proxyBlock } from "./support/per-thread-event.js";

const PROXY_METHODS = /^(record|synchronize|wait|query)$/;

/** Is `n` the receiver of an Event method call: `n.record()`, `n.synchronize()`, ...? */
function isMethodReceiver(n: SyntaxNode): boolean {
  const p = n.parent;
  if (!p || p.type !== "attribute" || p.childForFieldName("object")?.id !== n.id) return false;
  if (!PROXY_METHODS.test(p.childForFieldName("attribute")?.text ?? "")) return false;
  const call = p.parent;
  return !!call && call.type === "call" && call.childForFieldName("function")?.id === p.id;
}

/**
 * Is every use of `name` under `scopeNode` (a bare name, or with `attr` the attribute `x.name`)
 * the receiver of an Event method call, apart from the binding itself?
 */
function onlyMethodReceiver(scopeNode: SyntaxNode, name: string, binding: SyntaxNode, attr: boolean): boolean {
  let ok = true;
  const walk = (n: SyntaxNode) => {
    if (!ok) return;
    if (attr && n.type === "attribute" && n.childForFieldName("attribute")?.text === name) {
      if (n.id !== binding.id && !isMethodReceiver(n)) ok = false;
    } else if (!attr && n.type === "identifier" && n.text === name && n.id !== binding.id) {
      const p = n.parent!;
      const unrelated =
        (p.type === "attribute" && p.childForFieldName("attribute")?.id === n.id) ||
        (p.type === "keyword_argument" && p.childForFieldName("name")?.id === n.id);
      if (!unrelated && !isMethodReceiver(n)) ok = false;
    }
    for (const c of n.namedChildren) walk(c);
  };
  walk(scopeNode);
  return ok;
}

/**
 * MPS003: the shared Event's constructor `NAME = torch.mps.Event(...)` (or `self.NAME = ...`)
 * becomes `NAME = _PerThreadEvent(torch.mps.Event, ...)`, a `threading.local` subclass that
 * makes one Event per thread on first use and forwards `record()`, `synchronize()`, ... to it.
 * Call sites stay as they are. Only when every use of the name is such a method call: an object
 * handed to torch (`stream.wait_event(ev)`) must be a real Event.
 */
export function sharedEventFix(ctx: RuleContext, ctorRange: Range): Fix | null {
  const syn = syntaxOf(ctx);
  if (!syn) return null;
  const at = assignedCallAt(syn, ctorRange);
  if (!at) return null;
  const { call, assign } = at;
  const stmt = assign.parent;
  if (!stmt || stmt.type !== "expression_statement" || !statementOf(stmt) || inFinally(stmt)) return null;
  const left = assign.childForFieldName("left")!;
  let scopeNode: SyntaxNode;
  let ok: boolean;
  if (left.type === "identifier") {
    // The scope that binds it: the module, or the enclosing function (captured by closures).
    let s: SyntaxNode | null = stmt.parent;
    while (s && s.type !== "function_definition" && s.type !== "module" && s.type !== "class_definition") s = s.parent;
    if (!s || s.type === "class_definition") return null;
    scopeNode = s;
    ok = onlyMethodReceiver(scopeNode, left.text, left, false);
    if (ok && s.type === "function_definition") {
      // Not a parameter name used elsewhere, not rebound by nonlocal.
      const params = s.childForFieldName("parameters");
      if (params && identifiersIn(params).has(left.text)) ok = false;
    }
    if (ok && s.type === "module" && importedElsewhere(ctx, left.text)) ok = false;
  } else if (left.type === "attribute" && left.childForFieldName("object")?.type === "identifier") {
    scopeNode = syn.root;
    ok = onlyMethodReceiver(scopeNode, left.childForFieldName("attribute")!.text, left, true);
  } else return null;
  if (!ok) return null;
  // Module-level code runs top to bottom: the class must come before a module-level constructor.
  const layout = layoutOf(syn);
  if (scopeNode.type === "module" && layout.after && stmt.startIndex < layout.after.endIndex) return null;
  const fnNode = call.childForFieldName("function");
  const argsNode = call.childForFieldName("arguments");
  if (!fnNode || !argsNode || argsNode.type !== "argument_list") return null;
  const inner = syn.src.slice(argsNode.startIndex + 1, argsNode.endIndex - 1);
  const edits: TextEdit[] = [];
  const threading = ensureImport(syn, layout, "threading");
  edits.push(...threading.edits);
  edits.push(...ensureModuleBlocks(syn, layout, [proxyBlock(syn.indentUnit, threading.name)], OUR_HELPERS));
  const rest = inner.trim() === "" ? "" : `, ${inner.replace(/^\s+/, "")}`;
  edits.push(edit(syn, call.startIndex, call.endIndex, `${PROXY}(${fnNode.text}${rest})`));
  return fix("unsafe", `Give each thread its own Event: \`${left.text} = ${PROXY}(${fnNode.text})\` (a threading.local)`, edits);
}

function importedElsewhere(ctx: RuleContext, name: string): boolean {
  const idx = ctx.project.index;
  return idx.modules.some((mod, m) => m !== ctx.m && mod.scopes.some((s) => s.bindings.some((b) => b.value.t === "import" && b.value.name === name)));
}
