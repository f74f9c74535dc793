// The call graph: which project functions each call site runs, with receiver-aware dispatch.
//
// A node is a function together with what is known of its receiver: the exact class of `self`
// when the method was reached through a known instance (`SubA().run`, a constructor, `self.x()`
// inside a method whose receiver is known), or nothing. Calls rooted at `self` inside a node with
// a known receiver dispatch on that class's MRO only; with an unknown receiver the class hierarchy
// is fanned out (every subclass override may run), and those edges say so (`dispatch:
// "hierarchy"`) so a witness path can mark the guess.
//
// Edges are computed once per node, when first asked (after the thread analysis has learned its
// argument bindings), and kept: reverse edges and strongly connected components are read from
// what was built (`buildAll` builds everything, for --dump and tests).

import type { Expr } from "../facts/model.js";
import type { ClassId, FunctionId, NodeKey } from "./ids.js";
import type { FnRef, ProjectIndex } from "./index.js";
import type { Value } from "./values.js";

export interface CallNode {
  fn: FunctionId | FnRef;
  /** The exact class of the receiver (`self`) when known. */
  self: ClassId | FnRef | null;
}

/**
 * "exact": the receiver's class is known (or no receiver); "hierarchy": a subclass override chosen
 * for a receiver of unknown class; "declared": the receiver is known only from an annotation
 * naming a base class, and this is one of the subclasses the project creates (rapid type analysis).
 */
export type Dispatch = "exact" | "hierarchy" | "declared";

export interface CallEdge {
  /** Call id in the caller's module. */
  call: number;
  to: CallNode;
  /** "hierarchy": a subclass override chosen for a receiver whose class is not known. */
  dispatch: Dispatch;
  /** For "declared": the class the annotation names. */
  declared?: ClassId | FnRef;
}

export function nodeKey(n: CallNode): NodeKey {
  return (n.self ? `${n.fn.m}:${n.fn.s}@${n.self.m}:${n.self.s}` : `${n.fn.m}:${n.fn.s}`) as NodeKey;
}

export class CallGraph {
  private readonly edgeCache = new Map<NodeKey, CallEdge[]>();
  private readonly nodes = new Map<NodeKey, CallNode>();
  private readonly callers = new Map<NodeKey, { from: CallNode; call: number }[]>();

  constructor(private readonly index: ProjectIndex) {}

  /** The nodes a called value starts (a spawn target, a callback), with their dispatch. */
  targetsOf(v: Value): { to: CallNode; dispatch: Dispatch; declared?: FnRef }[] {
    const idx = this.index;
    switch (v.k) {
      case "fn":
        return [{ to: { fn: { m: v.m, s: v.s }, self: null }, dispatch: "exact" }];
      case "bound":
        return [this.boundTarget(v)];
      case "class":
        return idx.lookupMethod(v, "__init__").map((f) => ({ to: { fn: f, self: { m: v.m, s: v.s } }, dispatch: "exact" as const }));
      case "inst": {
        const self = v.virtual ? null : { m: v.m, s: v.s };
        if (v.declared) return idx.callTargets(v).map((f) => ({ to: { fn: f, self }, dispatch: v.virtual && this.inMro(v, f) ? ("exact" as const) : ("declared" as const), declared: v.declared }));
        return idx.callTargets(v).map((f) => ({ to: { fn: f, self }, dispatch: v.virtual && !this.inMro(v, f) ? "hierarchy" : "exact" }));
      }
      case "partial":
        return v.target.flatMap((t) => this.targetsOf(t));
      default:
        return [];
    }
  }

  private boundTarget(v: Extract<Value, { k: "bound" }>): { to: CallNode; dispatch: Dispatch; declared?: FnRef } {
    const fn = { m: v.m, s: v.s };
    const self = v.self;
    if (self.k === "inst" && !self.virtual && self.declared) return { to: { fn, self: { m: self.m, s: self.s } }, dispatch: "declared", declared: self.declared };
    if (self.k === "inst" && self.virtual && self.declared) return { to: { fn, self: null }, dispatch: this.inMro(self, fn) ? "exact" : "declared", declared: self.declared };
    if (self.k === "inst" && !self.virtual) return { to: { fn, self: { m: self.m, s: self.s } }, dispatch: "exact" };
    if (self.k === "inst" && self.virtual) return { to: { fn, self: null }, dispatch: this.inMro(self, fn) ? "exact" : "hierarchy" };
    return { to: { fn, self: null }, dispatch: "exact" };
  }

  /** Is method `fn` defined in a class of `cls`'s MRO (not a subclass override). */
  private inMro(cls: FnRef, fn: FnRef): boolean {
    const parent = this.index.scope(fn).parent;
    return this.index.mro(cls).some((c) => c.m === fn.m && c.s === parent);
  }

  /** The calls of a node's function and what each runs. */
  edges(node: CallNode): CallEdge[] {
    const key = nodeKey(node);
    const hit = this.edgeCache.get(key);
    if (hit) return hit;
    const idx = this.index;
    const out: CallEdge[] = [];
    const self = this.selfParam(node);
    for (const call of idx.callsIn(node.fn)) {
      const c = idx.call(node.fn.m, call);
      // A `for` loop's implicit `x.__iter__()` iterates x itself, not the elements a container
      // attribute of self stands for (ProjectIndex.iterableObjects); `for b in self:` keeps the receiver.
      const values = c.implicit === "iter"
        ? (self && c.fn.t === "attr" && c.fn.obj.t === "name" && c.fn.obj.name === self.name && c.fn.obj.scope === self.scope
          ? idx.getAttr(self.value, "__iter__")
          : idx.eval(node.fn.m, c.fn))
        : (self && this.evalWithSelf(node.fn.m, c.fn, self)) || idx.eval(node.fn.m, c.fn);
      const seen = new Set<string>();
      for (const v of values) {
        for (const t of this.targetsOf(v)) {
          const tk = nodeKey(t.to);
          if (seen.has(tk)) continue;
          seen.add(tk);
          out.push({ call, to: t.to, dispatch: t.dispatch, ...(t.declared ? { declared: t.declared } : {}) });
        }
      }
    }
    this.edgeCache.set(key, out);
    this.nodes.set(key, node);
    for (const e of out) {
      const k = nodeKey(e.to);
      let list = this.callers.get(k);
      if (!list) this.callers.set(k, (list = []));
      list.push({ from: node, call: e.call });
    }
    return out;
  }

  /** Project functions a call site of a node may run (for callers that ignore receivers). */
  calleesAt(node: CallNode, call: number): FnRef[] {
    return this.edges(node).filter((e) => e.call === call).map((e) => e.to.fn);
  }

  /** Callers seen so far of a node (edges built: after buildAll, all of them). */
  callersOf(node: CallNode): readonly { from: CallNode; call: number }[] {
    return this.callers.get(nodeKey(node)) ?? [];
  }

  /** Build the edges of every function of every module loaded (and of the receivers they reach). */
  buildAll(): CallNode[] {
    const idx = this.index;
    const queue: CallNode[] = [];
    const seen = new Set<string>();
    const push = (n: CallNode) => {
      const k = nodeKey(n);
      if (!seen.has(k)) {
        seen.add(k);
        queue.push(n);
      }
    };
    for (let m = 0; m < idx.modules.length; m++) {
      idx.modules[m].scopes.forEach((sc, s) => {
        if (sc.kind !== "class") push({ fn: { m, s }, self: null });
      });
    }
    for (let i = 0; i < queue.length; i++) for (const e of this.edges(queue[i])) push(e.to);
    return queue;
  }

  /** Strongly connected components of the nodes built, callees before callers (Tarjan, iterative). */
  sccs(nodes: readonly CallNode[] = [...this.nodes.values()]): CallNode[][] {
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const onStack = new Set<string>();
    const stack: CallNode[] = [];
    const out: CallNode[][] = [];
    let counter = 0;
    for (const root of nodes) {
      if (index.has(nodeKey(root))) continue;
      const frames: { node: CallNode; key: string; succ: CallNode[]; i: number }[] = [];
      const enter = (n: CallNode) => {
        const k = nodeKey(n);
        index.set(k, counter);
        low.set(k, counter);
        counter++;
        stack.push(n);
        onStack.add(k);
        frames.push({ node: n, key: k, succ: this.edges(n).map((e) => e.to), i: 0 });
      };
      enter(root);
      while (frames.length > 0) {
        const f = frames[frames.length - 1];
        if (f.i < f.succ.length) {
          const s = f.succ[f.i++];
          const sk = nodeKey(s);
          if (!index.has(sk)) enter(s);
          else if (onStack.has(sk)) low.set(f.key, Math.min(low.get(f.key)!, index.get(sk)!));
          continue;
        }
        frames.pop();
        if (frames.length > 0) {
          const p = frames[frames.length - 1];
          low.set(p.key, Math.min(low.get(p.key)!, low.get(f.key)!));
        }
        if (low.get(f.key) === index.get(f.key)) {
          const comp: CallNode[] = [];
          for (;;) {
            const top = stack.pop()!;
            onStack.delete(nodeKey(top));
            comp.push(top);
            if (nodeKey(top) === f.key) break;
          }
          out.push(comp.reverse());
        }
      }
    }
    return out;
  }

  /** The receiver value and parameter name of a method whose receiver class is known. */
  private selfParam(node: CallNode): { name: string; scope: number; value: Value } | null {
    if (!node.self) return null;
    const idx = this.index;
    const sc = idx.scope(node.fn);
    if (sc.kind !== "function" || sc.params.length === 0 || sc.isLambda || idx.isStatic(node.fn) || idx.isClassMethod(node.fn)) return null;
    return { name: sc.params[0], scope: node.fn.s, value: { k: "inst", m: node.self.m, s: node.self.s, virtual: false } };
  }

  /** Evaluate an expression rooted at `self` (self, self.a, self.a.b) with the receiver known; null otherwise. */
  private evalWithSelf(m: number, e: Expr, self: { name: string; scope: number; value: Value }): Value[] | null {
    if (e.t === "name") return e.name === self.name && e.scope === self.scope ? [self.value] : null;
    if (e.t === "attr" && e.obj.t === "call") return this.superAttr(m, e.obj.id, e.attr, self);
    if (e.t === "attr") {
      const obj = this.evalWithSelf(m, e.obj, self);
      return obj ? obj.flatMap((v) => this.index.getAttr(v, e.attr)) : null;
    }
    return null;
  }

  /**
   * `super().name` in a method whose receiver class is known: the first class after the method's
   * own class in the receiver's MRO that defines `name`, bound to the receiver (null when the
   * call is not a plain `super()` of this method).
   */
  private superAttr(m: number, callId: number, name: string, self: { scope: number; value: Value }): Value[] | null {
    const idx = this.index;
    const c = idx.call(m, callId);
    if (c.args.length > 0 || Object.keys(c.kwargs).length > 0 || c.scope !== self.scope) return null;
    if (!idx.eval(m, c.fn).some((v) => v.k === "ext" && v.name === "builtins.super")) return null;
    if (self.value.k !== "inst") return null;
    const owner = idx.scope({ m, s: self.scope }).parent;
    const mro = idx.mro(self.value);
    const at = mro.findIndex((k) => k.m === m && k.s === owner);
    if (at < 0) return null;
    for (const k of mro.slice(at + 1)) {
      const vals = idx.ownClassAttrOf(k, name, self.value);
      if (vals.length > 0) return vals;
    }
    return null;
  }

  /** Display key of a function (for dumps): "module:qualname". */
  label(n: CallNode): string {
    const idx = this.index;
    const base = `${idx.moduleNames[n.fn.m]}:${idx.displayName(n.fn)}`;
    return n.self ? `${base} [self: ${idx.displayName(n.self)}]` : base;
  }
}

