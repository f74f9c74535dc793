// --add-noqa: put `# noqa: CODE` on the line of every current finding, for adopting mps-lint on
// a codebase with findings. Existing comments stay; codes merge into an existing `# noqa: ...`;
// a line with a bare `# noqa` is left alone. Each edited file is parsed again before it is
// written: a line where the comment would not be a comment (a continuation backslash, the
// inside of a string) is left unchanged and reported. Files are replaced atomically with their
// line endings, BOM and mode kept.

import { readFileSync } from "node:fs";
import { extractFacts } from "../facts/extract.js";
import { parseDirectives, type Directive } from "./suppress.js";
import { decodePython } from "../files/source.js";
import type { Diagnostic } from "../types.js";
import { writeFileAtomic } from "../files/write.js";

export interface AddNoqaResult {
  added: number;
  files: number;
  skipped: { file: string; row: number; reason: string }[];
}

const NOQA_CODES = /^(#\s*noqa\s*:\s*)([A-Za-z]+[0-9]+(?:[\s,]+[A-Za-z]+[0-9]+)*)/i;

function splitLines(text: string): { body: string; eol: string }[] {
  const parts = text.split(/(?<=\r\n|\n|\r(?!\n))/);
  return parts.filter((p) => p !== "").map((p) => {
    const m = /(\r\n|\n|\r)$/.exec(p);
    return m ? { body: p.slice(0, -m[1].length), eol: m[1] } : { body: p, eol: "" };
  });
}

/** One line with the codes added, or null when it needs no change. */
function editLine(body: string, noqa: readonly Directive[], codes: string[], reason: string): string | null {
  if (noqa.some((d) => d.codes === null)) return null; // a bare # noqa covers everything
  const existing = noqa.find((d) => d.codes !== null);
  if (existing) {
    const missing = codes.filter((c) => !existing.codes!.includes(c));
    if (missing.length === 0) return null;
    const tail = body.slice(existing.column);
    const m = NOQA_CODES.exec(tail);
    if (!m) return null;
    const merged = [...new Set([...existing.codes!, ...codes])].sort();
    return body.slice(0, existing.column) + m[1] + merged.join(", ") + tail.slice(m[0].length);
  }
  return `${body.replace(/[ \t]+$/, "")}  # noqa: ${[...codes].sort().join(", ")}${reason ? ` ${reason}` : ""}`;
}

function covered(text: string, file: string, rows: Map<number, string[]>): { ok: Set<number>; syntaxErrors: number } {
  const facts = extractFacts(file, text);
  const { directives } = parseDirectives(facts.comments, text.split(/\r\n|\n|\r/));
  const ok = new Set<number>();
  for (const [row, codes] of rows) {
    const here = directives.filter((d) => d.kind === "noqa" && d.rows.includes(row));
    if (codes.every((c) => here.some((d) => d.codes === null || d.codes.includes(c)))) ok.add(row);
  }
  return { ok, syntaxErrors: facts.syntaxErrors.length };
}

/** `reason` (--add-noqa=REASON, one line) is written after the codes of each new comment, as Ruff does. */
export function addNoqa(diagnostics: readonly Diagnostic[], reason = ""): AddNoqaResult {
  reason = reason.replace(/[\r\n]+/g, " ").trim();
  const byFile = new Map<string, Map<number, string[]>>();
  for (const d of diagnostics) {
    let rows = byFile.get(d.file);
    if (!rows) byFile.set(d.file, (rows = new Map()));
    const l = rows.get(d.range.start.row) ?? [];
    if (!l.includes(d.code)) l.push(d.code);
    rows.set(d.range.start.row, l);
  }
  const result: AddNoqaResult = { added: 0, files: 0, skipped: [] };
  for (const [file, rows] of byFile) {
    const bytes = readFileSync(file);
    const src = decodePython(bytes);
    if (src.encoding !== "utf-8" || src.warning) {
      for (const row of rows.keys()) result.skipped.push({ file, row, reason: `file is not UTF-8 (${src.warning ?? src.encoding}); add # noqa by hand` });
      continue;
    }
    const lines = splitLines(src.text);
    const facts = extractFacts(file, src.text);
    const before = facts.syntaxErrors.length;
    const present = parseDirectives(facts.comments, src.text.split(/\r\n|\n|\r/)).directives.filter((d) => d.kind === "noqa");
    const build = (allowed: Set<number>) => {
      const out = lines.map((l) => ({ ...l }));
      const edited = new Map<number, string[]>();
      for (const [row, codes] of rows) {
        if (!allowed.has(row) || row >= out.length) continue;
        const next = editLine(out[row].body, present.filter((d) => d.row === row), codes, reason);
        if (next !== null) {
          out[row].body = next;
          edited.set(row, codes);
        }
      }
      return { text: out.map((l) => l.body + l.eol).join(""), edited };
    };
    // Each line on its own first: a comment after a continuation backslash, or inside a string,
    // is not a noqa comment (or breaks the parse); such lines are left for the user.
    const allowed = new Set<number>();
    for (const row of rows.keys()) {
      const one = build(new Set([row]));
      if (one.edited.size === 0) continue;
      const check = covered(one.text, file, one.edited);
      if (check.ok.has(row) && check.syntaxErrors <= before) allowed.add(row);
      else result.skipped.push({ file, row, reason: "a comment cannot go at the end of this line (line continuation or string); add # noqa by hand" });
    }
    const attempt = build(allowed);
    const check = covered(attempt.text, file, attempt.edited);
    if (check.syntaxErrors > before || [...attempt.edited.keys()].some((r) => !check.ok.has(r))) {
      for (const r of allowed) result.skipped.push({ file, row: r, reason: "editing would break the file; add # noqa by hand" });
      continue;
    }
    if (attempt.edited.size === 0) continue;
    const bom = src.hadBom ? "\uFEFF" : "";
    writeFileAtomic(file, bom + attempt.text);
    result.added += attempt.edited.size;
    result.files++;
  }
  return result;
}
