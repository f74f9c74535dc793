// Module names from file paths, as Python's import system would see them: walk up through
// folders with __init__.py; the folder above the top package is a search root. Configured
// `src` roots take precedence when a file lies under one.

import { existsSync } from "node:fs";
import path from "node:path";

export function moduleNameFor(file: string, srcRoots: string[] = [], hasInit = defaultHasInit): string {
  return packagePath(file, srcRoots, hasInit).name;
}

/** A file's dotted name below its import root, and that root (the folder above its top package). */
function packagePath(file: string, srcRoots: string[], hasInit: (dir: string) => boolean): { name: string; root: string } {
  const abs = path.resolve(file);
  const ext = path.extname(abs);
  const base = path.basename(abs, ext);
  for (const root of srcRoots) {
    const r = path.resolve(root);
    if (abs.startsWith(r + path.sep)) {
      const rel = abs.slice(r.length + 1, abs.length - ext.length).split(path.sep);
      if (rel[rel.length - 1] === "__init__") rel.pop();
      if (rel.length > 0 && rel.every(isIdentifier)) return { name: rel.join("."), root: r };
    }
  }
  const parts: string[] = [];
  if (base !== "__init__") parts.push(base);
  let dir = path.dirname(abs);
  while (hasInit(dir)) {
    parts.unshift(path.basename(dir));
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  // An __init__.py with no package folder above it names its own folder.
  if (parts.length === 0) return { name: path.basename(path.dirname(abs)), root: path.dirname(path.dirname(abs)) };
  return { name: parts.join("."), root: dir };
}

/**
 * Top-level names of the standard library and of packages installed beside PyTorch: a folder of
 * the project with one of these names is what `import <name>` finds only when it sits at an import
 * root (Python searches sys.path, not every folder so named).
 */
export const INSTALLED_TOP_LEVEL = new Set([
  // standard library (the parts that matter here, and common short names that folders copy)
  "abc", "argparse", "array", "ast", "asyncio", "atexit", "base64", "bisect", "builtins", "calendar", "cmd", "code",
  "collections", "concurrent", "contextlib", "contextvars", "copy", "csv", "ctypes", "dataclasses", "datetime",
  "decimal", "difflib", "dis", "email", "enum", "errno", "faulthandler", "fnmatch", "fractions", "functools", "gc",
  "getpass", "gettext", "glob", "gzip", "hashlib", "heapq", "hmac", "html", "http", "importlib", "inspect", "io",
  "ipaddress", "itertools", "json", "keyword", "linecache", "locale", "logging", "lzma", "math", "mimetypes",
  "multiprocessing", "numbers", "operator", "os", "pathlib", "pickle", "platform", "pprint", "profile", "queue",
  "random", "re", "sched", "secrets", "select", "selectors", "shelve", "shlex", "shutil", "signal", "site", "socket",
  "socketserver", "sqlite3", "ssl", "stat", "statistics", "string", "struct", "subprocess", "sys", "tempfile",
  "textwrap", "threading", "time", "timeit", "token", "tokenize", "trace", "traceback", "types", "typing",
  "unittest", "urllib", "uuid", "warnings", "weakref", "xml", "zipfile", "zlib", "_thread",
  // PyTorch and the libraries whose calls the linter resolves (thread pools, servers)
  "torch", "torchvision", "torchaudio", "numpy", "anyio", "starlette", "fastapi", "uvicorn", "grpc", "transformers",
]);

export interface ModuleNaming {
  /** The module's own name: what its relative imports are resolved against. */
  name: string;
  /** Every key of the name-to-file table that leads to this file. */
  keys: string[];
  /** Key prefix of its import root: `rootKey(root, "x")` names module x as seen from this file. */
  root: string;
}

/** The table key of module `name` as found on import root `root` (sys.path[0] of a script there). */
export function rootKey(root: string, name: string): string {
  return `${root}.${name}`;
}

/**
 * The one naming of a file for the name-to-file table. A module is reachable by its dotted name
 * below its import root, qualified by that root (so a script's own folder comes first for its
 * imports); unqualified too unless that would shadow an installed package from a folder nested
 * inside the project (the import root lies below a linted root and is no configured src root).
 * Paths relative to the linted roots name modules as well (namespace packages).
 */
export function moduleNaming(file: string, srcRoots: string[] = [], searchRoots: string[] = [], hasInit = defaultHasInit): ModuleNaming {
  const { name, root } = packagePath(file, srcRoots, hasInit);
  const aliases = aliasModuleNames(file, searchRoots);
  const rootTag = `@${root.split(path.sep).join("/").replace(/\./g, "_")}`;
  const top = name.split(".")[0];
  const shadows = INSTALLED_TOP_LEVEL.has(top) && !isImportRoot(root, srcRoots, searchRoots);
  const keys = [rootKey(rootTag, name)];
  if (!shadows) keys.push(name);
  for (const a of aliases) if (!keys.includes(a)) keys.push(a);
  return { name: shadows ? (aliases[0] ?? rootKey(rootTag, name)) : name, keys, root: rootTag };
}

/** A folder Python would have on sys.path for this project: a src root, a linted root or above, a src/ layout. */
function isImportRoot(root: string, srcRoots: string[], searchRoots: string[]): boolean {
  if (srcRoots.some((r) => path.resolve(r) === root)) return true;
  return searchRoots.some((s) => {
    const r = path.resolve(s);
    return r === root || r.startsWith(root + path.sep) || path.join(r, "src") === root;
  });
}

const initCache = new Map<string, boolean>();
function defaultHasInit(dir: string): boolean {
  let v = initCache.get(dir);
  if (v === undefined) {
    v = existsSync(path.join(dir, "__init__.py")) || existsSync(path.join(dir, "__init__.pyi"));
    initCache.set(dir, v);
  }
  return v;
}

function isIdentifier(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s);
}

/**
 * Other names a file may be imported by: its path relative to each search root (the folders
 * linted, the working folder). This covers namespace packages (folders without __init__.py),
 * common in applications: `import modules.api.completions` for modules/api/completions.py.
 */
export function aliasModuleNames(file: string, roots: string[]): string[] {
  const abs = path.resolve(file);
  const ext = path.extname(abs);
  const out: string[] = [];
  for (const root of roots) {
    const r = path.resolve(root);
    if (!abs.startsWith(r + path.sep)) continue;
    const rel = abs.slice(r.length + 1, abs.length - ext.length).split(path.sep);
    if (rel[rel.length - 1] === "__init__") rel.pop();
    if (rel.length > 0 && rel.every(isIdentifier)) out.push(rel.join("."));
  }
  return out;
}

/** `from ..pkg import x` inside module `a.b.c` (a package if `isPackage`) -> "a.pkg". */
export function resolveRelative(current: string, isPackage: boolean, level: number, module: string): string | null {
  if (level === 0) return module;
  const parts = current.split(".");
  // A module's own package is its name minus the last part; a package's is itself.
  let keep = isPackage ? parts.length : parts.length - 1;
  keep -= level - 1;
  if (keep < 0) return null;
  const base = parts.slice(0, keep);
  if (module) base.push(module);
  return base.length > 0 ? base.join(".") : null;
}
