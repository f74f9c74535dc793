// action.yml for real, outside GitHub: each step's script run by bash as the runner would
// (GITHUB_ACTION_PATH = a copy of this repository's files, RUNNER_TEMP, inputs substituted), with
// npm's global prefix in a temporary folder. The lint step must annotate a device sync in a
// thread worker and fail.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
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
  it("installs mps-lint without install scripts and fails the job on a finding, with annotations", () => {
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
    const prefix = path.join(tmp, "prefix");
    const runnerTemp = path.join(tmp, "runner");
    mkdirSync(runnerTemp);
    const repo = project({ "app/serve.py": BAD });
    const env = {
      ...process.env,
      GITHUB_ACTION_PATH: actionPath,
      RUNNER_TEMP: runnerTemp,
      npm_config_prefix: prefix,
      npm_config_prefer_offline: "true",
      PATH: `${path.join(prefix, "bin")}${path.delimiter}${process.env.PATH}`,
    };
    const results = (action.runs.steps as Step[]).map((step) => {
      expect(step.shell).toBe("bash");
      const script = step.run!.replace(/\$\{\{\s*inputs\.args\s*\}\}/g, action.inputs.args.default);
      return spawnSync("bash", ["-c", script], { cwd: repo, env, encoding: "utf8", timeout: 400_000 });
    });
    const [install, lint] = results;
    expect(install.status, install.stderr).toBe(0);
    expect(existsSync(path.join(prefix, "bin", "mps-lint"))).toBe(true);
    expect(lint.status).toBe(1);
    expect(lint.stdout).toMatch(/^::error file=app\/serve\.py,line=5,col=5,.*::.*MPS001/m);
  }, 500_000);
});
