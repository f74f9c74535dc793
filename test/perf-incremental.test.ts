// Incremental runs: a cached result is reused only when every file the analysis read is unchanged
// (early cut-off for edits to files it never read), and after any sequence of edits a run with the
// cache gives what a run from scratch gives.
import { cpSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { RULES } from "../rules/index.js";
import { discover } from "../src/files/discover.js";
import { lintFiles } from "../src/engine/engine.js";
import { FIXTURES } from "./harness.js";

const tmp = mkdtempSync(path.join(tmpdir(), "mps-lint-incremental-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Each write gets a later mtime, so the cache manifest never vouches for a stale entry by its stat. */
let clock = Date.now() - 3_600_000;
function write(file: string, text: string): void {
  writeFileSync(file, text);
  clock += 2_000;
  utimesSync(file, new Date(clock), new Date(clock));
}

function copy(name: string, from: string): string {
  const dir = path.join(tmp, name);
  cpSync(from, dir, { recursive: true });
  for (const f of discover([dir], dir)) write(f, readFileSync(f, "utf8"));
  return dir;
}

// The rules the prefilter can serve (MPS000, when selected, parses every file).
const rules = RULES.filter((r) => r.meta.code !== "MPS000");
/** The same run with no cache: what the cached run must equal. */
const fromScratch = (files: string[]) => lintFiles({ files, rules, prefilter: true }).diagnostics;

describe("results cache: early cut-off by what the analysis read", () => {
  it("reuses the result after an edit to a file the analysis never read, and not after one it read", () => {
    const dir = copy("cutoff", path.join(FIXTURES, "device-sync-in-thread"));
    const unread = path.join(dir, "notes_unread.py");
    write(unread, "def area(r):\n    return 3.14159 * r * r\n");
    const files = discover([dir], dir);
    const cacheDir = path.join(tmp, "cutoff-cache");
    const run = () => lintFiles({ files, rules, cacheDir, prefilter: true });

    const cold = run();
    expect(cold.stats!.cachedResult).toBe(false);
    expect(cold.diagnostics.length).toBeGreaterThan(0);
    expect(cold.facts.some((f) => f.file === unread)).toBe(false);

    // The unread file changes (and still names nothing the prefilter looks for): same result, from the cache.
    write(unread, "def area(r):\n    return 3.0 * r * r  # rough\n");
    const afterUnread = run();
    expect(afterUnread.stats!.cachedResult).toBe(true);
    expect(afterUnread.diagnostics).toEqual(fromScratch(files));

    // A file the analysis read changes: recomputed, and equal to a run from scratch.
    const read = cold.facts.find((f) => /torch\.mps\.synchronize\(\)/.test(readFileSync(f.file, "utf8")))!.file;
    write(read, readFileSync(read, "utf8").replace("torch.mps.synchronize()", "pass  # was a sync"));
    const afterRead = run();
    expect(afterRead.stats!.cachedResult).toBe(false);
    expect(afterRead.diagnostics).toEqual(fromScratch(files));
    expect(afterRead.diagnostics.length).toBeLessThan(cold.diagnostics.length);

    // The unread file starts a thread: its prefilter verdict changes, so the entry is not used.
    write(unread, "import threading\nthreading.Thread(target=print).start()\n");
    const afterVerdict = run();
    expect(afterVerdict.stats!.cachedResult).toBe(false);
    expect(afterVerdict.diagnostics).toEqual(fromScratch(files));
  });

  it("after random edit sequences on real files, the cached run equals a run from scratch", () => {
    const dir = copy("property", path.join(FIXTURES, "device-sync-in-thread", "cross_module"));
    const files = discover([dir], dir);
    const originals = new Map(files.map((f) => [f, readFileSync(f, "utf8")]));
    const cacheDir = path.join(tmp, "property-cache");
    // Edits a user makes that change what the analysis sees: remove or add syncs, threads,
    // imports, functions; and edits it should not care about (comments, blank lines).
    const edits: ((text: string) => string)[] = [
      (t) => t.replace(/torch\.(mps|cuda)\.synchronize\(\)/, "pass"),
      (t) => t.replace(/^(\s*)return\b/m, "$1torch.mps.synchronize()\n$1return"),
      (t) => t.replace(/threading\.Thread\(/, "run_inline("),
      (t) => `import threading\n${t}\ndef _spawned():\n    helper_sync()\n\nthreading.Thread(target=_spawned).start()\n`,
      (t) => `${t}\n# a comment only\n`,
      (t) => t.replace(/^import .*$/m, ""),
      (t) => `import torch\n\ndef helper_sync():\n    torch.mps.synchronize()\n\n${t}`,
      (t) => t.split("\n").slice(0, -3).join("\n"),
    ];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(files.length - 1), fc.nat(edits.length - 1)), { minLength: 1, maxLength: 6 }),
        (steps) => {
          for (const f of files) write(f, originals.get(f)!);
          lintFiles({ files, rules, cacheDir, prefilter: true });
          for (const [fi, ei] of steps) {
            const f = files[fi];
            write(f, edits[ei](readFileSync(f, "utf8")));
            const cached = lintFiles({ files, rules, cacheDir, prefilter: true, jobs: 1 });
            expect(cached.diagnostics).toEqual(fromScratch(files));
          }
        },
      ),
      { numRuns: 25, seed: 7 },
    );
  });
});
