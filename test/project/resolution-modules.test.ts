import { describe, expect, it } from "vitest";
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
});
