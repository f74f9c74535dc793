import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./cli.js";
import { BAD, GOOD, WARN, project } from "./project.js";

const codes = (stdout: string) => (JSON.parse(stdout) as { code: string; filename: string }[]).map((d) => d.code);

describe("configuration files", () => {
  it("reads [tool.mps-lint] from pyproject.toml: ignore", () => {
    const dir = project({ "serve.py": BAD, "pyproject.toml": '[project]\nname = "x"\n\n[tool.mps-lint]\nignore = ["MPS001"]\n' });
    expect(runCli(["."], { cwd: dir })).toMatchObject({ code: 0, stdout: "" });
    // --isolated ignores it.
    expect(runCli(["--isolated", "."], { cwd: dir }).code).toBe(1);
  });

  it("a pyproject.toml without [tool.mps-lint] is passed over for one further up", () => {
    const dir = project({
      "mps-lint.toml": 'ignore = ["MPS001"]\n',
      "sub/pyproject.toml": '[project]\nname = "sub"\n',
      "sub/serve.py": BAD,
    });
    expect(runCli(["sub/serve.py"], { cwd: dir }).code).toBe(0);
  });

  it("the closest configuration file wins, per file (no merging)", () => {
    const dir = project({
      "pyproject.toml": '[tool.mps-lint]\nignore = ["MPS001"]\n',
      "a/serve.py": BAD,
      "b/serve.py": BAD,
      "b/.mps-lint.toml": "select = [\"MPS0\"]\n",
    });
    const r = runCli(["-f", "json", "."], { cwd: dir });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { filename: string }[];
    expect(out.map((d) => path.relative(dir, d.filename))).toEqual([path.join("b", "serve.py")]);
  });

  it(".mps-lint.toml beats mps-lint.toml beats pyproject.toml in one folder", () => {
    const dir = project({
      "serve.py": BAD,
      "pyproject.toml": '[tool.mps-lint]\nignore = ["MPS001"]\n',
      "mps-lint.toml": "select = [\"MPS001\"]\n",
    });
    expect(runCli(["serve.py"], { cwd: dir }).code).toBe(1);
    writeFileSync(path.join(dir, ".mps-lint.toml"), 'ignore = ["MPS0"]\n');
    expect(runCli(["serve.py"], { cwd: dir }).code).toBe(0);
  });

  it("--config uses one file for everything, and the command line layers on top", () => {
    const dir = project({ "serve.py": BAD, "w.py": WARN, "ci/strict.toml": 'select = ["MPS002"]\n' });
    expect(codes(runCli(["-f", "json", "--config", "ci/strict.toml", "."], { cwd: dir }).stdout)).toEqual(["MPS002"]);
    expect(codes(runCli(["-f", "json", "--config", "ci/strict.toml", "--extend-select", "MPS001", "."], { cwd: dir }).stdout).sort()).toEqual(["MPS001", "MPS002"]);
    expect(codes(runCli(["-f", "json", "--config", "ci/strict.toml", "--select", "MPS001", "."], { cwd: dir }).stdout)).toEqual(["MPS001"]);
    const missing = runCli(["--config", "nope.toml", "."], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nope.toml");
  });

  it("extend-select enables opt-in rules; select replaces the defaults", () => {
    const dir = project({
      "serve.py": BAD.replace("torch.mps.synchronize()", "torch.mps.synchronize()  # noqa: MPS003"),
      "pyproject.toml": '[tool.mps-lint]\nextend-select = ["MPS100"]\n',
    });
    expect(codes(runCli(["-f", "json", "."], { cwd: dir }).stdout).sort()).toEqual(["MPS001", "MPS100"]);
  });

  it("per-file-ignores: globs relative to the configuration file, basenames, negation", () => {
    const dir = project({
      "pyproject.toml": [
        "[tool.mps-lint.per-file-ignores]",
        '"tests/**" = ["MPS001"]',
        '"legacy_*.py" = ["MPS0"]',
        '"!pkg/**" = ["MPS002"]',
      ].join("\n"),
      "tests/test_serve.py": BAD,
      "pkg/legacy_old.py": BAD,
      "pkg/serve.py": BAD,
      "pkg/w.py": WARN,
      "w.py": WARN,
    });
    const r = runCli(["-f", "json", "."], { cwd: dir });
    const files = (JSON.parse(r.stdout) as { filename: string; code: string }[]).map((d) => `${path.relative(dir, d.filename)}:${d.code}`).sort();
    expect(files).toEqual([`${path.join("pkg", "serve.py")}:MPS001`, `${path.join("pkg", "w.py")}:MPS002`]);
  });

  it("exclude and extend-exclude skip folders and files; --force-exclude applies them to named files", () => {
    const dir = project({
      "pyproject.toml": '[tool.mps-lint]\nexclude = ["generated/"]\nextend-exclude = ["*_pb2.py"]\n',
      "generated/a.py": BAD,
      "proto_pb2.py": BAD,
      "ok.py": GOOD,
    });
    expect(runCli(["."], { cwd: dir })).toMatchObject({ code: 0, stdout: "" });
    // Named explicitly: linted (as Ruff), unless --force-exclude (what pre-commit uses).
    expect(runCli(["generated/a.py"], { cwd: dir }).code).toBe(1);
    expect(runCli(["--force-exclude", "generated/a.py", "proto_pb2.py"], { cwd: dir })).toMatchObject({ code: 0, stdout: "" });
  });

  it("severity overrides change the level (and so --errors-only and the summary)", () => {
    const dir = project({ "serve.py": BAD, "mps-lint.toml": '[severity]\nMPS001 = "warning"\n' });
    const r = runCli(["serve.py"], { cwd: dir });
    expect(r.stdout).toMatch(/5:5\s+warning/);
    expect(r.stdout).toContain("(0 errors, 1 warning)");
    expect(runCli(["--errors-only", "serve.py"], { cwd: dir }).code).toBe(0);
  });

  it("thread-entry-points makes decorated handlers thread code", () => {
    const handler = `import torch\nfrom app.web import route\n\n@route("/infer")\ndef infer(x):\n    torch.mps.synchronize()\n    return x\n`;
    const web = `def route(path):\n    def deco(f):\n        return f\n    return deco\n`;
    const dir = project({ "app/__init__.py": "", "app/web.py": web, "app/handlers.py": handler });
    expect(runCli(["."], { cwd: dir }).code).toBe(0);
    writeFileSync(path.join(dir, "pyproject.toml"), '[tool.mps-lint]\nthread-entry-points = ["app.web.route"]\n');
    const r = runCli(["-f", "concise", "."], { cwd: dir });
    expect(r.stdout).toMatch(/app\/handlers\.py:6:5: MPS001/);
  });

  it("--show-settings prints the resolved settings for a file, with their source", () => {
    const dir = project({
      "pyproject.toml": [
        "[tool.mps-lint]",
        'select = ["MPS001", "MPS002"]',
        'src = ["src"]',
        'torch-version = "2.5.1"',
        'per-file-ignores = { "tests/*" = ["MPS002"] }',
        "[tool.mps-lint.verify]",
        'python = "/usr/bin/python3"',
        "timeout = 30",
        'device = "cpu"',
      ].join("\n"),
      "tests/test_a.py": GOOD,
    });
    const r = runCli(["--show-settings", "tests/test_a.py"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Settings path: "${path.join(dir, "pyproject.toml")}"`);
    expect(r.stdout).toContain(`src = ["${path.join(dir, "src")}"]`);
    expect(r.stdout).toContain('torch-version = "2.5.1"');
    expect(r.stdout).toContain('verify = { python = "/usr/bin/python3", timeout = 30, device = "cpu" }');
    expect(r.stdout).toMatch(/rules enabled for this file:\n  MPS001 device-sync-in-thread \(error\)\n$/);
    const iso = runCli(["--isolated", "--show-settings", "tests/test_a.py"], { cwd: dir });
    expect(iso.stdout).toContain("Settings path: (none: defaults)");
  });
});

describe("configuration errors exit 2 naming the file, line and key", () => {
  const cases: [string, string, RegExp][] = [
    ["unknown key", '[tool.mps-lint]\nselect = ["MPS001"]\nselct = ["MPS002"]\n', /pyproject\.toml:3: tool\.mps-lint\.selct: unknown key/],
    ["wrong type", '[tool.mps-lint]\n\nselect = "MPS001"\n', /pyproject\.toml:3: tool\.mps-lint\.select: expected a list of rule codes or prefixes, got string "MPS001"/],
    ["unknown rule", '[tool.mps-lint]\nignore = ["XYZ1"]\n', /pyproject\.toml:2: tool\.mps-lint\.ignore: unknown rule selector "XYZ1"/],
    ["bad severity", '[tool.mps-lint.severity]\nMPS001 = "fatal"\n', /pyproject\.toml:2: tool\.mps-lint\.severity\.MPS001: expected "error", "warning" or "info", got string "fatal"/],
    ["bad verify key", '[tool.mps-lint.verify]\ntimeout = 10\ndevise = "cpu"\n', /pyproject\.toml:3: tool\.mps-lint\.verify\.devise: unknown key; did you mean "device"\? \(known: python, entry, timeout, device\)/],
    ["bad verify timeout", '[tool.mps-lint.verify]\ntimeout = -1\n', /pyproject\.toml:2: tool\.mps-lint\.verify\.timeout: expected a positive number of seconds/],
    ["bad verify device", '[tool.mps-lint.verify]\ndevice = "tpu"\n', /verify\.device: expected one of "auto", "mps", "cuda", "xpu", "cpu", got string "tpu"/],
    ["bad torch version", '[tool.mps-lint]\ntorch-version = 2.5\n', /pyproject\.toml:2: tool\.mps-lint\.torch-version: expected a PyTorch version string/],
    ["per-file-ignores not a table", '[tool.mps-lint]\nper-file-ignores = ["tests/**"]\n', /tool\.mps-lint\.per-file-ignores: expected a table/],
    ["thread entry point that is not a dotted name", '[tool.mps-lint]\nthread-entry-points = ["app.web:route"]\n', /pyproject\.toml:2: tool\.mps-lint\.thread-entry-points: expected a list of qualified names.*got "app\.web:route"/],
    ["invalid TOML", "[tool.mps-lint]\nselect = [\n", /pyproject\.toml:\d+:\d+: invalid TOML/],
  ];
  for (const [name, toml, want] of cases) {
    it(name, () => {
      const dir = project({ "pyproject.toml": toml, "serve.py": BAD });
      const r = runCli(["serve.py"], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(want);
    });
  }

  it("top-level keys of mps-lint.toml are named without the tool prefix", () => {
    const dir = project({ "mps-lint.toml": 'select = ["MPS001"]\nbogus = 1\n', "serve.py": BAD });
    const r = runCli(["serve.py"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/mps-lint\.toml:2: bogus: unknown key/);
  });
});

// ---- one invalid value for every settings key, the keys read from the validator itself ----------

/** The keys the validator knows in a table, from its own "unknown key (known: ...)" message. */
function knownKeys(table: string): string[] | null {
  const dir = project({ "pyproject.toml": `[${table}]\nzz-not-a-key = 1\n`, "ok.py": GOOD });
  const m = /unknown key \(known: ([^)]*)\)/.exec(runCli(["ok.py"], { cwd: dir }).stderr);
  return m ? m[1].split(",").map((k) => k.trim()) : null;
}

/**
 * A value each key must refuse, chosen to be wrong in the key's own terms. Keys added later are
 * tried with FALLBACK values (below) until one is refused, so they are covered without a row
 * here; a key that accepts all of them fails the test and needs a row.
 */
const INVALID: Record<string, string> = {
  select: '"MPS001"',
  ignore: '["XYZ1"]',
  "extend-select": "[1]",
  "per-file-ignores": '{ "tests/**" = "MPS001" }',
  exclude: '"build/"',
  "extend-exclude": "[true]",
  src: '"src"',
  "thread-entry-points": '["handlers.handle()"]',
  "torch-version": '"latest"',
  severity: '{ MPS001 = "fatal" }',
  verify: '"cpu"',
  "verify.python": '""',
  "verify.entry": "3",
  "verify.timeout": "0",
  "verify.device": '"tpu"',
};
const FALLBACK = ["12345", '"zz-invalid"', "[12345]", '["zz invalid"]', "{ zz-invalid = 1 }", "true", "-1", "1979-05-27"];

describe("every settings key refuses an invalid value: exit 2 with file:line: key", () => {
  const top = knownKeys("tool.mps-lint");
  it("the validator lists its keys", () => {
    expect(top).toEqual(expect.arrayContaining(["select", "ignore", "thread-entry-points", "verify"]));
  });
  // Keys that are tables of their own keys (verify, ...) are expanded one level.
  const keys: { key: string; table: string; name: string }[] = [];
  for (const k of top ?? []) {
    const sub = knownKeys(`tool.mps-lint.${k}`);
    keys.push({ key: k, table: "tool.mps-lint", name: k });
    for (const s of sub ?? []) keys.push({ key: `${k}.${s}`, table: `tool.mps-lint.${k}`, name: s });
  }
  for (const { key, table, name } of keys) {
    it(key, () => {
      // The key sits on line 3 (a blank line between), so the reported line is the key's own.
      const refused = (value: string) => {
        const dir = project({ "pyproject.toml": `[${table}]\n\n${name} = ${value}\n`, "serve.py": BAD });
        const r = runCli(["serve.py"], { cwd: dir });
        return { r, ok: r.code === 2 && r.stdout === "" && r.stderr.includes(`pyproject.toml:3: tool.mps-lint.${key}`) && !r.stderr.includes("unknown key") };
      };
      if (key in INVALID) {
        const { r, ok } = refused(INVALID[key]);
        expect(ok, `${key} = ${INVALID[key]}: exit ${r.code}\n${r.stderr}`).toBe(true);
      } else {
        const hit = FALLBACK.find((v) => refused(v).ok);
        expect(hit, `no invalid value found for the new key ${key}: add one to INVALID`).toBeDefined();
      }
    });
  }
  it("each row of the table names a key the validator knows", () => {
    expect(Object.keys(INVALID).filter((k) => !keys.some((x) => x.key === k))).toEqual([]);
  });
});
