// The configuration reference and JSON schema, written from the option table (./options.ts):
// the section of docs/configuration.md between the `options` markers, and docs/mps-lint.schema.json
// (for editors: Even Better TOML / taplo read a schema for `[tool.mps-lint]` or mps-lint.toml).
//
//   node dist/src/config/reference.js           write both
//   node dist/src/config/reference.js --check   exit 1 when either is out of date (CI: test/config-options.test.ts)

import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { OPTIONS } from "./options.js";

export const START = "<!-- options: written by `npm run docs:config` from src/config/options.ts; do not edit -->";
export const END = "<!-- options: end -->";

/** One section per key: type, default, merge rule, command line, what it does, an example. */
export function configurationReference(): string {
  const out: string[] = [START, ""];
  for (const o of OPTIONS) {
    out.push(`### \`${o.key}\``, "");
    out.push(o.docs, "");
    out.push(`- Type: ${o.type}`);
    out.push(`- Default: ${o.defaultText}`);
    out.push(`- Merge: ${o.merge}`);
    if (o.cli) out.push(`- Command line: ${o.cli.map((c) => `\`${c}\``).join(", ")}`);
    out.push("", "```toml", o.example, "```", "");
  }
  out.push(END);
  return out.join("\n");
}

/** The JSON schema of `[tool.mps-lint]` / mps-lint.toml. */
export function configurationSchema(): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const o of OPTIONS) {
    properties[o.key] = { description: `${o.docs} Default: ${o.defaultText}.`, ...o.schema };
  }
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "mps-lint",
    description: "Settings of mps-lint: [tool.mps-lint] in pyproject.toml, or mps-lint.toml / .mps-lint.toml (docs/configuration.md).",
    type: "object",
    properties,
    additionalProperties: false,
  };
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const DOC_FILE = path.join(ROOT, "docs", "configuration.md");
export const SCHEMA_FILE = path.join(ROOT, "docs", "mps-lint.schema.json");

/** docs/configuration.md with its reference section replaced by the table's. */
export function withReference(doc: string): string {
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${DOC_FILE}: the markers ${START} ... ${END} are missing`);
  return doc.slice(0, a) + configurationReference() + doc.slice(b + END.length);
}

export function schemaText(): string {
  return JSON.stringify(configurationSchema(), null, 2) + "\n";
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes("--check");
  const doc = readFileSync(DOC_FILE, "utf8");
  const wanted = withReference(doc);
  let schemaNow = "";
  try {
    schemaNow = readFileSync(SCHEMA_FILE, "utf8");
  } catch {
    /* not written yet */
  }
  if (check) {
    const stale = [wanted !== doc && DOC_FILE, schemaNow !== schemaText() && SCHEMA_FILE].filter(Boolean);
    if (stale.length > 0) {
      process.stderr.write(`out of date (run npm run docs:config): ${stale.join(", ")}\n`);
      process.exit(1);
    }
  } else {
    writeFileSync(DOC_FILE, wanted);
    writeFileSync(SCHEMA_FILE, schemaText());
  }
}
