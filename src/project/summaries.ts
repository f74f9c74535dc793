// Function summaries over the project call graph, on the generic fixpoint (fixpoint.ts).
//
// Every "does this function, or anything it calls, ..." question of the rules is one of these:
// a summary per function, solved bottom-up over the call graph's strongly connected
// components, with no depth limit and no provisional answer kept. The successors of a function
// are the project functions its calls may run (ProjectIndex.calleesOf) plus what a summary
// says it also reads (a decorated function, the function around a closure).

import type { CallFact } from "../facts/model.js";
import { summary, MAY, type Lattice, type Summaries } from "./fixpoint.js";
import { fnKey } from "./ids.js";
import type { FnRef, ProjectIndex } from "./index.js";
import { nodeKey, type CallGraph, type CallNode } from "./callgraph.js";

/** The project functions the calls of `fn` may run, each once, in call order. */
export function projectCallees(index: ProjectIndex, fn: FnRef): FnRef[] {
  const out: FnRef[] = [];
  const seen = new Set<string>();
  for (const call of index.callsIn(fn)) {
    for (const t of index.calleesOf(fn.m, call)) {
      const key = fnKey(t.m, t.s);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(t);
    }
  }
  return out;
}

export interface FnSummarySpec<T> extends Lattice<T> {
  transfer(fn: FnRef, get: (callee: FnRef) => T): T;
  /** Nodes the transfer reads besides the callees of its calls. */
  alsoReads?(fn: FnRef): FnRef[];
}

/** A summary keyed by function, whose successors are its project callees (and alsoReads). */
export function fnSummary<T>(index: ProjectIndex, spec: FnSummarySpec<T>): Summaries<FnRef, T> {
  return summary<FnRef, T>({
    bottom: spec.bottom,
    join: spec.join,
    equal: spec.equal,
    key: (fn) => fnKey(fn.m, fn.s),
    successors: (fn) => (spec.alsoReads ? [...projectCallees(index, fn), ...spec.alsoReads(fn)] : projectCallees(index, fn)),
    transfer: spec.transfer,
  });
}

/**
 * "May reach": does `fn` make a call that `direct` accepts, itself or through the project
 * functions it calls (`enter` filters the callees followed).
 */
export function reachSummary(
  index: ProjectIndex,
  direct: (m: number, call: number) => boolean,
  enter: (callee: FnRef) => boolean = () => true,
): Summaries<FnRef, boolean> {
  return fnSummary(index, {
    ...MAY,
    transfer: (fn, get) =>
      index.callsIn(fn).some((call) => direct(fn.m, call) || index.calleesOf(fn.m, call).some((t) => enter(t) && get(t))),
  });
}

/**
 * A witness that `fn` reaches some site: the site, and the callees walked to get there
 * (`chain`, outermost first). Among witnesses the shortest wins, then the one whose calls come
 * first in the source at each step (`order`): a deterministic choice whatever order the
 * functions are solved in. Offsets are compared only within one file: where one call runs
 * callees in different modules, the module loaded first wins (its index comes before the
 * callee's offsets), so an edit that moves one file's offsets past another's changes no choice
 * (the language server moves findings over such edits: src/server/analysis.ts).
 */
export interface Nearest<S> {
  site: S;
  chain: FnRef[];
  /** Call offsets along the path, each callee's module index before its offsets, zero-padded, for the tie-break. */
  order: string;
}

function better<S>(a: Nearest<S> | null, b: Nearest<S> | null): Nearest<S> | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.chain.length !== b.chain.length) return a.chain.length < b.chain.length ? a : b;
  return a.order <= b.order ? a : b;
}

const pad = (n: number) => String(n).padStart(10, "0");

/**
 * The nearest site `fn` reaches: a call that `direct` maps to a site, in `fn` or through the
 * project functions it calls (`enter` filters the callees followed, `skip` the calls looked at).
 */
export function nearestSummary<S>(
  index: ProjectIndex,
  direct: (fn: FnRef, call: number, c: CallFact) => S | null,
  options: { enter?: (callee: FnRef) => boolean; skip?: (fn: FnRef) => (c: CallFact) => boolean } = {},
): Summaries<FnRef, Nearest<S> | null> {
  const enter = options.enter ?? (() => true);
  return fnSummary<Nearest<S> | null>(index, {
    bottom: null,
    join: better,
    equal: (a, b) => a === b || (a !== null && b !== null && a.chain.length === b.chain.length && a.order === b.order),
    transfer: (fn, get) => {
      const skip = options.skip?.(fn);
      let best: Nearest<S> | null = null;
      for (const call of index.callsIn(fn)) {
        const c = index.call(fn.m, call);
        if (skip?.(c)) continue;
        const d = direct(fn, call, c);
        if (d !== null) best = better(best, { site: d, chain: [], order: pad(c.end) });
        for (const t of index.calleesOf(fn.m, call)) {
          if (!enter(t)) continue;
          const inner = get(t);
          if (inner) best = better(best, { site: inner.site, chain: [t, ...inner.chain], order: `${pad(c.end)}/${pad(t.m)}/${inner.order}` });
        }
      }
      return best;
    },
  });
}

/**
 * nearestSummary keyed by call-graph node (a function with its receiver's class when known):
 * `self.setup()` inside `Base.handle` reached through `Fast()` runs `Fast.setup` only, so a
 * witness never walks through a method the receiver's own class overrides. The chain holds the
 * functions walked, outermost first.
 */
export function nearestNodeSummary<S>(
  graph: CallGraph,
  index: ProjectIndex,
  direct: (fn: FnRef, call: number, c: CallFact) => S | null,
  options: { enter?: (callee: FnRef) => boolean } = {},
): Summaries<CallNode, Nearest<S> | null> {
  const enter = options.enter ?? (() => true);
  return summary<CallNode, Nearest<S> | null>({
    bottom: null,
    join: better,
    equal: (a, b) => a === b || (a !== null && b !== null && a.chain.length === b.chain.length && a.order === b.order),
    key: nodeKey,
    successors: (n) => graph.edges(n).filter((e) => enter(e.to.fn)).map((e) => e.to),
    transfer: (n, get) => {
      const fn = n.fn;
      const edges = graph.edges(n);
      let best: Nearest<S> | null = null;
      for (const call of index.callsIn(fn)) {
        const c = index.call(fn.m, call);
        const d = direct(fn, call, c);
        if (d !== null) best = better(best, { site: d, chain: [], order: pad(c.end) });
        for (const e of edges) {
          if (e.call !== call || !enter(e.to.fn)) continue;
          const inner = get(e.to);
          if (inner) best = better(best, { site: inner.site, chain: [e.to.fn, ...inner.chain], order: `${pad(c.end)}/${pad(e.to.fn.m)}/${inner.order}` });
        }
      }
      return best;
    },
  });
}
