// --watch: lint, then lint again whenever a Python file, notebook or configuration file under the
// linted paths changes (Ruff's `check --watch`). Each report replaces the last on a terminal.
// `lint` is the whole run (src/main.ts runLint: its lint stage is lintProject), so a watched
// report is exactly the report of a plain run at that moment.
//
// Folders are watched, one watcher each, never files: an editor's or `sed -i`'s atomic save
// (write a temporary file, rename it over the old one) replaces the file's inode, and a watcher
// on the file (Node's recursive watch on Linux keeps one per file) goes deaf after the first
// such save. A folder's watcher names the entry that changed, whatever inode it now has. A file
// named on the command line is watched through its folder, for its name only.

import { readdirSync, statSync, watch, type FSWatcher } from "node:fs";
import path from "node:path";
import type { RunOutput } from "../main.js";

const RELEVANT = /\.(py|pyi|ipynb|toml)$/;
/** Changes closer together than this are one edit (editors write a file in several steps). */
const SETTLE_MS = 150;
/** Folders never linted (src/files/discover.ts skips them too): not worth a watcher each. */
const SKIP = new Set([".git", ".hg", ".svn", "node_modules", "__pycache__", ".mps_lint_cache", ".venv", "venv", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache"]);

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export async function watchLint(paths: string[], cwd: string, lint: () => Promise<RunOutput>, out: NodeJS.WriteStream = process.stdout): Promise<number> {
  const report = async () => {
    if (out.isTTY) out.write("\u001b[2J\u001b[H");
    out.write(`[${new Date().toLocaleTimeString()}] linting…\n`);
    try {
      const r = await lint();
      out.write(r.stdout);
      if (r.stderr) process.stderr.write(r.stderr);
    } catch (e) {
      process.stderr.write(`mps-lint: ${e instanceof Error ? e.message : String(e)}\n`);
    }
    out.write("Watching for file changes.\n");
  };
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let pending = false;
  const onChange = (name: string | null) => {
    if (name && !RELEVANT.test(name)) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(function fire() {
      timer = null;
      if (running) {
        pending = true;
        return;
      }
      running = report().finally(() => {
        running = null;
        if (pending) {
          pending = false;
          fire();
        }
      });
    }, SETTLE_MS);
  };
  const watchers = new Map<string, FSWatcher>();
  /** Watch folder `dir` (and, with `deep`, the folders below it); `only`: the one file name that matters there. */
  const watchDir = (dir: string, deep: boolean, only?: string) => {
    if (watchers.has(dir)) return;
    let w: FSWatcher;
    try {
      w = watch(dir, (_event, name) => {
        const n = name ? String(name) : null;
        if (only !== undefined) {
          if (n === null || n === only) onChange(only);
          else if (n.endsWith(".toml")) onChange(n); // its configuration
          return;
        }
        if (n && deep && !SKIP.has(n)) {
          // A folder made (or moved in) since: watch it too.
          const sub = path.join(dir, n);
          if (!watchers.has(sub) && isDir(sub)) watchTree(sub);
        }
        onChange(n);
      });
    } catch {
      return; // vanished, or not readable: nothing to watch
    }
    w.on("error", () => {
      w.close();
      watchers.delete(dir);
    });
    watchers.set(dir, w);
  };
  const watchTree = (dir: string) => {
    watchDir(dir, true);
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory() && !SKIP.has(e.name)) watchTree(path.join(dir, e.name));
  };
  for (const p of paths.length > 0 ? paths : ["."]) {
    const abs = path.resolve(cwd, p);
    if (isDir(abs)) watchTree(abs);
    else watchDir(path.dirname(abs), false, path.basename(abs));
  }
  // Watching first: a change made while the first report prints is not missed.
  running = report().finally(() => {
    running = null;
  });
  await running;
  return new Promise((resolve) => {
    const stop = () => {
      for (const w of watchers.values()) w.close();
      resolve(0);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
