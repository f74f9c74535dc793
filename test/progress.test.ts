// Progress of long runs on a terminal (src/reporters/progress.ts): through the built CLI in a
// pseudo-terminal (script(1) from util-linux) on a run of several seconds (Debian's torch, cold,
// 1,141 files), and the same run on a pipe, which must get nothing but the report. The renderer's own rules (the first second
// shows nothing, at most ten rewrites a second, never in CI) on a clock the test sets.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { progressFor, ProgressLine, progressText } from "../src/reporters/progress.js";
import { CLI } from "./cli.js";

const TORCH = "/usr/lib/python3/dist-packages/torch";
const hasTorch = existsSync(path.join(TORCH, "utils", "data", "dataloader.py"));
const hasScript = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0;
const ERASE = "\r\u001b[2K";

const tmp = mkdtempSync(path.join(os.tmpdir(), "mps-lint-progress-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!hasTorch)("a long run through the built CLI", () => {
  // Cold (no cache) over torch's 1,141 files: several seconds. No finding there (torch is a project
  // package in its own sources), so the JSON report is `[]`.
  const args = ["--no-cache", "-f", "json", TORCH];
  const env = () => {
    const e: NodeJS.ProcessEnv = { ...process.env, CI: "", TERM: "xterm" };
    delete e.NO_COLOR;
    delete e.FORCE_COLOR;
    return e;
  };

  it.skipIf(!hasScript)("on a terminal: stages with counts and percents on stderr, erased before the report", () => {
    const command = [process.execPath, CLI, ...args].map((a) => JSON.stringify(a)).join(" ");
    const r = spawnSync("script", ["-qec", command, "/dev/null"], {
      cwd: tmp,
      encoding: "utf8",
      env: env(),
      timeout: 300_000,
    });
    expect(r.status, r.stdout).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/mps-lint: parsing files \d+\/\d+ \(\d+%\)/);
    expect(out).toMatch(/mps-lint: checking modules \d+\/\d+ \(\d+%\)/);
    // Each rewrite erases the line first; the last one is erased before the report starts.
    const last = out.lastIndexOf("mps-lint: ");
    const erased = out.indexOf(ERASE, last);
    const report = out.indexOf("[]");
    expect(erased).toBeGreaterThan(last);
    expect(report).toBeGreaterThan(erased);
    expect(out.slice(erased + ERASE.length, report)).not.toContain("mps-lint: ");
    // Percents never run past 100 and the counts never past their totals.
    for (const m of out.matchAll(/(\d+)\/(\d+) \((\d+)%\)/g)) {
      expect(Number(m[1])).toBeLessThanOrEqual(Number(m[2]));
      expect(Number(m[3])).toBeLessThanOrEqual(100);
    }
  });

  it("on a pipe: the same run writes nothing but the report", () => {
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd: tmp, encoding: "utf8", env: env(), timeout: 300_000 });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("[]\n");
  });
});

describe("the progress line's rules", () => {
  const sink = (isTTY = true) => {
    const writes: string[] = [];
    return { stream: { isTTY, columns: 40, write: (s: string) => writes.push(s) }, writes };
  };

  it("is shown only on a terminal, not in CI, not on TERM=dumb", () => {
    expect(progressFor(sink(true).stream, {})).toBeInstanceOf(ProgressLine);
    expect(progressFor(sink(false).stream, {})).toBeUndefined();
    expect(progressFor(sink(true).stream, { CI: "true" })).toBeUndefined();
    expect(progressFor(sink(true).stream, { CI: "1" })).toBeUndefined();
    expect(progressFor(sink(true).stream, { CI: "" })).toBeInstanceOf(ProgressLine);
    expect(progressFor(sink(true).stream, { CI: "false" })).toBeInstanceOf(ProgressLine);
    expect(progressFor(sink(true).stream, { TERM: "dumb" })).toBeUndefined();
  });

  it("waits a second, rewrites at most every 100 ms within a stage, at once on a new stage, and erases only what it wrote", () => {
    let now = 0;
    const { stream, writes } = sink();
    const line = new ProgressLine(stream, { now: () => now });
    line.update({ phase: "scan", done: 0, total: 10 });
    now = 999;
    line.update({ phase: "scan", done: 5, total: 10 });
    expect(writes).toEqual([]);
    now = 1000;
    line.update({ phase: "scan", done: 6, total: 10 });
    now = 1050;
    line.update({ phase: "scan", done: 7, total: 10 });
    now = 1060;
    line.update({ phase: "parse", done: 1, total: 4 });
    now = 1200;
    line.update({ phase: "parse", done: 2, total: 4 });
    expect(writes).toEqual([`${ERASE}mps-lint: reading files 6/10 (60%)`, `${ERASE}mps-lint: parsing files 1/4 (25%)`, `${ERASE}mps-lint: parsing files 2/4 (50%)`]);
    line.clear();
    expect(writes.at(-1)).toBe(ERASE);
    // The next run (--watch) waits its own second; a short run writes nothing, not even an erase.
    const n = writes.length;
    line.update({ phase: "scan", done: 0, total: 10 });
    now += 500;
    line.update({ phase: "check", done: 1, total: 2 });
    line.clear();
    expect(writes.length).toBe(n);
  });

  it("fits the terminal's width (a wrapped line could not be erased)", () => {
    let now = 0;
    const { stream, writes } = sink();
    const line = new ProgressLine(stream, { now: () => now, delayMs: 0 });
    now = 1;
    line.update({ phase: "index", done: 0, total: 123456 });
    expect(writes[0].length - ERASE.length).toBeLessThan(40);
    expect(progressText({ phase: "index", done: 0, total: 1 })).toBe("mps-lint: building the project model (1 module)…");
    expect(progressText({ phase: "check", done: 3, total: 0 })).toBe("mps-lint: checking modules 3/0 (0%)");
  });
});
