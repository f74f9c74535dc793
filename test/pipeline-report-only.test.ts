// Files named one by one (pre-commit) are analysed inside their project, and only their findings
// are wanted: the engine then stops the rules once the named files are checked
// (LintInput.reportOnly). Named files come first in the file list, and a module's findings depend
// only on what was checked before it, so their findings must be exactly a whole run's.
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RULES } from "../rules/index.js";
import { discover } from "../src/files/discover.js";
import { lintFiles } from "../src/engine/engine.js";
import { lintWorkspace } from "../src/main.js";
import type { Diagnostic } from "../src/types.js";
import { FIXTURES } from "./harness.js";

// Fixture folders with more than one Python file: the named file has a project around it.
function projects(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    const files = discover([dir], dir);
    if (files.length >= 2 && files.length <= 8) out.push(dir);
    for (const e of readdirSync(dir)) {
      const p = path.join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  for (const e of readdirSync(FIXTURES)) {
    const p = path.join(FIXTURES, e);
    if (statSync(p).isDirectory()) walk(p);
  }
  return out;
}

const key = (d: Diagnostic) => JSON.stringify(d);

/** As the CLI lints named files: them first, then the rest of their project as context; `reportOnly` or a whole run. */
function lintNamed(files: string[], all: string[], reportOnly: boolean) {
  const set = new Set(files);
  return lintFiles({ files: [...files, ...all.filter((f) => !set.has(f))], prefilter: true, parseAlways: set, rules: RULES, ...(reportOnly ? { reportOnly: set } : {}) });
}
const named = (files: string[], all: string[]) => lintNamed(files, all, true);
const whole = (files: string[], all: string[]) => lintNamed(files, all, false);

describe("findings of named files (reportOnly)", () => {
  const dirs = projects();

  it("are a whole run's findings for those files, one file or two named, in every multi-file fixture", () => {
    expect(dirs.length).toBeGreaterThan(10);
    let cases = 0;
    let withFindings = 0;
    for (const dir of dirs) {
      const all = discover([dir], dir);
      const sets = [...all.map((f) => [f]), [all[all.length - 1], all[0]]];
      for (const set of sets) {
        const want = whole(set, all).diagnostics.filter((d) => set.includes(d.file)).map(key);
        const got = named(set, all).diagnostics.map(key);
        expect(got, `${set.join(" ")}`).toEqual(want);
        cases++;
        if (want.length > 0) withFindings++;
      }
    }
    expect(withFindings).toBeGreaterThan(20);
    expect(cases).toBeGreaterThan(withFindings);
  });

  it("leave the rest of the project unchecked: modules loaded only for its checks are not loaded", () => {
    // Somewhere among the fixtures, naming a file spares loads that checking the others needs.
    let spared = 0;
    for (const dir of dirs) {
      const all = discover([dir], dir);
      for (const f of all) if (named([f], all).stats!.analyzed < whole([f], all).stats!.analyzed) spared++;
      if (spared > 0) break;
    }
    expect(spared).toBeGreaterThan(0);
  });

  it("an editor's open documents (lintWorkspace with reportOnly): the whole workspace's findings for them, and only theirs", () => {
    let compared = 0;
    for (const dir of dirs.slice(0, 12)) {
      const all = discover([dir], dir);
      const opts = { paths: [dir], cwd: dir, format: "json", quiet: false, exitZero: true, color: false, cache: false, isolated: true };
      const open = [all[all.length - 1]];
      const ws = lintWorkspace(opts as never);
      const ed = lintWorkspace(opts as never, { reportOnly: open });
      const strip = (d: object) => JSON.stringify(d);
      expect(ed.diagnostics.map(strip)).toEqual(ws.diagnostics.filter((d) => open.includes(d.file)).map(strip));
      expect(ed.analysed.length).toBeLessThanOrEqual(ws.analysed.length);
      compared += ed.diagnostics.length;
    }
    expect(compared).toBeGreaterThan(0);
  });

  it("a named file that cannot be read leaves the run whole (no stop, no lost findings)", () => {
    // A project whose findings are in more than one file: a stop after the readable one would lose some.
    const dir = dirs.find((d) => new Set(whole([], discover([d], d)).diagnostics.map((x) => x.file)).size >= 2)!;
    expect(dir).toBeDefined();
    const all = discover([dir], dir);
    const missing = path.join(dir, "no_such_file.py");
    const set = new Set([missing, all[0]]);
    const r = lintFiles({ files: [missing, ...all], prefilter: true, parseAlways: set, reportOnly: set, rules: RULES });
    const w = lintFiles({ files: [missing, ...all], prefilter: true, parseAlways: set, rules: RULES });
    expect(r.diagnostics.map(key)).toEqual(w.diagnostics.map(key));
  });
});
