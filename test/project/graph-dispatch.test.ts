import { describe, expect, it } from "vitest";
import { nodeKey, type CallNode } from "../../src/project/callgraph.js";
import { buildProject, py } from "./graph-project.js";

const HIERARCHY = py([
  "import threading",
  "class Base:",
  "    def run(self):",
  "        self.setup()",
  "        return self.process()",
  "    def setup(self):",
  "        pass",
  "    def process(self):",
  "        pass",
  "    def start(self):",
  "        threading.Thread(target=self.run).start()",
  "class SubA(Base):",
  "    def setup(self):",
  "        pass",
  "    def process(self):",
  "        pass",
  "class SubB(Base):",
  "    def process(self):",
  "        pass",
  "def main():",
  "    threading.Thread(target=SubA().run).start()",
]);

const names = (b: ReturnType<typeof buildProject>, nodes: CallNode[]) => nodes.map((n) => short(b.project.graph.label(n)));
/** "module:Qual.name [self: X]" -> "Qual.name [self: X]" */
const short = (label: string) => label.slice(label.indexOf(":") + 1);

describe("call graph: receiver-aware dispatch", () => {
  it("dispatches calls on self to the known receiver's MRO only", () => {
    const b = buildProject({ "app.py": HIERARCHY });
    const run = { fn: b.fn("app.py:Base.run"), self: b.fn("app.py:SubA") };
    const edges = b.project.graph.edges(run);
    expect(names(b, edges.map((e) => e.to))).toEqual(["SubA.setup [self: SubA]", "SubA.process [self: SubA]"]);
    expect(edges.every((e) => e.dispatch === "exact")).toBe(true);
  });

  it("fans out over subclasses for an unknown receiver, marked as hierarchy dispatch", () => {
    const b = buildProject({ "app.py": HIERARCHY });
    const edges = b.project.graph.edges({ fn: b.fn("app.py:Base.run"), self: null });
    const byTarget = Object.fromEntries(edges.map((e) => [short(b.project.graph.label(e.to)), e.dispatch]));
    expect(byTarget).toEqual({
      "Base.setup": "exact",
      "SubA.setup": "hierarchy",
      "Base.process": "exact",
      "SubA.process": "hierarchy",
      "SubB.process": "hierarchy",
    });
  });

  it("reaches only the started instance's methods from a thread, and marks guessed hops in the witness", () => {
    const b = buildProject({ "app.py": HIERARCHY });
    const t = b.project.threads;
    // SubB.process is reached only through Base.start (receiver unknown there): a guess, marked.
    const subB = t.pathTo(b.fn("app.py:SubB.process"));
    expect(subB.map((s) => s.label)).toEqual(["Thread(target=self.run)", "Base.run", "SubB.process"]);
    expect(subB[2].unknownReceiver).toBe(true);
    // SubA.process: the thread on SubA().run reaches it with its receiver known.
    const subA = t.pathTo(b.fn("app.py:SubA.process"));
    expect(subA.map((s) => s.label)).toEqual(["Thread(target=…().run)", "Base.run", "SubA.process"]);
    expect(subA.some((s) => s.unknownReceiver)).toBe(false);
  });

  it("uses the constructor's class as the receiver of __init__ and what it calls", () => {
    const b = buildProject({
      "m.py": py([
        "class A:",
        "    def __init__(self):",
        "        self.load()",
        "    def load(self):",
        "        pass",
        "class B(A):",
        "    def load(self):",
        "        pass",
        "def make():",
        "    return B()",
      ]),
    });
    const make = b.project.graph.edges({ fn: b.fn("m.py:make"), self: null });
    expect(names(b, make.map((e) => e.to))).toEqual(["A.__init__ [self: B]"]);
    expect(names(b, b.project.graph.edges(make[0].to).map((e) => e.to))).toEqual(["B.load [self: B]"]);
  });
});

describe("call graph: structure", () => {
  const RECURSIVE = py([
    "def a(n):",
    "    return b(n - 1)",
    "def b(n):",
    "    if n:",
    "        return a(n)",
    "    return leaf()",
    "def leaf():",
    "    return 0",
    "def top():",
    "    return a(3)",
  ]);

  it("puts mutually recursive functions in one component, callees before callers", () => {
    const b = buildProject({ "r.py": RECURSIVE });
    const all = b.project.graph.buildAll();
    const comps = b.project.graph.sccs(all).map((c) => names(b, c).sort());
    const pos = (name: string) => comps.findIndex((c) => c.includes(name));
    expect(comps[pos("a")]).toEqual(["a", "b"]);
    expect(pos("leaf")).toBeLessThan(pos("a"));
    expect(pos("a")).toBeLessThan(pos("top"));
  });

  it("gives the same components whatever order the functions are defined in", () => {
    const reordered = py(RECURSIVE.trim().split("\n").reduce<string[][]>((defs, line) => {
      if (line.startsWith("def ")) defs.push([]);
      defs[defs.length - 1].push(line);
      return defs;
    }, []).reverse().flat());
    const shape = (src: string) => {
      const b = buildProject({ "r.py": src });
      return b.project.graph.sccs(b.project.graph.buildAll()).map((c) => names(b, c).sort().join(",")).filter((c) => c.includes(",")).sort();
    };
    expect(shape(reordered)).toEqual(shape(RECURSIVE));
    expect(shape(RECURSIVE)).toEqual(["a,b"]);
  });

  it("records reverse edges for what it built", () => {
    const b = buildProject({ "r.py": RECURSIVE });
    b.project.graph.buildAll();
    const callers = b.project.graph.callersOf({ fn: b.fn("r.py:a"), self: null }).map((c) => nodeKey(c.from));
    expect(callers.sort()).toEqual([nodeKey({ fn: b.fn("r.py:b"), self: null }), nodeKey({ fn: b.fn("r.py:top"), self: null })].sort());
  });
});

describe("call graph: super() with a known receiver", () => {
  it("follows super() along the receiver's MRO and keeps the receiver", () => {
    const b = buildProject({
      "s.py": py([
        "class Base:",
        "    def run(self):",
        "        return self.process()",
        "    def process(self):",
        "        pass",
        "class Mid(Base):",
        "    def run(self):",
        "        return super().run()",
        "class SubA(Mid):",
        "    def process(self):",
        "        pass",
        "class SubB(Mid):",
        "    def process(self):",
        "        pass",
      ]),
    });
    const g = b.project.graph;
    const mid = g.edges({ fn: b.fn("s.py:Mid.run"), self: b.fn("s.py:SubA") });
    expect(names(b, mid.map((e) => e.to))).toEqual(["Base.run [self: SubA]"]);
    expect(names(b, g.edges(mid[0].to).map((e) => e.to))).toEqual(["SubA.process [self: SubA]"]);
    // Unknown receiver: super() still resolves (through the index), the receiver stays unknown.
    const unknown = g.edges({ fn: b.fn("s.py:Mid.run"), self: null });
    expect(names(b, unknown.map((e) => e.to))).toEqual(["Base.run"]);
  });
});
