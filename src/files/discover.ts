// Paths -> Python files. Walks folders iteratively, honours .gitignore files (nested ones too)
// and skips virtualenvs, build output and tool caches. Files named explicitly are always linted.

import { readdirSync, readFileSync, realpathSync, statSync, type Dirent } from "node:fs";
import path from "node:path";
import ignore, { type Ignore } from "ignore";

export const PYTHON_EXTENSIONS = [".py", ".pyi", ".ipynb"];
const SKIP_DIRS = new Set([
  ".git", ".hg", ".svn", "node_modules", ".venv", "venv", "build", "dist", "__pycache__",
  ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", ".eggs", ".mps_lint_cache",
  "site-packages",
]);

export class PathError extends Error {}

interface Scope {
  dir: string;
  ig: Ignore;
}

export interface DiscoverOptions {
  /** Extra folder/file glob-like names to skip (gitignore syntax), relative to cwd. */
  exclude?: string[];
  respectGitignore?: boolean;
  extensions?: string[];
  /** Configured excludes (settings resolved per folder): consulted for every path walked. */
  isExcluded?: (abs: string, isDir: boolean) => boolean;
  /** Apply excludes to files named explicitly too (Ruff's --force-exclude; pre-commit). */
  forceExclude?: boolean;
  /** A path inside a walked folder that cannot be read (a folder, a Python file's link): skipped, and told. */
  onWarning?: (path: string, message: string) => void;
}

/** What a failed stat or readdir means, in words. */
export function fsErrorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ELOOP":
      return "too many levels of symbolic links (a link loop)";
    case "ENOTDIR":
      return "a part of the path is not a folder";
    case "ENAMETOOLONG":
      return "file name too long";
    case "EISDIR":
      return "is a folder";
    default:
      return code ?? (e instanceof Error ? e.message : String(e));
  }
}

export function discover(paths: string[], cwd: string, options: DiscoverOptions = {}): string[] {
  const exts = options.extensions ?? PYTHON_EXTENSIONS;
  const exclude = ignore().add(options.exclude ?? []);
  const hasExclude = (options.exclude ?? []).length > 0;
  const out: string[] = [];
  const seenDirs = new Set<string>();
  const seenFiles = new Set<string>();
  const addFile = (f: string) => {
    if (!seenFiles.has(f)) {
      seenFiles.add(f);
      out.push(f);
    }
  };
  for (const p of paths) {
    const abs = path.resolve(cwd, p);
    let st;
    try {
      st = statSync(abs);
    } catch (e) {
      throw new PathError(`${p}: ${fsErrorText(e)}`);
    }
    if (st.isFile()) {
      if (options.forceExclude && options.isExcluded && excludedWithParents(abs, options.isExcluded)) continue;
      addFile(abs);
      continue;
    }
    if (!st.isDirectory()) throw new PathError(`${p}: not a regular file or a folder`);
    const scopes = options.respectGitignore === false ? [] : gitignoreScopesAbove(abs);
    walk(abs, scopes);
  }
  return out;

  function walk(root: string, rootScopes: Scope[]): void {
    const stack: { dir: string; scopes: Scope[] }[] = [{ dir: root, scopes: rootScopes }];
    while (stack.length > 0) {
      const { dir, scopes: parentScopes } = stack.pop()!;
      let real: string;
      try {
        real = realpathSync.native(dir);
      } catch (e) {
        options.onWarning?.(dir, `cannot read folder: ${fsErrorText(e)}; skipped`);
        continue;
      }
      if (seenDirs.has(real)) continue; // symlink loops and duplicates
      seenDirs.add(real);
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch (e) {
        options.onWarning?.(dir, `cannot read folder: ${fsErrorText(e)}; skipped`);
        continue;
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      if (entries.some((e) => e.name === "pyvenv.cfg")) continue;
      let scopes = parentScopes;
      if (options.respectGitignore !== false && entries.some((e) => e.name === ".gitignore")) {
        const ig = readIgnore(path.join(dir, ".gitignore"));
        if (ig) scopes = [...parentScopes, { dir, ig }];
      }
      const subdirs: string[] = [];
      for (const entry of entries) {
        const name = entry.name;
        // The entry's type comes with the listing; only symlinks (and file systems that do not
        // report types) need a stat.
        let isDir = entry.isDirectory();
        let isFile = entry.isFile();
        if (entry.isSymbolicLink() || (!isDir && !isFile && !entry.isFIFO() && !entry.isSocket())) {
          try {
            const st = statSync(path.join(dir, name));
            isDir = st.isDirectory();
            isFile = st.isFile();
          } catch (e) {
            // A link that leads nowhere (or in a loop): say so when it is named like a Python file.
            if (exts.includes(path.extname(name))) options.onWarning?.(path.join(dir, name), `cannot follow: ${fsErrorText(e)}; skipped`);
            continue;
          }
        }
        if (isDir ? SKIP_DIRS.has(name) : !(isFile && exts.includes(path.extname(name)))) continue;
        const full = path.join(dir, name);
        if (scopes.length > 0 && isIgnored(full, isDir, scopes)) continue;
        if (hasExclude) {
          const rel = path.relative(cwd, full);
          if (rel && !rel.startsWith("..") && exclude.ignores(isDir ? rel + "/" : rel)) continue;
        }
        if (options.isExcluded?.(full, isDir)) continue;
        if (isDir) subdirs.push(full);
        else addFile(full);
      }
      for (let i = subdirs.length - 1; i >= 0; i--) stack.push({ dir: subdirs[i], scopes });
    }
  }
}

/** A file named explicitly is excluded when it, or a folder above it, is. */
function excludedWithParents(abs: string, isExcluded: (abs: string, isDir: boolean) => boolean): boolean {
  if (isExcluded(abs, false)) return true;
  for (let d = path.dirname(abs); d !== path.dirname(d); d = path.dirname(d)) if (isExcluded(d, true)) return true;
  return false;
}

function readIgnore(file: string): Ignore | null {
  try {
    return ignore().add(readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

function isIgnored(full: string, isDir: boolean, scopes: Scope[]): boolean {
  for (const s of scopes) {
    const rel = path.relative(s.dir, full);
    if (!rel || rel.startsWith("..")) continue;
    const p = rel.split(path.sep).join("/");
    if (s.ig.ignores(isDir ? p + "/" : p)) return true;
  }
  return false;
}

/** .gitignore files of the enclosing repository, from its root down to `dir`. */
function gitignoreScopesAbove(dir: string): Scope[] {
  const chain: string[] = [];
  let d = dir;
  for (;;) {
    chain.unshift(d);
    try {
      statSync(path.join(d, ".git"));
      break;
    } catch {
      /* keep going up */
    }
    const up = path.dirname(d);
    if (up === d) return [];
    d = up;
  }
  const scopes: Scope[] = [];
  for (const c of chain.slice(0, -1)) {
    const ig = readIgnore(path.join(c, ".gitignore"));
    if (ig) scopes.push({ dir: c, ig });
  }
  return scopes;
}
