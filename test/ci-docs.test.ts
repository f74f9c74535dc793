// docs/ci.md: the example CI files parse as YAML, and every mps-lint command in them uses only
// options that `mps-lint --help` lists. So does .pre-commit-hooks.yaml.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT, runCli } from "./cli.js";

const doc = readFileSync(path.join(ROOT, "docs", "ci.md"), "utf8");
const blocks = (lang: string) => [...doc.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]);
const help = runCli(["--help"]).stdout;
const known = new Set([...help.matchAll(/(?:^|\s)(--?[a-z][a-z-]*)/gm)].map((m) => m[1]));

/** Every string value in a parsed YAML document. */
function strings(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v && typeof v === "object") return Object.values(v).flatMap(strings);
  return [];
}

function flagsOf(command: string): string[] {
  return command
    .split(/\s+/)
    .filter((w) => /^--?[a-z]/.test(w))
    .map((w) => w.split("=")[0])
    .map((w) => (w.startsWith("--no-") && !known.has(w) ? "--" + w.slice(5) : w));
}

describe("docs/ci.md", () => {
  it("has a GitHub Actions workflow and a GitLab job that parse as YAML and call mps-lint", () => {
    const yamls = blocks("yaml").map((b) => parse(b));
    const gh = yamls.find((y) => y?.jobs);
    const gl = yamls.find((y) => y?.["mps-lint"]?.script);
    expect(gh).toBeTruthy();
    expect(gl).toBeTruthy();
    const ghRuns: string[] = Object.values(gh.jobs as Record<string, { steps: { run?: string; uses?: string }[] }>).flatMap((j) => j.steps.map((s) => s.run ?? ""));
    expect(ghRuns.some((r) => /mps-lint .*--format sarif/.test(r))).toBe(true);
    const steps = Object.values(gh.jobs as Record<string, { steps: { uses?: string; with?: { sarif_file?: string } }[] }>)[0].steps;
    const upload = steps.find((s) => s.uses?.startsWith("github/codeql-action/upload-sarif"));
    expect(upload?.with?.sarif_file).toBe("mps-lint.sarif");
    expect(gl["mps-lint"].artifacts.reports.codequality).toBe("gl-code-quality-report.json");
  });

  it("every mps-lint command line in the examples uses real options and formats", () => {
    expect(help).toContain("--format");
    const commands = [...blocks("yaml").flatMap((b) => strings(parse(b))), ...blocks("sh").flatMap((b) => b.split("\n"))]
      .flatMap((s) => s.split("\n"))
      .map((s) => s.replace(/#.*$/, "").trim())
      .filter((s) => /^mps-lint(\s|$)/.test(s));
    expect(commands.length).toBeGreaterThanOrEqual(5);
    for (const c of commands) {
      for (const f of flagsOf(c)) expect(known, `${f} in "${c}"`).toContain(f);
      const fmt = /--format[ =](\S+)/.exec(c);
      if (fmt) expect(help).toContain(fmt[1]);
    }
    // The check can fail: an option that does not exist is caught.
    expect(known.has("--no-such-option")).toBe(false);
  });
});

describe(".pre-commit-hooks.yaml", () => {
  it("defines the mps-lint hook as pre-commit expects, with real options", () => {
    const hooks = parse(readFileSync(path.join(ROOT, ".pre-commit-hooks.yaml"), "utf8")) as Record<string, unknown>[];
    const main = hooks.find((h) => h.id === "mps-lint")!;
    // language: script runs the committed self-contained build: pre-commit installs nothing.
    expect(main).toMatchObject({ entry: "standalone/mps-lint", language: "script", types_or: ["python", "pyi", "jupyter"], require_serial: true });
    for (const h of hooks) for (const a of (h.args as string[] | undefined) ?? []) if (a.startsWith("-")) expect(known).toContain(a);
    for (const h of hooks) expect(existsSync(path.join(ROOT, h.entry as string)), h.entry as string).toBe(true);
  });
});
