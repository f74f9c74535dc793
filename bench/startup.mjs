// Start-up cost (issue "performance": one file as pre-commit passes it, --version), wall and CPU.
//
//   npm run build && node bench/startup.mjs [RUNS] [label=path/to/cli.js ...]
//
// Default: the bin (dist/bundle/bin.js). Give several label=cli pairs to compare builds; runs
// are interleaved so a change in machine load hits all alike. Each run is a fresh process:
// `node -e 0`; `--version`; one 72 KB file with --no-cache; the same file twice in a fresh
// folder (1st run fills .mps_lint_cache, 2nd is answered from it). CPU is user+sys of all the
// process's threads (less sensitive to a busy machine than wall time).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
const FILE = "/usr/lib/python3/dist-packages/torch/utils/data/dataloader.py";
const args = process.argv.slice(2);
const RUNS = /^\d+$/.test(args[0] ?? "") ? Number(args.shift()) : 9;
const clis = args.length > 0 ? args.map((a) => a.split("=")) : [["bin", path.join(ROOT, "dist", "bundle", "bin.js")]];
for (const c of clis) {
  c[1] = path.resolve(c[1]); // the runs start in other folders
  if (!existsSync(c[1])) throw new Error(`${c[1]}: no such file (npm run build)`);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), "mps-lint-startup-"));
const cpuHook = path.join(tmp, "cpu.cjs");
writeFileSync(cpuHook, 'process.on("exit",()=>{const u=process.cpuUsage();require("fs").writeSync(2,`\\nCPU_US ${u.user+u.system}\\n`)});\n');

function once(argv, cwd) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ["-r", cpuHook, ...argv], { cwd, encoding: "utf8" });
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  // 0: no findings, 1: findings (the file has none; Node also exits 1 on an uncaught error).
  if (r.status !== 0) throw new Error(`${argv.join(" ")}: exit ${r.status}\n${r.stderr}`);
  return [wall, Number(/CPU_US (\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1000];
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rows = new Map([["node -e 0", []]]);
const row = (k) => rows.get(k) ?? rows.set(k, []).get(k);
const loads = [];
try {
  for (let i = 0; i < RUNS; i++) {
    loads.push(os.loadavg()[0]);
    row("node -e 0").push(once(["-e", "0"]));
    for (const [label, cli] of clis) {
      row(`${label}: --version`).push(once([cli, "--version"]));
      const dir = mkdtempSync(path.join(tmp, "run-"));
      row(`${label}: one file --no-cache`).push(once([cli, "--no-cache", FILE], dir));
      row(`${label}: one file, cache 1st run`).push(once([cli, FILE], dir));
      row(`${label}: one file, cache 2nd run`).push(once([cli, FILE], dir));
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`${RUNS} runs each, interleaved; 1-min load average ${Math.min(...loads).toFixed(2)}-${Math.max(...loads).toFixed(2)} on ${os.availableParallelism()} cores`);
console.log(`${"".padEnd(38)}wall median (min)   CPU median`);
for (const [k, v] of rows) {
  const wall = v.map((x) => x[0]);
  const cpu = v.map((x) => x[1]);
  console.log(`${k.padEnd(38)}${median(wall).toFixed(0).padStart(6)} ms (${Math.min(...wall).toFixed(0).padStart(3)})  ${median(cpu).toFixed(0).padStart(6)} ms`);
}
