// One table of options (src/config/options.ts, issue 29's item, in issue 27): docs/configuration.md's
// reference and docs/mps-lint.schema.json are the table's, every key's example is accepted by the
// built CLI and by the schema, every key refuses a value of the wrong type, --show-settings prints
// every key, the command-line options the table names exist, and mps-per-thread-streams-version
// (documented, read by MPS008) is a key.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import Ajv from "ajv";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { OPTIONS } from "../src/config/options.js";
import { configurationReference, schemaText, withReference } from "../src/config/reference.js";
import { RULES } from "../rules/index.js";
import { ROOT, runCli } from "./cli.js";
import { project } from "./project.js";

describe("derived from the table", () => {
  it("docs/configuration.md holds the table's reference, every key once", () => {
    const doc = readFileSync(path.join(ROOT, "docs", "configuration.md"), "utf8");
    expect(withReference(doc)).toBe(doc);
    for (const o of OPTIONS) expect(doc.split(`### \`${o.key}\``).length - 1, o.key).toBe(1);
    expect(configurationReference()).toContain("### `mps-per-thread-streams-version`");
  });

  it("docs/mps-lint.schema.json is the table's, and every example validates against it", () => {
    const text = readFileSync(path.join(ROOT, "docs", "mps-lint.schema.json"), "utf8");
    expect(text).toBe(schemaText());
    const validate = new Ajv({ strict: false }).compile(JSON.parse(text));
    for (const o of OPTIONS) {
      const value = parseToml(o.example);
      expect(validate(value), `${o.key}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    expect(validate({ selekt: ["MPS001"] })).toBe(false);
    expect(validate({ "respect-gitignore": "yes" })).toBe(false);
  });

  it("the command-line options each key names are options of mps-lint", () => {
    const help = runCli(["--help"]).stdout;
    for (const o of OPTIONS) for (const flag of o.cli ?? []) expect(help, `${o.key}: ${flag}`).toContain(flag.replace(/^--no-/, "--"));
  });
});

describe("through the built CLI", () => {
  const examples = OPTIONS.filter((o) => o.key !== "extend").map((o) => o.example).join("\n");

  it("every key's example is accepted, and --show-settings prints every key", () => {
    const dir = project({ "mps-lint.toml": examples + "\n", "a.py": "x = 1\n" });
    const r = runCli(["--show-settings", "a.py"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const o of OPTIONS) {
      if (!o.field || o.key === "extend-per-file-ignores") continue; // merged into per-file-ignores
      expect(r.stdout, o.key).toMatch(new RegExp(`^${o.key} = `, "m"));
    }
    expect(r.stdout).toContain('per-file-ignores = { "tests/**" = ["MPS002"], "__init__.py" = ["MPS0"], "legacy/**" = ["MPS001"] }');
    expect(r.stdout).toContain('mps-per-thread-streams-version = "2.16"');
  });

  it("a value of the wrong type is refused for every key, naming the file, line and key", () => {
    for (const o of OPTIONS) {
      const dir = project({ "pyproject.toml": `[tool.mps-lint]\n${o.key} = 12345\n`, "a.py": "x = 1\n" });
      const r = runCli(["a.py"], { cwd: dir });
      expect(r.code, o.key).toBe(2);
      expect(r.stderr, o.key).toMatch(new RegExp(`pyproject\\.toml:2: tool\\.mps-lint\\.${o.key}: expected `));
    }
  });

  it("--config \"key = value\" goes through the same checks", () => {
    const r = runCli(["--config", "mps-per-thread-streams-version = 'soon'", "a.py"], { cwd: project({ "a.py": "" }) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--config: mps-per-thread-streams-version: expected a PyTorch version string");
  });

  it("mps-per-thread-streams-version is read by MPS008", () => {
    const example = RULES.find((r) => r.meta.code === "MPS008")!.meta.example;
    const dir = project({ "serve.py": example });
    const run = (threshold: string | null) => {
      const cfg = ['torch-version = "2.5"', ...(threshold ? [`mps-per-thread-streams-version = "${threshold}"`] : [])].join("\n");
      writeFileSync(path.join(dir, "mps-lint.toml"), cfg + "\n");
      const r = runCli(["-f", "json", "-n", "--select", "MPS008", "serve.py"], { cwd: dir });
      expect(r.stderr).toBe("");
      return (JSON.parse(r.stdout) as { code: string; message: string }[]).map((d) => d.message);
    };
    const byDefault = run(null);
    expect(byDefault).toHaveLength(1);
    expect(byDefault[0]).toContain("per-thread streams from 2.16");
    expect(run("2.4")).toEqual([]); // 2.5 already has them
    expect(run("3.0")[0]).toContain("per-thread streams from 3.0");
  });
});
