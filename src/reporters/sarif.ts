// SARIF 2.1.0 (what GitHub code scanning and other viewers read): one run, the rules that ran
// with their documentation, and each finding's witness path as a code flow (a thread flow from
// the spawn site through each call to the finding).

import path from "node:path";
import { pathToFileURL } from "node:url";
import type * as Sarif from "sarif";
import { RULES } from "../../rules/index.js";
import type { Rule } from "../engine/rule.js";
import type { Range } from "../types.js";
import { helpUri, informationUri, packageVersion } from "./docs.js";
import type { ReportDiagnostic, ReportInput } from "./types.js";

const LEVEL: Record<string, Sarif.ReportingConfiguration.level> = { error: "error", warning: "warning", info: "note" };

function artifact(file: string, cwd: string): Sarif.ArtifactLocation {
  const abs = path.resolve(cwd, file);
  const rel = path.relative(cwd, abs);
  if (file !== "-" && rel && !rel.startsWith("..") && !path.isAbsolute(rel)) {
    return { uri: rel.split(path.sep).map(encodeURIComponent).join("/"), uriBaseId: "%SRCROOT%" };
  }
  return { uri: file === "-" ? "stdin" : pathToFileURL(abs).href };
}

function region(r: Range): Sarif.Region {
  return {
    startLine: r.start.row + 1,
    startColumn: r.start.column + 1,
    endLine: r.end.row + 1,
    endColumn: r.end.column + 1,
  };
}

function location(file: string, r: Range, cwd: string, cell: number | undefined, text?: string): Sarif.Location {
  return {
    physicalLocation: { artifactLocation: artifact(file, cwd), region: region(r) },
    ...(text !== undefined ? { message: { text } } : {}),
    ...(cell !== undefined ? { properties: { cell } } : {}),
  };
}

function ruleDescriptor(rule: Rule): Sarif.ReportingDescriptor {
  const m = rule.meta;
  return {
    id: m.code,
    name: m.name,
    shortDescription: { text: m.summary },
    fullDescription: { text: m.why },
    ...(helpUri(m) ? { helpUri: helpUri(m) } : {}),
    help: { text: `${m.summary}\n\n${m.why}`, markdown: `${m.summary}\n\n${m.why}\n\nExample:\n\n\`\`\`python\n${m.example}\n\`\`\`\n\nUse instead:\n\n\`\`\`python\n${m.useInstead}\n\`\`\`` },
    defaultConfiguration: { level: LEVEL[m.severity] },
    properties: { tags: [m.category], ...(m.optIn ? { optIn: true } : {}) },
  };
}

export function toSarif(input: ReportInput): Sarif.Log {
  const ran = input.rules ?? RULES;
  const rules = [...ran];
  // A finding of a rule not listed (severity overrides, MPS100) still needs its descriptor.
  for (const d of input.diagnostics) {
    if (!rules.some((r) => r.meta.code === d.code)) {
      const r = RULES.find((x) => x.meta.code === d.code);
      if (r) rules.push(r);
    }
  }
  const index = new Map(rules.map((r, i) => [r.meta.code, i]));
  const results: Sarif.Result[] = input.diagnostics.map((d: ReportDiagnostic) => {
    const res: Sarif.Result = {
      ruleId: d.code,
      level: LEVEL[d.severity],
      message: { text: d.message },
      locations: [location(d.file, d.range, input.cwd, d.cell)],
    };
    const i = index.get(d.code);
    if (i !== undefined) res.ruleIndex = i;
    if (d.fingerprint) res.partialFingerprints = { "mpsLintFingerprint/v1": d.fingerprint };
    if (d.path.length > 0) {
      const steps = [
        ...d.path.map((p) => ({ location: location(p.file, p.range, input.cwd, p.cell, p.label) })),
        { location: location(d.file, d.range, input.cwd, d.cell, d.code) },
      ];
      res.codeFlows = [{ message: { text: "how a worker thread reaches the finding" }, threadFlows: [{ locations: steps }] }];
      res.relatedLocations = d.path.map((p, k) => ({ id: k + 1, ...location(p.file, p.range, input.cwd, p.cell, p.label) }));
    }
    if (d.cell !== undefined) res.properties = { cell: d.cell };
    // SARIF fixes: one artifact change with a replacement per edit; Ruff's applicability kept.
    if (d.fix && d.fix.edits.length > 0) {
      res.fixes = [
        {
          description: { text: d.fix.message },
          artifactChanges: [
            {
              artifactLocation: artifact(d.file, input.cwd),
              replacements: d.fix.edits.map((e) => ({ deletedRegion: region(e.range), insertedContent: { text: e.content } })),
            },
          ],
          properties: { applicability: d.fix.applicability },
        },
      ];
    }
    return res;
  });
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "mps-lint",
            version: input.toolVersion ?? packageVersion(),
            ...(informationUri() ? { informationUri: informationUri() } : {}),
            rules: rules.map(ruleDescriptor),
          },
        },
        originalUriBaseIds: { "%SRCROOT%": { uri: pathToFileURL(input.cwd + path.sep).href } },
        columnKind: "utf16CodeUnits",
        results,
      },
    ],
  };
}

export function sarif(input: ReportInput): string {
  return JSON.stringify(toSarif(input), null, 2) + "\n";
}
