// action.yml for real, outside GitHub: each step's script run by bash as the runner would
// (GITHUB_ACTION_PATH = a copy of this repository's files, GITHUB_PATH, RUNNER_TEMP, inputs
// substituted). The action runs the committed self-contained build (standalone/): nothing may be
// installed or built, no node_modules may appear; the lint step must annotate a device sync in a
// thread worker and fail, and mps-lint must be on PATH for later steps.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT } from "./cli.js";
import { BAD, project } from "./project.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "mps-lint-action-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Step {
  run?: string;
  shell?: string;
}

describe("action.yml", () => {
  it("installs nothing, runs the committed build, and fails the job on a finding, with annotations", () => {
    const action = parse(readFileSync(path.join(ROOT, "action.yml"), "utf8"));
    expect(action.runs.using).toBe("composite");
    // The repository as a checkout of the action has it: tracked and untracked, not ignored files.
    const actionPath = path.join(tmp, "action");
    const list = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" });
    for (const f of list.stdout.split("\0").filter(Boolean)) {
      if (!existsSync(path.join(ROOT, f))) continue;
      mkdirSync(path.dirname(path.join(actionPath, f)), { recursive: true });
      copyFileSync(path.join(ROOT, f), path.join(actionPath, f));
    }
    const runnerTemp = path.join(tmp, "runner");
    mkdirSync(runnerTemp);
    const githubPath = path.join(runnerTemp, "github_path");
    writeFileSync(githubPath, "");
    const repo = project({ "app/serve.py": BAD });
    const env = {
      ...process.env,
      GITHUB_ACTION_PATH: actionPath,
      GITHUB_PATH: githubPath,
      RUNNER_TEMP: runnerTemp,
      NO_COLOR: "1",
    };
    const results = (action.runs.steps as Step[]).map((step) => {
      expect(step.shell).toBe("bash");
      expect(step.run).not.toMatch(/\bnpm\b|npx|node_modules/);
      const script = step.run!.replace(/\$\{\{\s*inputs\.args\s*\}\}/g, action.inputs.args.default);
      return spawnSync("bash", ["-c", script], { cwd: repo, env, encoding: "utf8", timeout: 120_000 });
    });
    const [setup, lint] = results;
    expect(setup.status, setup.stderr).toBe(0);
    expect(existsSync(path.join(actionPath, "node_modules"))).toBe(false);
    expect(lint.status, lint.stderr).toBe(1);
    expect(lint.stdout).toMatch(/^::error file=app\/serve\.py,line=5,col=5,.*::.*MPS001/m);
    // Later steps find mps-lint on PATH (GITHUB_PATH), and it parses with WebAssembly.
    const later = readFileSync(githubPath, "utf8").trim();
    const version = spawnSync("mps-lint", ["version"], { cwd: repo, env: { ...env, PATH: `${later}${path.delimiter}${process.env.PATH}` }, encoding: "utf8" });
    expect(version.stdout).toMatch(/^mps-lint \d+\.\d+\.\d+ \(parser: wasm\)$/m);
  }, 500_000);
});
