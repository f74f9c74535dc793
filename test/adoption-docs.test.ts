// Documentation that travels: links in reports, the guide the rule pages cite, and the install
// page's claims of being tested.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runCli } from "./cli.js";
import { BAD, project } from "./project.js";

describe("documentation links", () => {
  const dir = project({ "serve.py": BAD });

  it("MPS_LINT_DOCS_URL is the public base of SARIF helpUri and JSON url; without it no file: links", () => {
    const env = { MPS_LINT_DOCS_URL: "https://docs.example.org/mps-lint/rules/" };
    const log = JSON.parse(runCli(["serve.py", "-f", "sarif"], { cwd: dir, env }).stdout);
    const rule = log.runs[0].tool.driver.rules.find((r: { id: string }) => r.id === "MPS001");
    expect(rule.helpUri).toBe("https://docs.example.org/mps-lint/rules/device-sync-in-thread.md");
    expect(log.runs[0].tool.driver.informationUri).toBe("https://docs.example.org/mps-lint/rules");
    const json = JSON.parse(runCli(["serve.py", "-f", "json"], { cwd: dir, env }).stdout);
    expect(json[0].url).toBe("https://docs.example.org/mps-lint/rules/device-sync-in-thread.md");
    const plain = runCli(["serve.py", "-f", "sarif"], { cwd: dir }).stdout;
    expect(plain).not.toMatch(/"(helpUri|informationUri)"/);
    expect(JSON.parse(runCli(["serve.py", "-f", "json"], { cwd: dir }).stdout)[0].url).toBe("docs/rules/device-sync-in-thread.md");
  });

  it("rule pages cite docs/guide.md, and every section they name is in it", () => {
    const guide = readFileSync(path.join(ROOT, "docs", "guide.md"), "utf8");
    const headings = [...guide.matchAll(/^#+ (.*)$/gm)].map((m) => m[1].toLowerCase());
    const pages = readdirSync(path.join(ROOT, "docs", "rules")).filter((f) => f.endsWith(".md"));
    let cited = 0;
    for (const page of pages) {
      const text = readFileSync(path.join(ROOT, "docs", "rules", page), "utf8");
      expect(text, page).not.toContain("MPS_SYNC_MODE_GUIDE.md");
      for (const m of text.matchAll(/^- \[The guide\]\(\.\.\/guide\.md\): (.*)$/gm)) {
        cited++;
        for (const section of m[1].split(",").map((s) => s.replace(/\(.*\)/, "").replace(/ table$/i, "").trim().toLowerCase())) {
          expect(headings.some((h) => h.startsWith(section) || h.includes(section)), `${page}: ${section}`).toBe(true);
        }
      }
    }
    expect(cited).toBeGreaterThan(4);
  });

  it("docs/install.md names only tests that exist", () => {
    const install = readFileSync(path.join(ROOT, "docs", "install.md"), "utf8");
    const named = [...install.matchAll(/test\/[\w./-]+\.(?:ts|lua)/g)].map((m) => m[0]);
    expect(named.length).toBeGreaterThan(4);
    for (const t of named) expect(existsSync(path.join(ROOT, t)), t).toBe(true);
  });
});
