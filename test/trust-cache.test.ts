// Issue 30: the cache is untrusted input. Fault injection through the built CLI: each entry kind
// (manifest, facts, results) truncated, garbled, of the wrong shape, replaced by a FIFO, a link to
// /dev/zero or a huge file; a same-size edit with the mtime set back; an edit text tampered with in
// a results entry; `mps-lint clean` racing runs. Every run must give exactly what a run without
// the cache gives, say once that the cache was bad, never hang, and never write what the cache says
// into a source file.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, runCli } from "./cli.js";
import { FIXTURES } from "./harness.js";

const tmp = mkdtempSync(path.join(tmpdir(), "mps-lint-trust-cache-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const WORKER = `import threading
import torch

from helpers import finish


def worker():
    x = compute_value(12345)
    torch.mps.synchronize()
    finish()
    return x


threading.Thread(target=worker).start()
`;

const HELPERS = `import torch


def finish():
    torch.cuda.synchronize()  # noqa: MPS004
`;

const CACHE = ".mps_lint_cache";
const ARGS = ["--isolated", "-f", "json", "--unsafe-fixes", "."];

/** Projects are made up front and the suite waits once: a file whose ctime is under 2 s old is never vouched for by its stat. */
const PROJECTS = [
  "plain",
  "stale",
  "tampered",
  "tampered-diff",
  "clean-race",
  ...["manifest", "facts", "results"].flatMap((k) => ["truncated", "garbled", "array", "object", "deep", "fifo", "zero", "huge"].map((f) => `${k}-${f}`)),
];

function make(name: string): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "w.py"), WORKER);
  writeFileSync(path.join(dir, "helpers.py"), HELPERS);
  const old = new Date(Date.now() - 3_600_000);
  for (const f of ["w.py", "helpers.py"]) utimesSync(path.join(dir, f), old, old);
  return dir;
}

let expected: { stdout: string; code: number };

/** JSON reports name files by absolute path: compare them with the project's folder taken out. */
const norm = (stdout: string, dir: string) => stdout.split(dir + path.sep).join("<dir>/");

beforeAll(async () => {
  for (const p of PROJECTS) make(p);
  await new Promise((r) => setTimeout(r, 2_200));
  const r = runCli(["--no-cache", ...ARGS], { cwd: path.join(tmp, "plain") });
  expected = { stdout: norm(r.stdout, path.join(tmp, "plain")), code: r.code };
  expect(r.code).toBe(1);
  expect(JSON.parse(r.stdout).map((d: { code: string }) => d.code)).toEqual(["MPS001", "MPS001"]);
});

/** Fill the cache with two runs (the second is served by it), as a user's warm cache. */
function warm(dir: string): void {
  for (let i = 0; i < 2; i++) {
    const r = runCli(ARGS, { cwd: dir });
    expect(norm(r.stdout, dir)).toBe(expected.stdout);
  }
}

function entries(dir: string, kind: "manifest" | "facts" | "results"): string[] {
  const root = path.join(dir, CACHE);
  if (kind === "manifest") return readdirSync(root).filter((f) => /^files-.*\.json$/.test(f)).map((f) => path.join(root, f));
  const sub = path.join(root, kind);
  return readdirSync(sub, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".json"))
    .map((e) => path.join(e.parentPath, e.name));
}

const ENVELOPE = /^\{"mps-lint-cache":1,"about":"([0-9a-f]{40})","check":"[0-9a-f]{40}","data":/;

/** Rewrite an entry's data, keeping whatever envelope it has intact (so only the shape is wrong). */
function rewrite(file: string, change: (data: unknown) => unknown): void {
  const text = readFileSync(file, "utf8");
  const m = ENVELOPE.exec(text);
  if (!m) {
    writeFileSync(file, JSON.stringify(change(JSON.parse(text))));
    return;
  }
  const data = JSON.stringify(change(JSON.parse(text.slice(m[0].length, -1))));
  const check = createHash("sha1").update(data).digest("hex");
  writeFileSync(file, `{"mps-lint-cache":1,"about":"${m[1]}","check":"${check}","data":${data}}`);
}

type Fault = (file: string) => void;

const FAULTS: Record<string, Fault> = {
  truncated: (f) => truncateSync(f, Math.floor(statSync(f).size / 2)),
  garbled: (f) => {
    const b = readFileSync(f);
    for (let i = Math.floor(b.length / 3); i < b.length - 2; i += 7) b[i] = 0x7a; // 'z'
    writeFileSync(f, b);
  },
  array: (f) => rewrite(f, () => []),
  object: (f) => rewrite(f, () => ({})),
  // Right at the top, wrong inside: what would fail deep in the analysis or a reporter.
  deep: (f) =>
    rewrite(f, (v) => {
      const o = v as Record<string, unknown>;
      if (Array.isArray(o.scopes)) (o.scopes as Record<string, unknown>[])[0].bindings = 5;
      else if (Array.isArray(o.diagnostics)) (o.diagnostics as Record<string, unknown>[])[0].range = "line 7";
      else for (const k of Object.keys(o)) o[k] = ["x"];
      return o;
    }),
  fifo: (f) => {
    rmSync(f);
    execFileSync("mkfifo", [f]);
  },
  zero: (f) => {
    rmSync(f);
    symlinkSync("/dev/zero", f);
  },
  huge: (f) => truncateSync(f, 300 * 1024 * 1024), // sparse: a 300 MB file of NULs
};

describe("every entry kind, every fault: the run is right, says so once, and rebuilds the entry", () => {
  for (const kind of ["manifest", "facts", "results"] as const) {
    for (const fault of Object.keys(FAULTS)) {
      it(`${kind}: ${fault}`, () => {
        const dir = path.join(tmp, `${kind}-${fault}`);
        warm(dir);
        // Facts are read only when the results are not: drop those.
        if (kind === "facts") rmSync(path.join(dir, CACHE, "results"), { recursive: true });
        const targets = entries(dir, kind);
        expect(targets.length).toBeGreaterThan(0);
        for (const f of targets) FAULTS[fault](f);
        const r = runCli(ARGS, { cwd: dir });
        expect(norm(r.stdout, dir)).toBe(expected.stdout);
        expect(r.code).toBe(expected.code);
        const warnings = r.stderr.split("\n").filter((l) => l.includes(CACHE));
        // An empty manifest is a valid one (it vouches for no file): nothing to warn about.
        if (kind === "manifest" && fault === "object") {
          expect(warnings, r.stderr).toEqual([]);
          return;
        }
        expect(warnings, r.stderr).toHaveLength(1);
        expect(warnings[0]).toMatch(/^warning: \.mps_lint_cache: (a cache entry was|\d+ cache entries were) invalid and discarded \(.+\); rebuilt from the sources$/);
        expect(r.stderr).not.toContain("internal error");
        // Rebuilt: the next run is clean and served by the cache again.
        const again = runCli(ARGS, { cwd: dir });
        expect(norm(again.stdout, dir)).toBe(expected.stdout);
        expect(again.stderr).not.toContain(CACHE);
        for (const f of entries(dir, kind)) expect(statSync(f).isFile() && statSync(f).size < 10 * 1024 * 1024, f).toBe(true);
      });
    }
  }
});

describe("stale entries and tampered edits never reach a source file", () => {
  it("a same-size edit with the mtime set back: the findings and the fix are those of the new text", () => {
    const dir = path.join(tmp, "stale");
    const file = path.join(dir, "w.py");
    warm(dir);
    const before = statSync(file);
    // Same length, the sync moved above the assignment; mtime (and size, inode) as before.
    const edited = WORKER.replace("    x = compute_value(12345)\n    torch.mps.synchronize()\n", "    torch.mps.synchronize()\n    x = compute_value(12345)\n");
    expect(edited.length).toBe(WORKER.length);
    expect(edited).not.toBe(WORKER);
    writeFileSync(file, edited);
    utimesSync(file, before.atime, before.mtime);
    expect(statSync(file).mtimeMs).toBe(before.mtimeMs);
    expect(statSync(file).size).toBe(before.size);
    expect(statSync(file).ino).toBe(before.ino);

    const fresh = path.join(tmp, "stale-fresh");
    cpSync(dir, fresh, { recursive: true });
    rmSync(path.join(fresh, CACHE), { recursive: true });
    const want = runCli(["--no-cache", ...ARGS], { cwd: fresh });
    const got = runCli(ARGS, { cwd: dir });
    expect(norm(got.stdout, dir)).toBe(norm(want.stdout, fresh));
    expect(JSON.parse(got.stdout)[1].location.row).toBe(8);

    const fixWant = runCli(["--no-cache", "--isolated", "--fix", "--unsafe-fixes", "."], { cwd: fresh });
    const fixGot = runCli(["--isolated", "--fix", "--unsafe-fixes", "."], { cwd: dir });
    expect(fixGot.code).toBe(fixWant.code);
    expect(readFileSync(file, "utf8")).toBe(readFileSync(path.join(fresh, "w.py"), "utf8"));
    expect(readFileSync(file, "utf8")).toContain("    x = compute_value(12345)\n");
  });

  for (const mode of ["--fix", "--diff"] as const) {
    it(`an edit text tampered with in a results entry is not written (${mode})`, () => {
      const dir = path.join(tmp, mode === "--fix" ? "tampered" : "tampered-diff");
      warm(dir);
      const evil = "__import__('os').system('touch PWNED')";
      let changed = 0;
      for (const f of entries(dir, "results")) {
        rewrite(f, (v) => {
          for (const d of (v as { diagnostics: { fix: { edits: { content: string }[] } | null }[] }).diagnostics) {
            for (const e of d.fix?.edits ?? []) {
              if (e.content.startsWith("_mps_lint_event_sync(")) {
                e.content = evil;
                changed++;
              }
            }
          }
          return v;
        });
      }
      expect(changed).toBeGreaterThan(0);
      const r = runCli(["--isolated", mode, "--unsafe-fixes", "."], { cwd: dir });
      const out = mode === "--fix" ? readFileSync(path.join(dir, "w.py"), "utf8") : r.stdout;
      expect(out).not.toContain("PWNED");
      expect(out).toContain("_mps_lint_event_sync(torch.mps)");
      expect(existsSync(path.join(dir, "PWNED"))).toBe(false);
    });
  }
});

describe("`mps-lint clean` racing runs", () => {
  it("neither fails: clean exits 0, every run gives the uncached output", async () => {
    const dir = path.join(tmp, "clean-race");
    // Enough files that runs write entries while clean removes the folder.
    for (let i = 0; i < 150; i++) writeFileSync(path.join(dir, `m${i}.py`), `import threading\nimport torch\n\n\ndef w${i}():\n    torch.mps.synchronize()\n\n\nthreading.Thread(target=w${i}).start()\n`);
    const want = runCli(["--no-cache", "--isolated", "-f", "concise", "-j", "2", "."], { cwd: dir });
    expect(want.code).toBe(1);
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, [CLI, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (d) => (stdout += d));
        p.stderr.on("data", (d) => (stderr += d));
        p.on("close", (code) => resolve({ code, stdout, stderr }));
      });
    const lints: Promise<{ code: number | null; stdout: string; stderr: string }>[] = [];
    const cleans: { code: number | null; stdout: string; stderr: string }[] = [];
    let stop = false;
    const cleaner = (async () => {
      while (!stop) cleans.push(await run(["clean"]));
    })();
    for (let round = 0; round < 3; round++) {
      const batch = [run(["--isolated", "-f", "concise", "-j", "2", "."]), run(["--isolated", "-f", "concise", "-j", "2", "."])];
      lints.push(...batch);
      await Promise.all(batch);
    }
    stop = true;
    await cleaner;
    expect(cleans.length).toBeGreaterThan(1);
    for (const c of cleans) {
      expect(c.stderr).toBe("");
      expect(c.code).toBe(0);
    }
    for (const l of await Promise.all(lints)) {
      expect(l.stderr).not.toMatch(/ENOTEMPTY|internal error/);
      expect(l.code).toBe(1);
      expect(l.stdout).toBe(want.stdout);
    }
  });
});

describe("what this build writes passes its own checks", () => {
  it("every fixture's facts and results are read back without a warning, with the same report", () => {
    // A change to the facts' shape (src/facts/model.ts) without its check (src/facts/cache-schema.ts)
    // would make every run refuse its own cache: this catches it.
    const dir = path.join(tmp, "fixtures");
    cpSync(FIXTURES, dir, { recursive: true });
    const args = ["--isolated", "-f", "concise", "--no-prefilter", "."];
    const cold = runCli(args, { cwd: dir });
    expect(cold.stderr).not.toContain(CACHE);
    // Facts only (results dropped): every file's facts come back from the cache and are checked.
    rmSync(path.join(dir, CACHE, "results"), { recursive: true });
    const facts = runCli(args, { cwd: dir, env: { MPS_LINT_TIMING: "1" } });
    expect(facts.stderr).not.toContain(CACHE);
    expect(facts.stdout).toBe(cold.stdout);
    expect(JSON.parse(facts.stderr.trim().split("\n").pop()!).counts.cached).toBeGreaterThan(100);
    const results = runCli(args, { cwd: dir, env: { MPS_LINT_TIMING: "1" } });
    expect(results.stderr).not.toContain(CACHE);
    expect(results.stdout).toBe(cold.stdout);
    expect(JSON.parse(results.stderr.trim().split("\n").pop()!).counts.cachedResult).toBe(1);
  });
});
