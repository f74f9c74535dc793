// Issue 8: mps-lint survives anything a repository contains, fails clearly where the user is
// wrong, and never damages files. Every case runs the BUILT CLI on files written to a temp folder.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, runCli } from "./cli.js";

type Files = Record<string, string | Buffer>;

function project(files: Files): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mps-lint-rel-"));
  chmodSync(dir, 0o755);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** A worker thread with a device sync on line 4, column 5. */
const THREAD = () =>
  `import threading\nimport torch\ndef worker():\n    torch.mps.synchronize()\n\nthreading.Thread(target=worker).start()\n`;

interface Finding {
  code: string;
  filename: string;
  location: { row: number; column: number };
  message: string;
}
function lint(dir: string, args: string[] = ["."]): { code: number; findings: Finding[]; stderr: string } {
  const r = runCli(["-f", "json", "--isolated", "--extend-select", "MPS000", ...args], { cwd: dir });
  let findings: Finding[] = [];
  try {
    findings = JSON.parse(r.stdout);
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout.slice(0, 300)}\n${r.stderr}`);
  }
  return { code: r.code, findings, stderr: r.stderr };
}
const brief = (fs: Finding[]) => fs.map((f) => `${path.basename(f.filename)}:${f.location.row}:${f.location.column} ${f.code}`);

describe("Python with syntax errors", () => {
  it("reports MPS000 at the error and keeps linting the rest of the file and the other files", () => {
    const dir = project({
      "broken.py": [
        "import threading",
        "import torch",
        "",
        "def load(path:",
        "    return torch.load(path)",
        "",
        "def worker():",
        "    total = = 1",
        "    torch.mps.synchronize()",
        "",
        "threading.Thread(target=worker).start()",
        "",
      ].join("\n"),
      "fine.py": THREAD(),
    });
    const r = lint(dir);
    expect(r.code).toBe(1);
    expect(brief(r.findings)).toEqual(["broken.py:4:1 MPS000", "broken.py:8:13 MPS000", "broken.py:9:5 MPS001", "fine.py:4:5 MPS001"]);
    expect(r.findings[0].message).toBe("SyntaxError: cannot parse `def load(path:` (and what follows)");
    expect(r.findings[1].message).toBe("SyntaxError: cannot parse `=`");
  });

  it("MPS000 is a rule like the others: noqa, --ignore, stylish and concise output", () => {
    const dir = project({ "a.py": "x = (1 +\n", "b.py": "y = = 2  # noqa: MPS000\n" });
    const concise = runCli(["-f", "concise", "--isolated", "--extend-select", "MPS000", "."], { cwd: dir });
    expect(concise.code).toBe(1);
    expect(concise.stdout).toMatch(/^a\.py:1:1: MPS000 SyntaxError: cannot parse `x = \(1 \+`/m);
    expect(concise.stdout).not.toContain("b.py");
    expect(runCli(["--isolated", "--extend-select", "MPS000", "--ignore", "MPS000", "."], { cwd: dir }).code).toBe(0);
    const stylish = runCli(["--isolated", "--extend-select", "MPS000", "."], { cwd: dir });
    expect(stylish.stdout).toMatch(/1:1\s+error\s+SyntaxError: .*MPS000/);
    // On by default (issue 27), in the files parsed: a folder run's prefilter skips files with
    // nothing mps-lint looks for, so these are not parsed; named, they are.
    expect(runCli(["--isolated", "."], { cwd: dir })).toMatchObject({ code: 0, stdout: "" });
    expect(runCli(["--isolated", "-f", "concise", "a.py", "b.py"], { cwd: dir }).stdout).toMatch(/^a\.py:1:1: MPS000 /m);
  });

  it("Python 2 files (print statements, except X, e) and comment-only or empty files lint without a crash", () => {
    const dir = project({
      "py2.py": 'print "hi"\ntry:\n    import torch\nexcept ImportError, e:\n    print >>sys.stderr, e\nexec "x = 1"\n',
      "comments.py": "# only\n# comments\n",
      "empty.py": "",
      "blank.py": "\n\n   \n",
      "t.py": THREAD(),
    });
    const r = lint(dir);
    expect(r.stderr).toBe("");
    expect(brief(r.findings)).toEqual(["t.py:4:5 MPS001"]);
  });
});

describe("encodings and line endings", () => {
  it("UTF-8 with BOM, a latin-1 cookie, invalid UTF-8: right rows and columns, a warning only for the invalid bytes", () => {
    const body = 'import threading\nimport torch\ndef worker():\n    s = "caf\u00e9"; torch.mps.synchronize()\nthreading.Thread(target=worker).start()\n';
    const dir = project({
      "bom.py": Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body, "utf8")]),
      "latin.py": Buffer.from("# -*- coding: latin-1 -*-\n" + body, "latin1"),
      "bad.py": Buffer.concat([Buffer.from("x = b'"), Buffer.from([0xff, 0xfe]), Buffer.from("'\n"), Buffer.from(body, "utf8")]),
    });
    const r = lint(dir);
    // "    s = "café"; " is 16 characters: the call is at column 17 in every encoding.
    expect(brief(r.findings)).toEqual(["bad.py:5:17 MPS001", "bom.py:4:17 MPS001", "latin.py:5:17 MPS001"]);
    expect(r.stderr).toContain("warning: bad.py: invalid utf-8 bytes; decoded as UTF-8 with replacement characters");
    expect(r.stderr).not.toContain("bom.py");
    expect(r.stderr).not.toContain("latin.py");
  });

  it("CRLF, lone CR and tabs: rows as Python counts lines, columns in characters (a tab is one)", () => {
    const lines = ["import threading", "import torch", "def worker():", "\ttorch.mps.synchronize()", "threading.Thread(target=worker).start()", ""];
    const dir = project({ "crlf.py": lines.join("\r\n"), "cr.py": lines.join("\r"), "lf.py": lines.join("\n") });
    const r = lint(dir);
    expect(brief(r.findings)).toEqual(["cr.py:4:2 MPS001", "crlf.py:4:2 MPS001", "lf.py:4:2 MPS001"]);
    // A lone-CR file with a syntax error: the error is on its own line, not on "line 1".
    const broken = project({ "cr.py": ["import torch", "x = 1", "def f(:", "    pass", ""].join("\r") });
    expect(brief(lint(broken).findings)).toEqual(["cr.py:3:7 MPS000"]);
  });

  it("astral characters (emoji): columns in characters as Ruff; SARIF says utf16CodeUnits and counts them", () => {
    const src = 'import threading\nimport torch\ndef worker():\n    s = "\u{1F600}"; torch.mps.synchronize()\nthreading.Thread(target=worker).start()\n';
    const dir = project({ "emoji.py": src });
    expect(brief(lint(dir).findings)).toEqual(["emoji.py:4:14 MPS001"]);
    const sarif = JSON.parse(runCli(["-f", "sarif", "--isolated", "--extend-select", "MPS000", "."], { cwd: dir }).stdout);
    expect(sarif.runs[0].columnKind).toBe("utf16CodeUnits");
    expect(sarif.runs[0].results[0].locations[0].physicalLocation.region.startColumn).toBe(15);
  });

  it("standard input is decoded as a file is (BOM, cookie, NUL bytes)", () => {
    const bom = spawnSync(process.execPath, [CLI, "-f", "concise", "--isolated", "--extend-select", "MPS000", "-"], {
      input: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("x = (\n")]),
      encoding: "utf8",
    });
    expect(bom.stdout).toMatch(/^-:1:1: MPS000/m);
    const bin = spawnSync(process.execPath, [CLI, "--isolated", "--extend-select", "MPS000", "-"], { input: Buffer.from([0x78, 0, 0x01, 0x0a]), encoding: "utf8" });
    expect(bin.status).toBe(0);
    expect(bin.stderr).toContain("warning: -: contains a NUL byte at offset 1");
  });
});

describe("size and shape", () => {
  const after = THREAD();
  const cases: [string, () => string][] = [
    ["5,000 nested parentheses", () => `x = ${"(".repeat(5000)}1${")".repeat(5000)}\n`],
    ["5,000 nested brackets", () => `x = ${"[".repeat(5000)}${"]".repeat(5000)}\n`],
    ["5,000 nested calls", () => `x = ${"f(".repeat(5000)}${")".repeat(5000)}\n`],
    ["an attribute chain of 5,000", () => `x = a${".b".repeat(5000)}\n`],
    ["a call chain of 5,000", () => `x = a${".b()".repeat(5000)}\n`],
    ["5,000 subscripts", () => `x = a${"[0]".repeat(5000)}\n`],
    ["1 + 1 + ... with 100,000 terms (left-deep)", () => `x = ${Array(100_000).fill("1").join(" + ")}\n`],
    ["a and a and ... with 100,000 terms", () => `x = ${Array(100_000).fill("a").join(" and ")}\n`],
    ["a < a < ... with 100,000 terms", () => `x = ${Array(100_000).fill("a").join(" < ")}\n`],
    ["100,000 unary minus", () => `x = ${"-".repeat(100_000)}1\n`],
    ["5,000 nested lambdas", () => `x = ${"lambda: ".repeat(5000)}1\n`],
    ["a = a = ... 5,000 targets", () => `${"a = ".repeat(5000)}1\n`],
    ["5,000 nested if blocks", () => Array.from({ length: 5000 }, (_, i) => `${" ".repeat(i)}if x:\n`).join("") + `${" ".repeat(5000)}pass\n`],
    ["1,000 nested defs", () => Array.from({ length: 1000 }, (_, i) => `${" ".repeat(i)}def f${i}():\n`).join("") + `${" ".repeat(1000)}pass\n`],
    ["a 1 MB single line", () => `x = [${"1,".repeat(500_000)}]\n`],
    ["5,000 unclosed brackets", () => `x = ${"(".repeat(5000)}\n`],
  ];
  it(`${cases.length} deep or huge shapes (one file each, one run): no crash, and the code after each is analysed`, () => {
    const files: Files = {};
    cases.forEach(([, make], i) => (files[`shape${String(i).padStart(2, "0")}.py`] = make() + after));
    const dir = project(files);
    const r = lint(dir);
    expect(r.stderr).toBe("");
    const got = new Map(cases.map(([name], i) => [name, brief(r.findings).filter((f) => f.startsWith(`shape${String(i).padStart(2, "0")}.py:`) && f.endsWith("MPS001"))]));
    for (const [name] of cases) expect({ name, findings: got.get(name)!.length }).toEqual({ name, findings: 1 });
  });

  it("a 10 MB generated file", () => {
    const parts = [THREAD()];
    const blob = "x".repeat(2000);
    for (let i = 0, n = 0; n < 10_000_000; i++) {
      const p = `_d${i} = b"${blob}"\ndef f${i}(a, b):\n    return a + b * ${i}\n`;
      parts.push(p);
      n += p.length;
    }
    const dir = project({ "gen.py": parts.join("") });
    const r = lint(dir);
    expect(brief(r.findings)).toEqual(["gen.py:4:5 MPS001"]);
  });

  it("a binary file named .py: a warning, not linted, the others are", () => {
    const bytes = Buffer.alloc(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256;
    const dir = project({ "blob.py": bytes, "t.py": THREAD() });
    const r = lint(dir);
    expect(brief(r.findings)).toEqual(["t.py:4:5 MPS001"]);
    expect(r.stderr).toMatch(/warning: blob\.py: contains a NUL byte at offset \d+ \(a binary file\?\); not linted/);
  });
});

describe("file system", () => {
  it("symlink loops (to a folder above, to itself) do not hang; a named loop is exit 2", () => {
    const dir = project({ "pkg/t.py": THREAD() });
    symlinkSync("..", path.join(dir, "pkg", "up"));
    symlinkSync("self.py", path.join(dir, "self.py"));
    symlinkSync("nowhere.py", path.join(dir, "dangling.py"));
    const r = lint(dir);
    expect(brief(r.findings)).toEqual(["t.py:4:5 MPS001"]);
    expect(r.stderr).toContain("warning: self.py: cannot follow: too many levels of symbolic links (a link loop); skipped");
    expect(r.stderr).toContain("warning: dangling.py: cannot follow: no such file or directory; skipped");
    const named = runCli(["self.py"], { cwd: dir });
    expect(named).toMatchObject({ code: 2, stdout: "" });
    expect(named.stderr).toBe("mps-lint: self.py: too many levels of symbolic links (a link loop)\n");
  });

  it("a path that does not exist: exit 2, a clear message, nothing on stdout", () => {
    const dir = project({ "t.py": THREAD() });
    const r = runCli(["t.py", "missing/nope.py"], { cwd: dir });
    expect(r).toEqual({ code: 2, stdout: "", stderr: "mps-lint: missing/nope.py: no such file or directory\n" });
  });

  it("a named FIFO (it would block a read forever): exit 2, not a hang", () => {
    const dir = project({});
    const mk = spawnSync("mkfifo", [path.join(dir, "pipe.py")]);
    if (mk.status !== 0) return; // no mkfifo here
    const r = runCli(["pipe.py"], { cwd: dir });
    expect(r).toMatchObject({ code: 2, stderr: "mps-lint: pipe.py: not a regular file or a folder\n" });
    // In a walked folder it is not a Python file: skipped.
    expect(lint(dir).findings).toEqual([]);
  });

  it("unreadable files and folders (chmod 000): a warning each, the other files linted", () => {
    const dir = project({ "locked.py": THREAD(), "closed/inner.py": THREAD(), "ok.py": THREAD() });
    chmodSync(path.join(dir, "locked.py"), 0o000);
    chmodSync(path.join(dir, "closed"), 0o000);
    // root reads anything: run as nobody there (the tree must be readable by others).
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const r = spawnSync(process.execPath, [CLI, "-f", "json", "--isolated", "--extend-select", "MPS000", "."], { cwd: dir, encoding: "utf8", ...asNobody });
    expect(r.status).toBe(1);
    expect(brief(JSON.parse(r.stdout))).toEqual(["ok.py:4:5 MPS001"]);
    expect(r.stderr).toContain("warning: locked.py: cannot read: permission denied; not linted");
    expect(r.stderr).toContain("warning: closed: cannot read folder: permission denied; skipped");
  });

  it("a folder named like a file (x.py) is walked, not read; an unreadable special file is a warning", () => {
    const dir = project({ "x.py/inner.py": THREAD() });
    expect(brief(lint(dir).findings)).toEqual(["inner.py:4:5 MPS001"]);
    expect(brief(lint(dir, ["x.py"]).findings)).toEqual(["inner.py:4:5 MPS001"]);
    if (process.platform === "linux") {
      // /proc/self/mem is a regular file that fails every read (EIO), even for root.
      const r = lint(dir, ["/proc/self/mem", "x.py"]);
      expect(brief(r.findings)).toEqual(["inner.py:4:5 MPS001"]);
      expect(r.stderr).toMatch(/warning: \/proc\/self\/mem: cannot read: (EIO|EFAULT|EINVAL)/);
    }
  });

  it("paths with spaces and non-ASCII names", () => {
    const dir = project({ "my project/sérvé ünï.py": THREAD(), "日本/モデル.py": THREAD() });
    const r = runCli(["-f", "concise", "--isolated", "--extend-select", "MPS000", "my project", "日本/モデル.py"], { cwd: dir });
    expect(r.stdout).toContain("my project/sérvé ünï.py:4:5: MPS001");
    expect(r.stdout).toContain("日本/モデル.py:4:5: MPS001");
  });
});

describe("configuration and notebooks fail clearly", () => {
  it("--config naming a missing file, or invalid TOML in it: exit 2 naming the file", () => {
    const dir = project({ "t.py": THREAD(), "bad.toml": "select = [\n" });
    const missing = runCli(["--config", "nope.toml", "t.py"], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^mps-lint: .*nope\.toml/);
    const bad = runCli(["--config", "bad.toml", "t.py"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.toml:\d+(:\d+)?: invalid TOML/);
  });

  it("a notebook whose cell has a syntax error: MPS000 in the cell, the other cells linted", () => {
    const cell = (src: string) => ({ cell_type: "code", metadata: {}, outputs: [], execution_count: null, source: src });
    const nb = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: "python3", language: "python" } },
      cells: [cell("import threading\nimport torch\n"), cell("def f(:\n    pass\n"), cell("def worker():\n    torch.mps.synchronize()\n\nthreading.Thread(target=worker).start()\n")],
    };
    const dir = project({ "nb.ipynb": JSON.stringify(nb) });
    const r = runCli(["-f", "concise", "--isolated", "--extend-select", "MPS000", "."], { cwd: dir });
    expect(r.stdout).toMatch(/^nb\.ipynb:cell 2:1:\d+: MPS000/m);
    expect(r.stdout).toMatch(/^nb\.ipynb:cell 3:2:5: MPS001/m);
  });
});
