// Small queries over one module's facts, shared by the semantic core (src/project/) and rules.

import type { Expr, ModuleFacts } from "./model.js";

/** Every Expr stored in a module's facts, each visited once (calls as references, not inlined). */
export function forEachTopExpr(facts: ModuleFacts, cb: (e: Expr, owner: { kind: "call"; id: number; role: "fn" | "arg" } | { kind: "other" }) => void): void {
  facts.calls.forEach((c, id) => {
    cb(c.fn, { kind: "call", id, role: "fn" });
    for (const a of c.args) cb(a, { kind: "call", id, role: "arg" });
    for (const a of Object.values(c.kwargs)) cb(a, { kind: "call", id, role: "arg" });
  });
  for (const s of facts.scopes) {
    for (const b of s.bindings) cb(b.value, { kind: "other" });
    for (const st of s.attrStores) {
      cb(st.obj, { kind: "other" });
      cb(st.value, { kind: "other" });
    }
    for (const r of s.returns) cb(r.value, { kind: "other" });
    for (const d of s.decorators) cb(d, { kind: "other" });
    for (const b of s.bases) cb(b, { kind: "other" });
  }
}

/** Walk an Expr without entering calls (they are visited as their own facts). */
export function walkExpr(e: Expr, cb: (e: Expr) => boolean | void): void {
  if (cb(e) === false) return;
  switch (e.t) {
    case "attr":
      walkExpr(e.obj, cb);
      return;
    case "seq":
      for (const i of e.items) walkExpr(i, cb);
      return;
    case "op":
      for (const a of e.args) walkExpr(a, cb);
      return;
    case "item":
    case "enter":
    case "await":
      walkExpr(e.of, cb);
      return;
    default:
      return;
  }
}

/**
 * Is the local `name` of scope `s` used only as the receiver of the given methods
 * (`ev.record()`, `ev.synchronize()`)? Any other use (an argument, stored, returned,
 * put in a container) lets the object escape.
 */
export function usedOnlyAsReceiver(facts: ModuleFacts, s: number, name: string, methods: ReadonlySet<string>): boolean {
  const isIt = (e: Expr) => e.t === "name" && e.name === name && e.scope === s;
  let escapes = false;
  forEachTopExpr(facts, (top, owner) => {
    if (escapes) return;
    if (owner.kind === "call" && owner.role === "fn" && top.t === "attr" && isIt(top.obj) && methods.has(top.attr)) return;
    walkExpr(top, (e) => {
      if (isIt(e)) escapes = true;
    });
  });
  return !escapes;
}

/** Names in scope `s` bound directly to the result of call `id` (`ev = torch.mps.Event()`). */
export function namesBoundTo(facts: ModuleFacts, s: number, id: number): string[] {
  return facts.scopes[s].bindings.filter((b) => b.value.t === "call" && b.value.id === id).map((b) => b.name);
}
