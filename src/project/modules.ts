// Module names from file paths, as Python's import system would see them: walk up through
// folders with __init__.py; the folder above the top package is a search root. Configured
// `src` roots take precedence when a file lies under one.

import { existsSync } from "node:fs";
import path from "node:path";

export function moduleNameFor(file: string, srcRoots: string[] = [], hasInit = defaultHasInit): string {
  const abs = path.resolve(file);
  const ext = path.extname(abs);
  let base = path.basename(abs, ext);
  for (const root of srcRoots) {
    const r = path.resolve(root);
    if (abs.startsWith(r + path.sep)) {
      const rel = abs.slice(r.length + 1, abs.length - ext.length).split(path.sep);
      if (rel[rel.length - 1] === "__init__") rel.pop();
      if (rel.length > 0 && rel.every(isIdentifier)) return rel.join(".");
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
  if (parts.length === 0) base = path.basename(path.dirname(abs));
  return parts.length > 0 ? parts.join(".") : base;
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
