// `mps-lint --dump callgraph|summaries|timeline FILE...`: what the semantic core concluded, as text.
//
// callgraph: for every function of the named files, each call site that runs project code and
// the functions it runs (with the receiver's class when known, and `[hierarchy]` where a subclass
// override was chosen for a receiver of unknown class), then the recursive components.
// summaries: for every function, whether a worker thread reaches it (and from where), whether it
// or a callee waits for the device, and whether it does device work or returns a device value.

import path from "node:path";
import { collectFacts } from "../facts/collect.js";
import { nodeKey, type CallNode } from "./callgraph.js";
import { Project, type ProjectOptions } from "./project.js";
import type { Item } from "./timeline.js";
import type { Expr } from "../facts/model.js";
import type { Value } from "./values.js";

export const DUMP_KINDS = ["callgraph", "summaries", "timeline"] as const;
export type DumpKind = (typeof DUMP_KINDS)[number];

export function isDumpKind(s: string): s is DumpKind {
  return (DUMP_KINDS as readonly string[]).includes(s);
}

export interface DumpInput extends ProjectOptions {
  files: string[];
  overrides?: Map<string, string>;
}

/** Parse the files, build the project over them and print the dump (paths relative to `cwd`). */
export function dumpFiles(kind: DumpKind, input: DumpInput, cwd: string, only: readonly string[] = input.files): string {
  const collected = collectFacts(input.files, { overrides: input.overrides, jobs: 1 });
  const project = new Project(collected.facts, input);
  const problems = collected.problems.map((p) => `# warning: ${path.relative(cwd, p.file) || p.file}: ${p.message}\n`).join("");
  return problems + dumpProject(kind, project, new Set(only.map((f) => path.resolve(f))), cwd);
}

/** The dump of a built project, for the functions of the files in `only` (all when empty). */
export function dumpProject(kind: DumpKind, project: Project, only: ReadonlySet<string>, cwd: string): string {
  const idx = project.index;
  const rel = (file: string) => path.relative(cwd, file) || file;
  const lines: string[] = [];
  const roots: CallNode[] = [];
  const count = idx.modules.length;
  const reached = kind === "callgraph" ? reachableNodes(project, only) : new Map<string, CallNode[]>();
  const withReceivers = (m: number, s: number) => reached.get(`${m}:${s}`) ?? [];
  for (let m = 0; m < count; m++) {
    const mod = idx.modules[m];
    if (only.size > 0 && !only.has(path.resolve(mod.file))) continue;
    lines.push(`module ${idx.moduleNames[m]} (${rel(mod.file)})`);
    mod.scopes.forEach((sc, s) => {
      if (sc.kind === "class") return;
      const node: CallNode = { fn: { m, s }, self: null };
      roots.push(node);
      const where = `${rel(mod.file)}:${sc.nameRange.start.row + 1}`;
      if (kind === "callgraph") {
        // The function with an unknown receiver, then with each receiver class it is reached with.
        for (const n of [node, ...withReceivers(m, s)]) {
          lines.push(`  ${project.graph.label(n)}  ${where}`);
          for (const e of project.graph.edges(n)) {
            const c = idx.call(m, e.call);
            const tag = e.dispatch === "hierarchy" ? " [hierarchy]" : e.dispatch === "declared" && e.declared ? ` [declared ${idx.scope(e.declared).name}: a class the project creates]` : "";
            const how = resolution(project, m, e.call, e.to);
            lines.push(`    line ${c.range.start.row + 1} ${c.callee}() -> ${project.graph.label(e.to)}${tag}${how ? ` (${how})` : ""}`);
          }
        }
      } else if (kind === "timeline") {
        // The ordered work / wait / clock items MPS004 reads (every call classified, no span).
        const fn = { m, s };
        const items = project.timeline.timeline(fn);
        if (items.length === 0) return;
        lines.push(`  ${idx.displayName(fn)}  ${where}`);
        for (const it of items) lines.push(`    line ${it.k === "clock" ? idx.call(m, it.call).range.start.row + 1 : it.row + 1} ${describeItem(it)}`);
      } else {
        const fn = { m, s };
        const reach = project.threads.reachOf(fn);
        const facts: string[] = [];
        if (reach) facts.push(`thread: ${reach.spawn.label} (${rel(idx.modules[reach.spawn.m].file)}:${reach.spawn.range.start.row + 1})`);
        if (project.sync.functionSyncs(fn)) facts.push("waits");
        const flow = project.deviceFlow.analyze(fn);
        if (flow.hasDeviceWork) facts.push("device-work");
        if (flow.returnsDevice) facts.push("returns-device");
        lines.push(`  ${idx.displayName(fn)}  ${where}${facts.length > 0 ? `  ${facts.join(", ")}` : ""}`);
      }
    });
  }
  if (kind === "summaries" && idx.lazyNames.size > 0) {
    // Names a module provides through its PEP 562 __getattr__, as they were looked up.
    lines.push("lazy names (module __getattr__)");
    for (const [name, values] of [...idx.lazyNames].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const shown = values.map((v) => (v.k === "class" || v.k === "fn" ? `${idx.moduleNames[v.m]}:${idx.scope(v).qualname}` : v.k === "module" ? idx.moduleNames[v.m] : v.k === "ext" ? v.name : v.k));
      lines.push(`  ${name} -> ${[...new Set(shown)].join(", ")}`);
    }
  }
  if (kind === "summaries") {
    // Each Event made in the named files: who uses it and what that makes it.
    const events = project.events.all().filter((e) => only.size === 0 || only.has(path.resolve(idx.modules[e.event.m].file)));
    if (events.length > 0) lines.push("events");
    for (const e of events) {
      const made = idx.call(e.event.m, e.event.call);
      const verdict = e.holder
        ? `shared: kept in self.${e.holder.attr} of the ${idx.scope(e.holder.cls).name} made once at line ${idx.call(e.holder.createdAt.m, e.holder.createdAt.call).range.start.row + 1}`
        : e.perThreadBecause
          ? `per-thread: ${e.perThreadBecause}`
          : e.shared
            ? "shared: recorded by several threads"
            : e.handOff
              ? "hand-off: one thread records, others wait"
              : "one thread";
      const uses = e.uses.map((u) => `${u.method}@${idx.call(u.m, u.call).range.start.row + 1}`).join(" ");
      lines.push(`  ${made.callee}() at ${rel(idx.modules[e.event.m].file)}:${made.range.start.row + 1}  ${verdict}  uses: ${uses}`);
    }
  }
  if (kind === "callgraph") {
    const cycles = project.graph.sccs(roots).filter((c) => c.length > 1 || project.graph.edges(c[0]).some((e) => nodeKey(e.to) === nodeKey(c[0])));
    if (cycles.length > 0) {
      lines.push("recursive components");
      for (const c of cycles) lines.push(`  ${c.map((n) => project.graph.label(n)).join(" <-> ")}`);
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * How a call site came to run `to`, where it took more than a name's value: the data-model
 * method an object runs when called (`__call__`). Empty for a plain function or method.
 */
function resolution(project: Project, m: number, call: number, to: CallNode): string {
  const idx = project.index;
  const c = idx.call(m, call);
  const notes = new Set<string>();
  if (c.implicit === "iter") return "iteration protocol: a for loop calls iter(), that is __iter__";
  if (c.implicit === "next") return "iteration protocol: each round calls the iterator's __next__";
  const runs = (v: Value) => idx.callTargets(v).some((f) => f.m === to.fn.m && f.s === to.fn.s);
  for (const v of idx.eval(m, c.fn)) {
    if (v.k === "inst" && idx.callableObjectMethods(v).some((f) => f.m === to.fn.m && f.s === to.fn.s)) {
      notes.add(`__call__ of a ${idx.scope(v).name} instance`);
    }
  }
  // A callable kept and called later: the chain of names and attributes it was written through.
  if (!plainCallee(project, m, c.fn)) {
    const origins = idx.originExprs(m, c.fn);
    let last = -1;
    origins.forEach((o, i) => {
      if ((o.expr.t === "attr" || o.expr.t === "name" || o.expr.t === "scope") && idx.eval(o.m, o.expr).some(runs)) last = i;
    });
    if (last >= 0) {
      const chain: string[] = [];
      for (let i = last; i >= 0 && chain.length < 8; i = origins[i].from) chain.unshift(exprSource(project, origins[i].m, origins[i].expr));
      const spelled = [exprSource(project, m, c.fn), ...chain].filter((x, i, all) => i === 0 || x !== all[i - 1]);
      notes.add(`kept callable: ${spelled.join(" <- ")}`);
    }
  }
  return [...notes].join("; ");
}

/** A callee that names its function directly: a def or import bound to a name, or a method of the receiver's class. */
function plainCallee(project: Project, m: number, e: Expr): boolean {
  const idx = project.index;
  if (e.t === "name") {
    if (e.scope < 0) return true;
    const sc = idx.modules[m].scopes[e.scope];
    const bindings = sc.bindings.filter((b) => b.name === e.name);
    const isParam = sc.kind === "function" && sc.params.some((p) => p.replace(/^\*+/, "") === e.name);
    return !isParam && bindings.length > 0 && bindings.every((b) => b.value.t === "scope" || b.value.t === "import");
  }
  if (e.t === "attr") {
    const objs = idx.eval(m, e.obj);
    return objs.length > 0 && objs.every((v) => v.k === "module" || ((v.k === "inst" || v.k === "class" || v.k === "super") && idx.lookupMethod(v.k === "super" ? { k: "class", m: v.m, s: v.s } : v, e.attr).length > 0));
  }
  return false;
}

/** An expression as the source spells it, roughly (for dumps). */
function exprSource(project: Project, m: number, e: Expr, depth = 0): string {
  if (depth > 6) return "…";
  switch (e.t) {
    case "name":
      return e.name;
    case "attr":
      return `${exprSource(project, m, e.obj, depth + 1)}.${e.attr}`;
    case "call":
      return `${project.index.call(m, e.id).callee}()`;
    case "item":
      return `${exprSource(project, m, e.of, depth + 1)}[…]`;
    case "scope":
      return project.index.modules[m].scopes[e.scope].isLambda ? "lambda" : project.index.modules[m].scopes[e.scope].name;
    case "str":
      return JSON.stringify(e.value);
    default:
      return "…";
  }
}

function describeItem(it: Item): string {
  if (it.k === "load") return `load ${it.what}${it.loop ? " [loop]" : ""}`;
  const when = (g: string[] | undefined) => (g && g.length > 0 ? ` [when ${g.join(" and ")}]` : "");
  if (it.k === "work") return `work ${it.what}${it.note ? ` (${it.note})` : ""}${when(it.pathGuards)}${it.loop ? " [loop]" : ""}`;
  if (it.k === "sync") {
    const cov = it.coverage === "all" ? "" : ` for ${[...it.coverage].join(",") || "no backend"}`;
    const how = [it.conditional ? "conditional" : "", it.partial ? "partial" : ""].filter(Boolean).join(", ");
    const decided = it.decided ? ` [always true here: ${it.decided.join(" and ")}]` : "";
    return `wait ${it.what}${cov}${how ? ` (${how})` : ""}${when(it.pathGuards)}${decided}${it.loop ? " [loop]" : ""}`;
  }
  if (it.k === "queued") return `queued ${it.what}${it.loop ? " [loop]" : ""}`;
  if (it.k === "check") return `check ${it.what}${it.loop ? " [loop]" : ""}`;
  if (it.k === "publish") return `publish ${it.what} (${it.via})${it.loop ? " [loop]" : ""}`;
  return `clock ${it.what}${it.open ? " opens" : ""}${it.close ? " closes" : ""}${it.into ? ` into ${it.into}` : ""}`;
}

/** Nodes with a known receiver reached from the functions of the named files, by function. */
function reachableNodes(project: Project, only: ReadonlySet<string>): Map<string, CallNode[]> {
  const idx = project.index;
  const seen = new Set<string>();
  const queue: CallNode[] = [];
  const count = idx.modules.length;
  for (let m = 0; m < count; m++) {
    if (only.size > 0 && !only.has(path.resolve(idx.modules[m].file))) continue;
    idx.modules[m].scopes.forEach((sc, s) => {
      if (sc.kind === "class") return;
      const n: CallNode = { fn: { m, s }, self: null };
      seen.add(nodeKey(n));
      queue.push(n);
    });
  }
  // Thread entries start nodes too (a method started on a known instance).
  for (const spawn of project.threads.spawns) {
    for (const t of spawn.nodes ?? []) {
      const k = nodeKey(t.to);
      if (!t.to.self || seen.has(k) || (only.size > 0 && !only.has(path.resolve(idx.modules[t.to.fn.m].file)))) continue;
      seen.add(k);
      queue.push(t.to);
    }
  }
  const out = new Map<string, CallNode[]>();
  const note = (n: CallNode) => {
    const fk = `${n.fn.m}:${n.fn.s}`;
    const list = out.get(fk) ?? [];
    list.push(n);
    out.set(fk, list);
  };
  for (const n of queue) if (n.self) note(n);
  for (let i = 0; i < queue.length; i++) {
    for (const e of project.graph.edges(queue[i])) {
      const k = nodeKey(e.to);
      if (seen.has(k)) continue;
      seen.add(k);
      queue.push(e.to);
      if (e.to.self) note(e.to);
    }
  }
  for (const list of out.values()) list.sort((a, b) => nodeKey(a) < nodeKey(b) ? -1 : 1);
  return out;
}
