// Folders a module puts on sys.path (`sys.path.insert(0, os.path.join(os.path.dirname(__file__),
// "../thirdparty"))`, `sys.path.append(str(Path(__file__).parent / "vendor"))`,
// `site.addsitedir(...)`): after such a call Python imports the files under that folder by their
// path relative to it (`import indextts.infer` for thirdparty/indextts/infer.py), which is how
// applications load vendored code. sys.path is one list for the whole process, so a folder added
// anywhere names modules everywhere; the index adds it as an import root when it reads the
// module that adds it (src/project/index.ts).
//
// Only paths computed from `__file__` and string constants through os.path and pathlib are
// followed; a path read from the environment, a config or an argument is not known, and then
// nothing is added (no module is named by a guess).

import path from "node:path";
import type { Expr, ModuleFacts } from "../facts/model.js";

/** sys.path mutators: the qualified callee and which argument is the folder. */
const ADDERS: Record<string, number> = {
  "sys.path.insert": 1,
  "sys.path.append": 0,
  "site.addsitedir": 0,
};

interface PathValue {
  path: string;
  /** A pathlib.Path (its `/` joins and `.parent` is its folder) rather than a str. */
  pathlib: boolean;
}

const MAX_DEPTH = 12;

// A module's facts do not change once made (the language server keeps them between lints): the
// folders are computed once per facts object.
const folders = new WeakMap<ModuleFacts, readonly string[]>();

/** Absolute folders this module adds to sys.path. */
export function sysPathFolders(facts: ModuleFacts): readonly string[] {
  let out = folders.get(facts);
  if (!out) folders.set(facts, (out = computeFolders(facts)));
  return out;
}

function computeFolders(facts: ModuleFacts): string[] {
  const out: string[] = [];
  for (const c of facts.calls) {
    const callee = qualified(facts, c.fn);
    const arg = callee === null ? undefined : ADDERS[callee];
    if (arg === undefined || c.star) continue;
    const e = c.args[arg];
    if (!e) continue;
    const v = evalPath(facts, e, 0);
    if (v && path.isAbsolute(v.path)) {
      const dir = path.resolve(v.path);
      if (!out.includes(dir)) out.push(dir);
    }
  }
  return out;
}

/** The dotted name an expression spells through imports (`os.path.join`, `Path`), or null. */
function qualified(facts: ModuleFacts, e: Expr): string | null {
  if (e.t === "attr") {
    const base = qualified(facts, e.obj);
    return base === null ? null : `${base}.${e.attr}`;
  }
  if (e.t !== "name" || e.scope < 0) return null;
  // Every binding of the name must be the same import (`import os` written twice is still os).
  const names = new Set<string | null>();
  for (const b of facts.scopes[e.scope]?.bindings ?? []) {
    if (b.name !== e.name) continue;
    const v = b.value;
    names.add(v.t === "import" && v.level === 0 ? (v.name === null ? v.module : `${v.module}.${v.name}`) : null);
  }
  return names.size === 1 ? [...names][0] : null;
}

/** os.path.join and pathlib's joining: a part that is absolute starts the path again. */
function join(parts: string[]): string {
  return parts.reduce((acc, p) => (path.isAbsolute(p) ? p : path.join(acc, p)));
}

function evalPath(facts: ModuleFacts, e: Expr, depth: number): PathValue | null {
  if (depth > MAX_DEPTH) return null;
  switch (e.t) {
    case "str":
      return { path: e.value, pathlib: false };
    case "name": {
      if (e.name === "__file__" && e.scope < 0) return { path: facts.file, pathlib: false };
      if (e.scope < 0) return null;
      // A local or module name bound once (`thirdparty_dir = os.path.join(...)`).
      const bindings = facts.scopes[e.scope]?.bindings.filter((b) => b.name === e.name) ?? [];
      if (bindings.length !== 1 || bindings[0].loop) return null;
      return evalPath(facts, bindings[0].value, depth + 1);
    }
    case "attr": {
      const obj = evalPath(facts, e.obj, depth + 1);
      if (obj?.pathlib && e.attr === "parent") return { path: path.dirname(obj.path), pathlib: true };
      return null;
    }
    case "op": {
      // `Path / "x"` (a pathlib operand first) or `str + "x"`; nothing else computes a path.
      if (e.choice || e.args.length !== 2) return null;
      const [a, b] = e.args.map((x) => evalPath(facts, x, depth + 1));
      if (!a || !b) return null;
      return a.pathlib ? { path: join([a.path, b.path]), pathlib: true } : b.pathlib ? null : { path: a.path + b.path, pathlib: false };
    }
    case "call":
      return evalCall(facts, e.id, depth);
    default:
      return null;
  }
}

function evalCall(facts: ModuleFacts, id: number, depth: number): PathValue | null {
  const c = facts.calls[id];
  if (!c || c.star || Object.keys(c.kwargs).length > 0) return null;
  const args = () => {
    const vs = c.args.map((a) => evalPath(facts, a, depth + 1));
    return vs.every((v): v is PathValue => v !== null) ? vs : null;
  };
  // Methods of a pathlib.Path that keep the folder it names.
  if (c.fn.t === "attr" && ["resolve", "absolute", "expanduser"].includes(c.fn.attr) && c.args.length === 0) {
    const obj = evalPath(facts, c.fn.obj, depth + 1);
    return obj?.pathlib && path.isAbsolute(obj.path) ? obj : null;
  }
  const callee = qualified(facts, c.fn) ?? (c.fn.t === "name" && c.fn.scope < 0 ? c.fn.name : null);
  switch (callee) {
    case "os.path.dirname": {
      const a = args();
      return a?.length === 1 ? { path: path.dirname(a[0].path), pathlib: false } : null;
    }
    case "os.path.abspath":
    case "os.path.realpath":
    case "os.path.normpath": {
      const a = args();
      return a?.length === 1 && path.isAbsolute(a[0].path) ? { path: path.normalize(a[0].path), pathlib: false } : null;
    }
    case "os.path.join": {
      const a = args();
      return a && a.length > 0 ? { path: join(a.map((v) => v.path)), pathlib: false } : null;
    }
    case "str":
    case "os.fspath": {
      const a = args();
      return a?.length === 1 ? { path: a[0].path, pathlib: false } : null;
    }
    case "pathlib.Path":
    case "pathlib.PurePath": {
      const a = args();
      return a && a.length > 0 ? { path: join(a.map((v) => v.path)), pathlib: true } : null;
    }
    default:
      return null;
  }
}
