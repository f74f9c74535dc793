// Suppression comments, as Ruff and flake8 read them, plus mps-lint's own directives:
//
//   x()  # noqa                        every finding on this line
//   x()  # noqa: MPS001, MPS003        these codes on this line (codes of other tools are left alone)
//   x()  # mps-lint: ignore[MPS001]    this line; on a line of its own: the next line
//   # mps-lint: noqa                   the whole file (every code)
//   # mps-lint: file-ignore[MPS002]    these codes in the whole file
//
// A finding that spans lines is matched at its first line (Ruff's noqa_row). This stage reports
// facts: which findings each directive silenced. Whether a directive is unused is decided by the
// opt-in rule MPS100 (rules/unused-suppression.ts), which runs over those facts.

import type { CommentFact } from "../facts/model.js";
import { toDiagnostic, type Rule } from "../engine/rule.js";
import type { Diagnostic, Directive } from "../types.js";

export type { Directive } from "../types.js";

/** MPS100's code (rules/unused-suppression.ts): other stages leave its findings alone. */
export const UNUSED_SUPPRESSION = "MPS100";

const CODE = /^[A-Z]{1,8}[0-9]{1,6}$/i;

export interface ParsedDirectives {
  directives: Directive[];
  /** Comments that look like our directives but do not parse. */
  invalid: { row: number; message: string }[];
}

/** Codes in "MPS001, MPS003" or "MPS001 MPS003"; stops at the first word that is not a code. */
function parseCodes(s: string): { codes: string[]; rest: string } {
  const codes: string[] = [];
  let rest = s;
  for (;;) {
    const m = /^[\s,]*([A-Za-z]+[0-9]+)\b/.exec(rest);
    if (!m || !CODE.test(m[1])) break;
    codes.push(m[1].toUpperCase());
    rest = rest.slice(m[0].length);
  }
  return { codes, rest };
}

function bracketCodes(s: string): string[] | null | undefined {
  const m = /^\s*\[([^\]]*)\]/.exec(s);
  if (!m) return /^\s*($|#|\s)/.test(s) ? null : undefined;
  const { codes, rest } = parseCodes(m[1]);
  if (rest.trim() !== "" || codes.length === 0) return undefined;
  return codes;
}

/**
 * Directives of one file from its directive comments. `lines` (the source split into lines)
 * tells whether a comment stands on a line of its own.
 */
export function parseDirectives(comments: readonly CommentFact[], lines: readonly string[]): ParsedDirectives {
  const directives: Directive[] = [];
  const invalid: ParsedDirectives["invalid"] = [];
  for (const c of comments) {
    const ownLine = (lines[c.row] ?? "").slice(0, c.column).trim() === "";
    // One comment may hold several: "# type: ignore  # noqa: MPS001  # expect: MPS100".
    const parts = c.text.split("#").slice(1);
    let offset = c.column;
    for (const part of parts) {
      const column = offset;
      offset += part.length + 1;
      const seg = part.trim();
      const base = { row: c.row, column, text: `#${part}`.trimEnd() };
      const noqa = /^noqa(?=$|[\s:])(:?)(.*)$/i.exec(seg);
      if (noqa) {
        if (noqa[1] === ":") {
          const { codes } = parseCodes(noqa[2]);
          directives.push({ ...base, kind: "noqa", codes: codes.length > 0 ? codes : null, rows: [c.row] });
        } else {
          directives.push({ ...base, kind: "noqa", codes: null, rows: [c.row] });
        }
        continue;
      }
      const ours = /^mps-lint\s*:\s*(.*)$/i.exec(seg);
      if (!ours) continue;
      const body = ours[1];
      let m: RegExpExecArray | null;
      if ((m = /^ignore(?=$|[\s[#])(.*)$/i.exec(body))) {
        const codes = bracketCodes(m[1]);
        if (codes === undefined) invalid.push({ row: c.row, message: `cannot read "${seg}": expected # mps-lint: ignore[CODE, ...]` });
        else directives.push({ ...base, kind: "ignore", codes, rows: ownLine ? [c.row + 1] : [c.row] });
      } else if ((m = /^file-ignore(?=$|[\s[#])(.*)$/i.exec(body))) {
        const codes = bracketCodes(m[1]);
        if (!codes) invalid.push({ row: c.row, message: `cannot read "${seg}": expected # mps-lint: file-ignore[CODE, ...]` });
        else directives.push({ ...base, kind: "file", codes, rows: [] });
      } else if ((m = /^noqa(?=$|[\s:])(:?)(.*)$/i.exec(body))) {
        const codes = m[1] === ":" ? parseCodes(m[2]).codes : [];
        directives.push({ ...base, kind: "file", codes: codes.length > 0 ? codes : null, rows: [] });
      } else {
        invalid.push({ row: c.row, message: `unknown directive "${seg}" (known: # mps-lint: ignore[...], file-ignore[...], noqa)` });
      }
    }
  }
  return { directives, invalid };
}

export interface SuppressInput {
  diagnostics: Diagnostic[];
  /** Every linted file. */
  files: readonly string[];
  /** Directive comments by file. */
  comments(file: string): readonly CommentFact[];
  source(file: string): string;
  /** Codes that ran (and were enabled) for the file: only those can be judged unused. */
  enabled(file: string): ReadonlySet<string>;
  /**
   * Rules about the directives themselves (MPS100, rules/unused-suppression.ts): run on each
   * file where they are enabled, with each directive and the codes it silenced. Their findings
   * are suppressed like any other, but using no directive (a directive cannot be used by the
   * finding that reports it).
   */
  directiveRules?: readonly Rule[];
}

export interface SuppressResult {
  kept: Diagnostic[];
  suppressed: number;
  /** Findings of the directive rules, after suppression. */
  fromDirectives: Diagnostic[];
  problems: { file: string; message: string }[];
}

export function applySuppressions(input: SuppressInput): SuppressResult {
  const byFile = new Map<string, Diagnostic[]>();
  for (const d of input.diagnostics) {
    let l = byFile.get(d.file);
    if (!l) byFile.set(d.file, (l = []));
    l.push(d);
  }
  // Files with directives but no findings still need checking for unused ones.
  const files = new Set<string>([...input.files, ...byFile.keys()]);
  const kept: Diagnostic[] = [];
  const fromDirectives: Diagnostic[] = [];
  const problems: SuppressResult["problems"] = [];
  let suppressed = 0;
  const visit = (file: string) => {
    const diags = byFile.get(file) ?? [];
    const comments = input.comments(file);
    if (comments.length === 0) {
      kept.push(...diags);
      return;
    }
    const lines = input.source(file).split(/\r\n|\n|\r/);
    const { directives, invalid } = parseDirectives(comments, lines);
    for (const p of invalid) problems.push({ file, message: `line ${p.row + 1}: ${p.message}` });
    const used = new Map<Directive, Set<string>>(directives.map((dir) => [dir, new Set<string>()]));
    const byRow = new Map<number, Directive[]>();
    const fileLevel: Directive[] = [];
    for (const dir of directives) {
      if (dir.kind === "file") fileLevel.push(dir);
      for (const r of dir.rows) {
        let l = byRow.get(r);
        if (!l) byRow.set(r, (l = []));
        l.push(dir);
      }
    }
    const suppressing = (row: number, code: string): Directive[] =>
      [...fileLevel, ...(byRow.get(row) ?? [])].filter((dir) => dir.codes === null || dir.codes.includes(code));
    for (const d of diags) {
      const hits = suppressing(d.range.start.row, d.code);
      if (hits.length === 0) kept.push(d);
      else {
        suppressed++;
        for (const h of hits) used.get(h)!.add(d.code);
      }
    }
    const enabled = input.enabled(file);
    for (const rule of input.directiveRules ?? []) {
      if (!rule.checkDirectives || !enabled.has(rule.meta.code)) continue;
      const found: Diagnostic[] = [];
      try {
        rule.checkDirectives({
          file,
          directives: directives.map((directive) => ({ directive, suppressed: used.get(directive)! })),
          enabled,
          report: (r) => found.push(toDiagnostic(rule, file, r)),
        });
      } catch (e) {
        problems.push({ file, message: `internal error in ${rule.meta.code} (${rule.meta.name}): ${e instanceof Error ? e.message : String(e)}; its findings in this file may be incomplete` });
      }
      for (const d of found) {
        // A bare `# noqa` on the line is there for the finding on that line (or another
        // linter): only file-level directives and directives naming the code silence these.
        const silenced = [...fileLevel, ...(byRow.get(d.range.start.row) ?? [])].some(
          (o) => (o.codes === null ? o.kind === "file" && !(o.row === d.range.start.row && o.column === d.range.start.column) : o.codes.includes(d.code)),
        );
        if (silenced) suppressed++;
        else fromDirectives.push(d);
      }
    }
  };
  for (const f of files) visit(f);
  return { kept, suppressed, fromDirectives, problems };
}
