// GitLab Code Quality report (the JSON GitLab shows in merge requests): an array of issues with
// a fingerprint that stays the same across runs, so GitLab can tell new findings from old.
// https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format

import { createHash } from "node:crypto";
import { displayPath } from "./paths.js";
import type { ReportInput } from "./types.js";

const SEVERITY = { error: "major", warning: "minor", info: "info" } as const;

export function gitlab(input: ReportInput): string {
  const issues = input.diagnostics.map((d) => {
    const file = displayPath(d.file, input.cwd);
    const fingerprint =
      d.fingerprint ?? createHash("sha256").update(`${d.code}\0${file}\0${d.range.start.row}\0${d.range.start.column}`).digest("hex").slice(0, 32);
    return {
      type: "issue",
      check_name: d.code,
      description: `${d.code} ${d.message}`,
      categories: ["Bug Risk"],
      severity: SEVERITY[d.severity],
      fingerprint,
      location: {
        path: file,
        lines: { begin: d.range.start.row + 1, end: d.range.end.row + 1 },
      },
      ...(d.cell !== undefined ? { cell: d.cell } : {}),
    };
  });
  return JSON.stringify(issues, null, 2) + "\n";
}
