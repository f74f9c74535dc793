// Issue 27's run-level fixes, through the built CLI: junit lists only the files checked; --watch
// keeps noticing a file after atomic saves (write a temporary file, rename it over the old one,
// as editors and `sed -i` do); a file named alone in a project with no marker is analysed within
// the working folder; the cache folder is made at the project root, not the working folder.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, runCli } from "./cli.js";
import { BAD, project } from "./project.js";

const APP = "import threading\nfrom pkg.helpers import step\n\nthreading.Thread(target=step).start()\n";
const HELPERS = "import torch\n\ndef step():\n    torch.mps.synchronize()\n";
const CLEAN = "x = 1\n";

describe("junit", () => {
  it("lists the files checked, not the project analysed around a named file", () => {
    const dir = project({ "pyproject.toml": "", "app/__init__.py": "", "app/serve.py": BAD, "app/other.py": CLEAN });
    const r = runCli(["check", "app/__init__.py", "-f", "junit", "-n"], { cwd: dir });
    expect(r.code).toBe(0);
    const suites = [...r.stdout.matchAll(/<testsuite name="([^"]+)"/g)].map((m) => m[1]);
    expect(suites).toEqual(["app/__init__.py"]);
    // A folder run lists every file it checked.
    const all = runCli(["check", "app", "-f", "junit", "-n"], { cwd: dir });
    expect([...all.stdout.matchAll(/<testsuite name="([^"]+)"/g)].map((m) => m[1]).sort()).toEqual(["app/__init__.py", "app/other.py", "app/serve.py"]);
  });
});

describe("syntax errors are reported by default (MPS000), as Ruff does", () => {
  const BROKEN = "import torch\n\ndef f(model, x:\n    return model(x)\n";
  it("a named file that does not parse: exit 1 with MPS000; --ignore MPS000 turns it off", () => {
    const dir = project({ "t.py": BROKEN });
    const r = runCli(["-f", "concise", "-n", "t.py"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^t\.py:3:\d+: MPS000 SyntaxError: /);
    expect(runCli(["-f", "concise", "-n", "--ignore", "MPS000", "t.py"], { cwd: dir })).toMatchObject({ code: 0, stdout: "All checks passed!\n" });
  });

  it("in a folder run, in the files with thread code (the files mps-lint parses)", () => {
    const dir = project({ "pkg/serve.py": `import threading\n${BROKEN}\nthreading.Thread(target=f).start()\n`, "pkg/ok.py": "x = 1\n" });
    const r = runCli(["-f", "concise", "-n", "pkg"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^pkg\/serve\.py:4:\d+: MPS000 /);
  });

  it("valid Python that tree-sitter's grammar rejects is not an error: a starred bracket after a comma, an f-string fill of =", () => {
    const valid =
      "def f(state, ks, b, title, width):\n    x = state, *[k for k in ks]\n    print(f'{title:=^{width}}', f\"{title:=>10}\")\n" +
      "    yield state, *(b)\n    return state, *[g(k) for k in ks]\n";
    expect(runCli(["-f", "concise", "-n", "v.py"], { cwd: project({ "v.py": valid }) })).toMatchObject({ code: 0, stdout: "All checks passed!\n" });
    // The same line left unclosed is still an error.
    const r = runCli(["-f", "concise", "-n", "v.py"], { cwd: project({ "v.py": "def f(a, b):\n    return a, *[x for x in b\n" }) });
    expect(r.stdout).toMatch(/^v\.py:2:5: MPS000 /);
  });
});

describe("a file named alone", () => {
  it("in a project with no pyproject.toml or .git: analysed within the working folder, as the folder run", () => {
    const dir = project({ "pkg/__init__.py": "", "pkg/app.py": APP, "pkg/helpers.py": HELPERS });
    const alone = runCli(["-f", "concise", "-n", "pkg/helpers.py"], { cwd: dir });
    const folder = runCli(["-f", "concise", "-n", "pkg"], { cwd: dir });
    expect(alone.code).toBe(1);
    expect(alone.stdout).toMatch(/^pkg\/helpers\.py:4:5: MPS001 /);
    expect(folder.stdout.split("\n")[0]).toBe(alone.stdout.split("\n")[0]);
  });
});

describe("the cache folder", () => {
  it("is made at the project root (pyproject.toml), not in the working folder", () => {
    const proj = project({ "pyproject.toml": "", "src/pkg/serve.py": BAD });
    const elsewhere = project({});
    expect(runCli(["check", path.join(proj, "src")], { cwd: elsewhere }).code).toBe(1);
    expect(existsSync(path.join(elsewhere, ".mps_lint_cache"))).toBe(false);
    expect(existsSync(path.join(proj, ".mps_lint_cache"))).toBe(true);
    // From a subfolder of the project too.
    const sub = path.join(proj, "src", "pkg");
    expect(runCli(["check", "."], { cwd: sub }).code).toBe(1);
    expect(existsSync(path.join(sub, ".mps_lint_cache"))).toBe(false);
  });

  it("with no marker: the working folder when the files lie inside it, else the folder linted", () => {
    const here = project({ "serve.py": BAD });
    runCli(["check", "serve.py"], { cwd: here });
    expect(existsSync(path.join(here, ".mps_lint_cache"))).toBe(true);
    const tree = project({ "pkg/serve.py": BAD });
    const elsewhere = project({});
    runCli(["check", path.join(tree, "pkg")], { cwd: elsewhere });
    expect(existsSync(path.join(elsewhere, ".mps_lint_cache"))).toBe(false);
    expect(existsSync(path.join(tree, "pkg", ".mps_lint_cache"))).toBe(true);
  });

  it("`mps-lint clean` removes the project root's cache", () => {
    const proj = project({ "pyproject.toml": "", "src/serve.py": BAD });
    runCli(["check", "."], { cwd: proj });
    const r = runCli(["clean"], { cwd: path.join(proj, "src") });
    expect(r.stdout).toBe(`removed ${path.join(proj, ".mps_lint_cache")}\n`);
    expect(existsSync(path.join(proj, ".mps_lint_cache"))).toBe(false);
  });
});

/** Run --watch; `seen(re)` waits until the output matches. */
function watching(args: string[], cwd: string) {
  const proc = spawn(process.execPath, [CLI, "--watch", "-f", "concise", "-n", ...args], { cwd });
  let out = "";
  let reports = 0;
  proc.stdout.on("data", (d) => {
    out += d;
    reports = (out.match(/Watching for file changes\./g) ?? []).length;
  });
  const until = (n: number) =>
    new Promise<string>((resolve, reject) => {
      const started = Date.now();
      const poll = () => {
        if (reports >= n) return resolve(out.split("linting…").at(-1)!);
        if (Date.now() - started > 20_000) return reject(new Error(`no report ${n} in 20 s:\n${out}`));
        setTimeout(poll, 50);
      };
      poll();
    });
  const stop = () => new Promise((resolve) => (proc.on("exit", resolve), proc.kill("SIGTERM")));
  return { until, stop };
}

/** An atomic save: the new text in a temporary file, renamed over the old one (a new inode). */
function atomicSave(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp${Math.random().toString(36).slice(2)}`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

describe("--watch after atomic saves", () => {
  for (const [what, target] of [["a watched folder", "."], ["a file named alone", "serve.py"]] as const) {
    it(`${what}: every save is noticed, not only the first`, async () => {
      const dir = project({ "serve.py": CLEAN });
      const w = watching([target], dir);
      try {
        expect(await w.until(1)).toContain("All checks passed!");
        for (let i = 0; i < 3; i++) {
          atomicSave(path.join(dir, "serve.py"), BAD);
          expect(await w.until(2 + 2 * i)).toMatch(/serve\.py:5:5: MPS001 /);
          atomicSave(path.join(dir, "serve.py"), CLEAN);
          expect(await w.until(3 + 2 * i)).toContain("All checks passed!");
        }
      } finally {
        expect(await w.stop()).toBe(0);
      }
    }, 60_000);
  }

  it("a folder made after the start is watched too", async () => {
    const dir = project({ "ok.py": CLEAN });
    const w = watching(["."], dir);
    try {
      await w.until(1);
      mkdirSync(path.join(dir, "later"));
      // The new folder's watcher is set up when its creation is seen; give it the settle time.
      await new Promise((r) => setTimeout(r, 500));
      atomicSave(path.join(dir, "later", "serve.py"), BAD);
      expect(await w.until(2)).toMatch(/later\/serve\.py:5:5: MPS001 /);
      expect(readFileSync(path.join(dir, "later", "serve.py"), "utf8")).toBe(BAD);
    } finally {
      await w.stop();
    }
  }, 60_000);
});
