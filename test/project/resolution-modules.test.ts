import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { extractFacts } from "../../src/facts/extract.js";
import type { ModuleFacts } from "../../src/facts/model.js";
import { moduleNaming } from "../../src/project/modules.js";
import { Project } from "../../src/project/project.js";
import type { Value } from "../../src/project/values.js";
import { buildProject, py } from "./graph-project.js";

/** What module-level name `name` of `file` evaluates to, as short strings. */
function valuesOf(b: ReturnType<typeof buildProject>, file: string, name: string): string[] {
  const m = b.project.index.modules.findIndex((f) => f.file.endsWith(`/${file}`));
  const bind = b.project.index.modules[m].scopes[0].bindings.find((x) => x.name === name)!;
  return b.project.index.eval(m, bind.value).map((v: Value) =>
    v.k === "module" ? `module ${b.project.index.moduleNames[v.m]}` : v.k === "ext" ? `ext ${v.name}` : v.k === "fn" ? `fn ${b.project.index.displayName(v)}` : v.k,
  );
}

const VENDORED = {
  "app.py": py(["import torch", "sync = torch.mps.synchronize"]),
  "vendor/act/torch/__init__.py": py(["from .layers import make_policy"]),
  "vendor/act/torch/layers.py": py(["def make_policy(c):", "    return c"]),
  "vendor/act/policy.py": py(["import torch", "make = torch.make_policy"]),
};

describe("module resolution", () => {
  it("does not let a nested folder named like an installed package shadow it", () => {
    const b = buildProject(VENDORED, { searchRoots: ["."] });
    expect(valuesOf(b, "app.py", "sync")).toEqual(["ext torch.mps.synchronize"]);
  });

  it("resolves the nested package for code in its own import root (the script's folder is sys.path[0])", () => {
    const b = buildProject(VENDORED, { searchRoots: ["."] });
    expect(valuesOf(b, "vendor/act/policy.py", "make")).toEqual(["fn make_policy"]);
  });

  it("keeps the same answer without linted roots", () => {
    const b = buildProject(VENDORED);
    expect(valuesOf(b, "app.py", "sync")).toEqual(["ext torch.mps.synchronize"]);
  });

  it("resolves a package named like an installed one when it sits at the linted root (linting that package)", () => {
    const b = buildProject(
      { "torch/__init__.py": py(["from .cuda import synchronize"]), "torch/cuda.py": py(["def synchronize():", "    pass"]), "use.py": py(["import torch", "s = torch.synchronize"]) },
      { searchRoots: ["."] },
    );
    expect(valuesOf(b, "use.py", "s")).toEqual(["fn synchronize"]);
  });

  it("resolves src/ layouts and configured src roots", () => {
    const files = {
      "src/queue/__init__.py": py(["def put(x):", "    return x"]),
      "tools/run.py": py(["import queue", "p = queue.put"]),
    };
    expect(valuesOf(buildProject(files, { searchRoots: ["."] }), "tools/run.py", "p")).toEqual(["fn put"]);
    expect(valuesOf(buildProject(files, { srcRoots: ["src"] }), "tools/run.py", "p")).toEqual(["fn put"]);
    expect(valuesOf(buildProject(files), "tools/run.py", "p")).toEqual(["ext queue.put"]);
  });

  it("gives each script folder its own sibling module when two folders have one of the same name", () => {
    const b = buildProject({
      "a/utils.py": py(["def helper():", "    return 1"]),
      "a/main.py": py(["import utils", "h = utils.helper"]),
      "b/utils.py": py(["def other():", "    return 2"]),
      "b/main.py": py(["import utils", "h = utils.other"]),
    });
    expect(valuesOf(b, "a/main.py", "h")).toEqual(["fn helper"]);
    expect(valuesOf(b, "b/main.py", "h")).toEqual(["fn other"]);
  });

  it("takes a name from the last star import that binds it, without loading the earlier ones", () => {
    // `from .a import *` then `from .b import *`: b's `f` rebinds a's, so `pkg.f` is b's alone.
    const files: Record<string, string> = {
      "pkg/__init__.py": py(["from .a import *", "from .b import *"]),
      "pkg/a.py": py(["def f():", "    return 1", "", "def only_a():", "    return 2"]),
      "pkg/b.py": py(["def f():", "    return 3"]),
      "use.py": py(["import pkg", "x = pkg.f", "y = pkg.only_a"]),
    };
    const root = mkdtempSync(path.join(tmpdir(), "mps-lint-star-"));
    const facts = new Map<string, ModuleFacts>();
    for (const [rel, text] of Object.entries(files)) {
      const file = path.join(root, rel);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
      facts.set(moduleNaming(file, [], [root]).name, extractFacts(file, text));
    }
    // Demand loading as in src/engine/engine.ts: only use.py is given; the rest is loaded when asked for.
    const loaded: string[] = [];
    const project = new Project([facts.get("use")!], {
      searchRoots: [root],
      loadModule: (name) => {
        const f = facts.get(name);
        if (f) loaded.push(name);
        return f ? [f] : [];
      },
    });
    const idx = project.index;
    const use = idx.modules.findIndex((f) => f.file.endsWith("use.py"));
    const valueOf = (name: string) =>
      idx.eval(use, idx.modules[use].scopes[0].bindings.find((x) => x.name === name)!.value).map((v) => (v.k === "fn" ? `${idx.moduleNames[v.m]}.${idx.displayName(v)}` : v.k));
    expect(valueOf("x")).toEqual(["pkg.b.f"]);
    expect(loaded).toEqual(["pkg", "pkg.b"]);
    // A name only the earlier module binds is still found there.
    expect(valueOf("y")).toEqual(["pkg.a.only_a"]);
    expect(loaded).toEqual(["pkg", "pkg.b", "pkg.a"]);
  });
});
