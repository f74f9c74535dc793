// --watch: lint, then lint again whenever a Python file, notebook or configuration file under the
// linted paths changes (Ruff's `check --watch`). Each report replaces the last on a terminal.
// `lint` is the whole run (src/main.ts runLint: its lint stage is lintProject), so a watched
// report is exactly the report of a plain run at that moment.

import { watch, type FSWatcher } from "node:fs";
import path from "node:path";
import type { RunOutput } from "../main.js";

const RELEVANT = /\.(py|pyi|ipynb|toml)$/;
/** Changes closer together than this are one edit (editors write a file in several steps). */
const SETTLE_MS = 150;

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
  const watchers: FSWatcher[] = [];
  for (const p of paths.length > 0 ? paths : ["."]) {
    const abs = path.resolve(cwd, p);
    watchers.push(watch(abs, { recursive: true }, (_event, name) => onChange(name ? String(name) : null)));
  }
  // Watching first: a change made while the first report prints is not missed.
  running = report().finally(() => {
    running = null;
  });
  await running;
  return new Promise((resolve) => {
    const stop = () => {
      for (const w of watchers) w.close();
      resolve(0);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
