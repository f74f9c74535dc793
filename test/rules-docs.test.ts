// Rule documentation: every rule's meta is complete, its example gives exactly one finding of
// the rule and its corrected code none (as Biome checks), and docs/rules/ is current.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RULES } from "../rules/index.js";
import { renderRule, staleDocs } from "../src/docs/docs.js";
import { lintFiles } from "../src/engine/engine.js";
import type { Rule } from "../src/engine/rule.js";
import { UNUSED_SUPPRESSION } from "../src/suppress/suppress.js";
import { runCli, ROOT } from "./cli.js";
import { unusedSuppressions } from "./harness.js";
import { renderMessage } from "../src/reporters/message.js";

// MPS008 runs only when the PyTorch version is known; give one old enough for every rule.
const SETTINGS = { torchVersion: "2.5.1" };

function findingsOf(rule: Rule, code: string): string[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mps-lint-doc-"));
  const file = path.join(dir, "example.py");
  writeFileSync(file, code + "\n");
  // MPS100's findings come from the suppression stage, after every rule has run.
  const diagnostics = rule.meta.code === UNUSED_SUPPRESSION ? unusedSuppressions([file], SETTINGS) : lintFiles({ files: [file], rules: [rule], settings: SETTINGS }).diagnostics;
  return diagnostics
    .filter((d) => d.code === rule.meta.code)
    .map((d) => `${d.range.start.row + 1}: ${renderMessage(d, { cwd: dir })}`);
}

describe("rule documentation", () => {
  it("codes and names are unique", () => {
    expect(new Set(RULES.map((r) => r.meta.code)).size).toBe(RULES.length);
    expect(new Set(RULES.map((r) => r.meta.name)).size).toBe(RULES.length);
  });

  for (const rule of RULES) {
    const { meta } = rule;
    describe(`${meta.code} ${meta.name}`, () => {
      it("has every section", () => {
        expect(meta.code).toMatch(/^MPS\d{3}$/);
        expect(meta.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
        expect(meta.summary.split("\n")).toHaveLength(1);
        for (const key of ["why", "example", "useInstead", "fixSafety", "limitations"] as const) {
          expect(meta[key].trim().length, key).toBeGreaterThan(20);
        }
        expect(meta.references.length).toBeGreaterThan(0);
      });

      it("example gives exactly one finding", () => {
        expect(findingsOf(rule, meta.example)).toHaveLength(1);
      });

      it("useInstead gives none", () => {
        expect(findingsOf(rule, meta.useInstead)).toEqual([]);
      });
    });
  }

  it("docs/rules is current (run `npm run docs`)", () => {
    expect(staleDocs(path.join(ROOT, "docs", "rules"))).toEqual([]);
  });
});

describe("mps-lint rule / --explain", () => {
  it("prints the rule's page", () => {
    const r = runCli(["rule", "MPS001"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(renderRule(RULES.find((x) => x.meta.code === "MPS001")!.meta));
    expect(r.stdout).toContain("## Why is this bad?");
  });

  it("--explain prints the same text, by code or name", () => {
    expect(runCli(["--explain", "MPS001"]).stdout).toBe(runCli(["rule", "MPS001"]).stdout);
    expect(runCli(["rule", "device-sync-in-thread"]).stdout).toBe(runCli(["rule", "mps001"]).stdout);
  });

  it("--all lists every rule", () => {
    const r = runCli(["rule", "--all"]);
    expect(r.code).toBe(0);
    for (const rule of RULES) expect(r.stdout).toContain(`# ${rule.meta.name} (${rule.meta.code})`);
    const json = JSON.parse(runCli(["rule", "--all", "--format", "json"]).stdout);
    expect(json.map((m: { code: string }) => m.code)).toEqual(RULES.map((x) => x.meta.code));
    expect(json[0].url).toBe("docs/rules/invalid-syntax.md");
  });

  it("exits 2 with a clear message for an unknown code", () => {
    for (const args of [["rule", "MPS999"], ["--explain", "nope"]]) {
      const r = runCli(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^mps-lint: unknown rule "(MPS999|nope)" \(known: MPS000, MPS001, /);
    }
    expect(runCli(["rule"]).code).toBe(2);
  });
});

describe("--statistics", () => {
  const src = [
    "import threading",
    "import torch",
    "",
    "def a():",
    "    torch.mps.synchronize()",
    "",
    "def b():",
    "    torch.mps.synchronize()",
    "    torch.cuda.synchronize()",
    "",
    "async def c():",
    "    torch.mps.synchronize()",
    "",
    "threading.Thread(target=a).start()",
    "threading.Thread(target=b).start()",
    "",
  ].join("\n");

  it("counts findings per rule, most first, as Ruff does", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mps-lint-stats-"));
    writeFileSync(path.join(dir, "s.py"), src);
    const r = runCli(["--statistics", "s.py"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("3\tMPS001\tdevice-sync-in-thread\n1\tMPS006\tblocking-sync-in-async\n");
    const json = JSON.parse(runCli(["--statistics", "-f", "json", "s.py"], { cwd: dir }).stdout);
    // fixable as Ruff's: a fix --fix would apply (MPS001's is unsafe: only with --unsafe-fixes).
    expect(json).toEqual([
      { code: "MPS001", name: "device-sync-in-thread", count: 3, fixable: false },
      { code: "MPS006", name: "blocking-sync-in-async", count: 1, fixable: false },
    ]);
    expect(JSON.parse(runCli(["--statistics", "--unsafe-fixes", "-f", "json", "s.py"], { cwd: dir }).stdout)[0].fixable).toBe(true);
    expect(runCli(["--statistics", "--unsafe-fixes", "s.py"], { cwd: dir }).stdout).toBe("3\tMPS001\t[*] device-sync-in-thread\n1\tMPS006\t[ ] blocking-sync-in-async\n");
  });

  it("prints nothing and exits 0 without findings", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "mps-lint-stats-"));
    writeFileSync(path.join(dir, "ok.py"), "x = 1\n");
    expect(runCli(["--statistics", "ok.py"], { cwd: dir })).toMatchObject({ code: 0, stdout: "" });
  });
});

describe("docs generator (npm run docs / docs:check)", () => {
  const gen = (args: string[], cwd: string) =>
    spawnSync(process.execPath, [path.join(ROOT, "dist", "src", "docs", "docs.js"), ...args], { cwd, encoding: "utf8" });

  it("--check passes on the committed docs and fails on stale ones; a run rewrites them", () => {
    expect(gen(["--check"], ROOT).status).toBe(0);
    const dir = mkdtempSync(path.join(os.tmpdir(), "mps-lint-docs-"));
    mkdirSync(path.join(dir, "docs", "rules"), { recursive: true });
    writeFileSync(path.join(dir, "docs", "rules", "device-sync-in-thread.md"), "old\n");
    writeFileSync(path.join(dir, "docs", "rules", "removed-rule.md"), "old\n");
    const stale = gen(["--check"], dir);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain("device-sync-in-thread.md: out of date");
    expect(stale.stderr).toContain("removed-rule.md: no such rule");
    expect(gen([], dir).status).toBe(0);
    expect(gen(["--check"], dir).status).toBe(0);
    expect(readFileSync(path.join(dir, "docs", "rules", "index.md"), "utf8")).toContain("[device-sync-in-thread](device-sync-in-thread.md)");
  });
});
