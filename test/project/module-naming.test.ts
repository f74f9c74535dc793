// How files are named as Python modules (src/project/modules.ts): the dotted name below the
// import root, the names of namespace packages relative to the linted folders, shadowing of
// installed packages by nested folders, and relative imports resolved as Python resolves them.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { aliasModuleNames, moduleNameFor, moduleNaming, resolveRelative, rootKey } from "../../src/project/modules.js";

const P = (...parts: string[]) => path.join(path.sep, ...parts);
/** Folders that hold an __init__.py, as the naming asks for them. */
const packages = (...dirs: string[]) => (dir: string) => dirs.includes(dir);

describe("resolveRelative", () => {
  it("resolves from the module's own package, one level per extra dot", () => {
    expect(resolveRelative("a.b.c", false, 0, "os.path")).toBe("os.path");
    expect(resolveRelative("a.b.c", false, 1, "x")).toBe("a.b.x");
    expect(resolveRelative("a.b.c", false, 1, "")).toBe("a.b");
    expect(resolveRelative("a.b.c", false, 2, "x")).toBe("a.x");
    expect(resolveRelative("a.b.c", false, 2, "")).toBe("a");
  });

  it("takes a package's __init__ as the package itself", () => {
    expect(resolveRelative("a.b", true, 1, "x")).toBe("a.b.x");
    expect(resolveRelative("a.b", true, 2, "x")).toBe("a.x");
  });

  it("gives nothing beyond the top of the tree", () => {
    expect(resolveRelative("a.b.c", false, 4, "x")).toBeNull();
    expect(resolveRelative("a", false, 1, "")).toBeNull();
    expect(resolveRelative("a", true, 3, "x")).toBeNull();
  });
});

describe("aliasModuleNames", () => {
  it("names a file by its path below each linted folder (namespace packages)", () => {
    expect(aliasModuleNames(P("r", "modules", "api", "completions.py"), [P("r")])).toEqual(["modules.api.completions"]);
    expect(aliasModuleNames(P("r", "pkg", "__init__.py"), [P("r")])).toEqual(["pkg"]);
    expect(aliasModuleNames(P("r", "stubs.pyi"), [P("r")])).toEqual(["stubs"]);
    expect(aliasModuleNames(P("r", "a", "b.py"), [P("r"), P("r", "a")])).toEqual(["a.b", "b"]);
  });

  it("gives no name where no import could reach the file", () => {
    // Not below the folder (a sibling whose name starts the same), not identifiers.
    expect(aliasModuleNames(P("r2", "x.py"), [P("r")])).toEqual([]);
    expect(aliasModuleNames(P("r", "my-scripts", "run.py"), [P("r")])).toEqual([]);
    expect(aliasModuleNames(P("r", "v1.2", "run.py"), [P("r")])).toEqual([]);
    expect(aliasModuleNames(P("r", "2fast.py"), [P("r")])).toEqual([]);
  });
});

describe("moduleNaming", () => {
  it("names a module by its packages up to the first folder without __init__.py", () => {
    const hasInit = packages(P("p", "proj", "pkg"), P("p", "proj", "pkg", "sub"));
    const n = moduleNaming(P("p", "proj", "pkg", "sub", "mod.py"), [], [], hasInit);
    expect(n.name).toBe("pkg.sub.mod");
    expect(n.root).toBe(`@${["", "p", "proj"].join("/")}`);
    expect(n.keys).toEqual([rootKey(n.root, "pkg.sub.mod"), "pkg.sub.mod"]);
    expect(moduleNameFor(P("p", "proj", "pkg", "sub", "__init__.py"), [], hasInit)).toBe("pkg.sub");
  });

  it("keeps the import root's dots out of its key", () => {
    const n = moduleNaming(P("p", "my.proj", "tool.py"), [], [], packages());
    expect(n.root).toBe(`@${["", "p", "my_proj"].join("/")}`);
  });

  it("names a file below a configured src root by its path there", () => {
    const file = P("p", "proj", "lib", "a", "b.py");
    expect(moduleNameFor(file, [P("p", "proj", "lib")], packages())).toBe("a.b");
    // A path that is no dotted name falls back to the packages.
    expect(moduleNameFor(P("p", "proj", "lib", "my-a", "b.py"), [P("p", "proj", "lib")], packages())).toBe("b");
  });

  it("does not let a nested folder named like an installed package shadow it", () => {
    const hasInit = packages(P("p", "proj", "vendor", "json"));
    const file = P("p", "proj", "vendor", "json", "__init__.py");
    const nested = moduleNaming(file, [], [P("p", "proj")], hasInit);
    expect(nested.keys).not.toContain("json");
    expect(nested.name).toBe("vendor.json");
    // At an import root (a linted folder, or a src/ layout below one) it is what `import json` finds.
    expect(moduleNaming(file, [], [P("p", "proj", "vendor")], hasInit).keys).toContain("json");
    const srcLayout = P("p", "proj", "src", "json", "__init__.py");
    expect(moduleNaming(srcLayout, [], [P("p", "proj")], packages(P("p", "proj", "src", "json"))).keys).toContain("json");
    expect(moduleNaming(file, [P("p", "proj", "vendor")], [], hasInit).keys).toContain("json");
  });
});
