// Every flag with Ruff's meaning, through the built CLI (issue 27), as a table: the arguments, a
// throwaway project, and what the run must print and exit with. Value options are run in both
// spellings (`--x=value` and `--x value`) and must give the same output; flags that Ruff spells
// with a value (`--fix=yes`) must mean what they say; unknown options, values and subcommands are
// usage errors (exit 2) with a suggestion.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./cli.js";
import { BAD, WARN, project } from "./project.js";

/** A wall-clock timing of device work with no sync: one MPS004, which has a safe fix. */
const TIMING = `import time
import torch

def bench(model, x):
    start = time.perf_counter()
    y = model(x.to("mps"))
    elapsed = time.perf_counter() - start
    return y, elapsed
`;

const FILES = { "app/serve.py": BAD, "app/pool.py": WARN, "app/timing.py": TIMING, "tests/test_pool.py": WARN };

interface Case {
  name: string;
  args: string[];
  /** Exit code. */
  code: number;
  stdout?: RegExp | string;
  notStdout?: RegExp;
  stderr?: RegExp | string;
  /** Codes reported (concise lines), sorted, when given. */
  codes?: string[];
  /** A check of the project after the run (fixes written, comments added). */
  after?: (dir: string) => void;
  files?: Record<string, string>;
}

const found = (stdout: string) =>
  stdout
    .split("\n")
    .map((l) => /^([^:]+):\d+:\d+: (MPS\d{3}) /.exec(l))
    .filter((m) => m !== null)
    .map((m) => `${m[1]} ${m[2]}`)
    .sort();

const C = ["-f", "concise", "--no-cache"];
const read = (dir: string, f: string) => readFileSync(path.join(dir, f), "utf8");

const CASES: Case[] = [
  // Colour: --color=always|never|auto, --color WHEN, --color alone, --no-color.
  { name: "--color=always colours a pipe", args: ["--color=always", "app/serve.py"], code: 1, stdout: /\u001b\[/ },
  { name: "--color always (space) colours a pipe", args: ["--color", "always", "app/serve.py"], code: 1, stdout: /\u001b\[/ },
  { name: "--color alone is always", args: ["--color", "app/serve.py"], code: 1, stdout: /\u001b\[/ },
  { name: "--color=never", args: ["--color=never", "app/serve.py"], code: 1, notStdout: /\u001b\[/ },
  { name: "--color=auto in a pipe: none", args: ["--color=auto", "app/serve.py"], code: 1, notStdout: /\u001b\[/ },
  { name: "--no-color", args: ["--no-color", "app/serve.py"], code: 1, notStdout: /\u001b\[/ },
  { name: "--color=blue is a usage error", args: ["--color=blue", "app"], code: 2, stderr: /--color expects one of auto, always, never, got "blue"/ },
  // Booleans: --x, --x=true|yes|1, --x=false|no|0, --no-x; anything else is an error.
  { name: "--fix=yes fixes", args: [...C, "--fix=yes", "app/timing.py"], code: 0, stderr: /Fixed 1 problem, 0 remaining\./, after: (d) => expect(read(d, "app/timing.py")).toMatch(/synchronize\(\)/) },
  { name: "--fix=no does not", args: [...C, "--fix=no", "app/timing.py"], code: 1, codes: ["app/timing.py MPS004"], after: (d) => expect(read(d, "app/timing.py")).toBe(TIMING) },
  { name: "--fix=maybe is a usage error", args: ["--fix=maybe", "app"], code: 2, stderr: /--fix takes no value, or one of true, false/ },
  { name: "--no-fix wins over fix = true in the configuration", files: { "mps-lint.toml": "fix = true\n" }, args: [...C, "--no-fix", "app/timing.py"], code: 1, after: (d) => expect(read(d, "app/timing.py")).toBe(TIMING) },
  { name: "-e is --exit-zero", args: [...C, "-e", "app"], code: 0, codes: ["app/pool.py MPS002", "app/serve.py MPS001", "app/timing.py MPS004"] },
  { name: "--exit-zero=false", args: [...C, "--exit-zero=false", "app"], code: 1 },
  // Short options joined and glued: -en, -fconcise, -f=concise.
  { name: "-en: -e and -n together", args: ["-f", "concise", "-en", "app/serve.py"], code: 0, codes: ["app/serve.py MPS001"] },
  { name: "-fconcise", args: ["-fconcise", "-n", "app/serve.py"], code: 1, codes: ["app/serve.py MPS001"] },
  { name: "-f=concise", args: ["-f=concise", "-n", "app/serve.py"], code: 1, codes: ["app/serve.py MPS001"] },
  // -n / --no-cache: nothing written.
  { name: "-n writes no cache", args: ["-f", "concise", "-n", "app"], code: 1, after: (d) => expect(existsSync(path.join(d, ".mps_lint_cache"))).toBe(false) },
  // --quiet as Ruff: the findings, no summary; warnings stay.
  { name: "--quiet: findings without the summary", args: [...C, "--quiet", "app"], code: 1, codes: ["app/pool.py MPS002", "app/serve.py MPS001", "app/timing.py MPS004"], notStdout: /Found|fixable|All checks/ },
  { name: "-q on clean code prints nothing", files: { "ok.py": "x = 1\n" }, args: [...C, "-q", "ok.py"], code: 0, stdout: "" },
  { name: "--quiet keeps run warnings", files: { "bad.ipynb": "{ not json" }, args: [...C, "-q", "bad.ipynb"], code: 0, stdout: "", stderr: /warning: bad\.ipynb: / },
  { name: "--errors-only: the old --quiet", args: [...C, "--errors-only", "app"], code: 1, codes: ["app/serve.py MPS001"] },
  { name: "--silent: nothing printed, exit 1", args: [...C, "--silent", "app"], code: 1, stdout: "" },
  // Subcommands.
  { name: "a mistyped subcommand", args: ["chekc", "app/serve.py"], code: 2, stderr: /unrecognized subcommand "chekc"; did you mean "check"\?/ },
  { name: "an unknown option names the closest", args: ["--selec", "MPS001", "app"], code: 2, stderr: /unknown option --selec; did you mean --select\?/ },
  { name: "a value option at the end", args: ["app", "--select"], code: 2, stderr: /--select expects a value/ },
  { name: "options before the subcommand", args: ["--no-cache", "-f", "concise", "check", "app/serve.py"], code: 1, codes: ["app/serve.py MPS001"] },
  { name: "-- ends the options", files: { "-x.py": BAD }, args: [...C, "--", "-x.py"], code: 1, codes: ["-x.py MPS001"] },
  // File selection.
  { name: "--exclude", args: [...C, "--exclude", "app/pool.py,tests", "."], code: 1, codes: ["app/serve.py MPS001", "app/timing.py MPS004"] },
  { name: "--extend-exclude adds to the configuration's", files: { "mps-lint.toml": 'exclude = ["tests"]\n' }, args: [...C, "--extend-exclude=app/timing.py", "."], code: 1, codes: ["app/pool.py MPS002", "app/serve.py MPS001"] },
  { name: "--exclude replaces the configuration's", files: { "mps-lint.toml": 'exclude = ["tests"]\n' }, args: [...C, "--exclude=app", "."], code: 1, codes: ["tests/test_pool.py MPS002"] },
  { name: "--show-files lists what would be linted, absolute, and exits 0", args: ["--show-files", "--exclude", "tests", "."], code: 0, stdout: /^\/.*\/app\/pool\.py\n\/.*\/app\/serve\.py\n\/.*\/app\/timing\.py\n$/ },
  // Rule selection on the command line.
  { name: "--per-file-ignores GLOB:CODE", args: [...C, "--per-file-ignores", "tests/*:MPS002,app/serve.py:MPS001", "."], code: 1, codes: ["app/pool.py MPS002", "app/timing.py MPS004"] },
  { name: "--per-file-ignores replaces the configuration's", files: { "mps-lint.toml": '[per-file-ignores]\n"app/*" = ["MPS0"]\n' }, args: [...C, "--per-file-ignores=tests/*:MPS002", "."], code: 1, codes: ["app/pool.py MPS002", "app/serve.py MPS001", "app/timing.py MPS004"] },
  { name: "--extend-per-file-ignores adds", files: { "mps-lint.toml": '[per-file-ignores]\n"app/*" = ["MPS0"]\n' }, args: [...C, "--extend-per-file-ignores=tests/*:MPS002", "."], code: 0, codes: [] },
  { name: "--per-file-ignores without a colon", args: ["--per-file-ignores", "tests", "."], code: 2, stderr: /--per-file-ignores expects GLOB:CODE pairs/ },
  { name: "--ignore-noqa reports suppressed findings", files: { "s.py": BAD.replace("torch.mps.synchronize()", "torch.mps.synchronize()  # noqa: MPS001") }, args: [...C, "--ignore-noqa", "s.py"], code: 1, codes: ["s.py MPS001"] },
  { name: "without --ignore-noqa the comment holds", files: { "s.py": BAD.replace("torch.mps.synchronize()", "torch.mps.synchronize()  # noqa: MPS001") }, args: [...C, "s.py"], code: 0, codes: [] },
  { name: "--select with an unknown code names the option", args: ["--select", "XYZ9", "app"], code: 2, stderr: /--select: unknown rule selector "XYZ9"/ },
  // Inline --config "key = value".
  { name: '--config "key = value" sets a setting', args: [...C, "--config", "ignore = ['MPS001']", "app"], code: 1, codes: ["app/pool.py MPS002", "app/timing.py MPS004"] },
  { name: "--config=KEY=VALUE (one word) over the file's setting", files: { "mps-lint.toml": 'ignore = ["MPS002"]\n' }, args: [...C, "--config=ignore = ['MPS004']", "app"], code: 1, codes: ["app/pool.py MPS002", "app/serve.py MPS001"] },
  { name: "--config with a file and a setting", files: { "other.toml": 'ignore = ["MPS001"]\n' }, args: [...C, "--config", "other.toml", "--config", "extend-select = ['MPS100']", "app"], code: 1, codes: ["app/pool.py MPS002", "app/timing.py MPS004"] },
  { name: "--config with a bad setting", args: ["--config", "torch-version = 3", "app"], code: 2, stderr: /--config: torch-version: expected a PyTorch version string/ },
  { name: "--config with an unknown key", args: ["--config", "selekt = ['MPS001']", "app"], code: 2, stderr: /--config: selekt: unknown key; did you mean "select"\?/ },
  { name: "--config naming no file and no setting", args: ["--config", "nothere", "app"], code: 2, stderr: /--config "nothere": no such file, and not a setting/ },
  // Fixes.
  { name: "--exit-non-zero-on-fix: fixed, nothing left, exit 1", args: [...C, "--fix", "--exit-non-zero-on-fix", "app/timing.py"], code: 1, stderr: /Fixed 1 problem, 0 remaining\./ },
  { name: "--exit-non-zero-on-fix with --fix-only", args: [...C, "--fix-only", "--exit-non-zero-on-fix", "app/timing.py"], code: 1 },
  { name: "--fix-only alone exits 0", args: [...C, "--fix-only", "app/timing.py"], code: 0 },
  { name: "--unfixable keeps a rule's fixes from being applied", args: [...C, "--fix", "--unfixable", "MPS004", "app/timing.py"], code: 1, codes: ["app/timing.py MPS004"], notStdout: /\[\*\]/, after: (d) => expect(read(d, "app/timing.py")).toBe(TIMING) },
  { name: "--fixable lists the only rules fixed", args: [...C, "--fix", "--unsafe-fixes", "--fixable=MPS004", "app"], code: 1, codes: ["app/pool.py MPS002", "app/serve.py MPS001"], after: (d) => expect(read(d, "app/serve.py")).toBe(BAD) },
  // The [*] marker (concise) and --statistics.
  { name: "concise marks a fix --fix would apply with [*]", args: [...C, "app/timing.py"], code: 1, stdout: /^app\/timing\.py:7:15: MPS004 \[\*\] `time\.perf_counter\(\)`[^\n]*\nFound 1 problem \(1 warning\)\.\n\[\*\] 1 fixable with the `--fix` option\.\n$/ },
  { name: "an unsafe fix is marked only with --unsafe-fixes", args: [...C, "--unsafe-fixes", "app/serve.py"], code: 1, stdout: /^app\/serve\.py:5:5: MPS001 \[\*\] / },
  { name: "an unsafe fix without --unsafe-fixes: no marker", args: [...C, "app/serve.py"], code: 1, stdout: /^app\/serve\.py:5:5: MPS001 `/ },
  { name: "--statistics: count, code, [*] or [ ], name", args: ["--statistics", "-n", "app"], code: 1, stdout: "1\tMPS001\t[ ] device-sync-in-thread\n1\tMPS002\t[ ] unsynced-thread-result\n1\tMPS004\t[*] unsynced-timing\n" },
  // --add-noqa and --add-noqa=REASON.
  { name: "--add-noqa", args: ["-n", "--add-noqa", "app/serve.py"], code: 0, stderr: /Added 1 noqa directive in 1 file\./, after: (d) => expect(read(d, "app/serve.py")).toContain("torch.mps.synchronize()  # noqa: MPS001\n") },
  { name: "--add-noqa=REASON writes the reason", args: ["-n", "--add-noqa=deliberate: one worker", "app/serve.py"], code: 0, after: (d) => expect(read(d, "app/serve.py")).toContain("torch.mps.synchronize()  # noqa: MPS001 deliberate: one worker\n") },
  // -w is --watch (started and stopped in test/adoption-cli.test.ts); here: it is known, and refused with fixes.
  { name: "-w with --fix is refused", args: ["-w", "--fix", "app"], code: 2, stderr: /--watch lints files; it cannot be combined with standard input or fixes/ },
  ...["-e, --exit-zero", "-n, --no-cache", "-w, --watch", "-q, --quiet", "-s, --silent", "--ignore-noqa", "--show-files", "--exit-non-zero-on-fix", "--fixable", "--unfixable", "--per-file-ignores", "--exclude", "--extend-exclude", "--statistics", "--add-noqa[=REASON]", "--color[=WHEN]"].map(
    (line): Case => ({ name: `--help lists ${line}`, args: ["--help"], code: 0, stdout: new RegExp(`^ +${line.replace(/[[\]]/g, "\\$&")} `, "m") }),
  ),
];

describe("flags with Ruff's meanings (table)", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const dir = project({ ...FILES, ...c.files });
      const r = runCli(c.args, { cwd: dir });
      expect(r.code, `${c.args.join(" ")}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(c.code);
      if (typeof c.stdout === "string") expect(r.stdout).toBe(c.stdout);
      else if (c.stdout) expect(r.stdout).toMatch(c.stdout);
      if (c.notStdout) expect(r.stdout).not.toMatch(c.notStdout);
      if (typeof c.stderr === "string") expect(r.stderr).toBe(c.stderr);
      else if (c.stderr) expect(r.stderr).toMatch(c.stderr);
      if (c.codes) expect(found(r.stdout)).toEqual(c.codes);
      c.after?.(dir);
    });
  }
});

describe("both spellings of every value option give the same run", () => {
  const dir = project(FILES);
  const pairs: [string, string][] = [
    ["--output-format", "concise"],
    ["--select", "MPS001,MPS002"],
    ["--ignore", "MPS002"],
    ["--extend-select", "MPS100"],
    ["--exclude", "tests"],
    ["--extend-exclude", "tests"],
    ["--per-file-ignores", "tests/*:MPS002"],
    ["--max-warnings", "5"],
    ["--color", "never"],
    ["--config", "ignore = ['MPS004']"],
    ["--stdin-filename", "app/x.py"],
    ["--jobs", "1"],
  ];
  for (const [flag, value] of pairs) {
    it(`${flag}=${value} and ${flag} ${value}`, () => {
      const stdin = flag === "--stdin-filename";
      const rest = stdin ? ["-f", "concise", "-"] : ["-f", "concise", "-n", "."];
      const joined = runCli([`${flag}=${value}`, ...rest], { cwd: dir, input: stdin ? BAD : undefined });
      const spaced = runCli([flag, value, ...rest], { cwd: dir, input: stdin ? BAD : undefined });
      expect(joined.stderr).toBe("");
      expect(spaced).toEqual(joined);
      expect(joined.stdout).not.toBe("");
    });
  }
});
