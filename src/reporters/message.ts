// A finding's text, rendered for the reader from its rule's template (meta.messages[messageId])
// and data (ESLint's model). Rules report locations as data, never as text; here they become
//   "line 12"                     a line of the finding's own file
//   "pkg/handler.py:387"          a line of another file, relative to the working folder
//   "cell 3, line 2"              a line of the finding's own notebook
//   "nb/demo.ipynb (cell 3, line 2)"  a line of another notebook
// and `{{witness}}` is the finding's path (spawn site first) in the same terms:
//   "reached from Thread(target=worker) at line 40 via worker -> finish (pkg/util.py:12)".

import { RULES } from "../../rules/index.js";
import type { CellPosition } from "../files/notebook.js";
import type { Rule } from "../engine/rule.js";
import type { Diagnostic, PathStep, SourceLine } from "../types.js";
import { displayPath, escapeControl } from "./paths.js";

export interface MessageContext {
  /** Paths are shown relative to this folder. */
  cwd: string;
  /** A notebook's map from rows of its Python text to cells; undefined for other files. */
  cellsOf?(file: string): readonly CellPosition[] | undefined;
  /** Rules whose templates apply (default: every rule). */
  rules?: readonly Rule[];
}

const PLACEHOLDER = /\{\{\s*(\w+)\s*\}\}/g;

const templates = new Map<string, string>();

function templateOf(d: Pick<Diagnostic, "code" | "messageId">, rules: readonly Rule[] | undefined): string | undefined {
  if (rules) {
    const own = rules.find((r) => r.meta.code === d.code)?.meta.messages[d.messageId];
    if (own !== undefined) return own;
  }
  if (templates.size === 0) for (const r of RULES) for (const [id, t] of Object.entries(r.meta.messages)) templates.set(`${r.meta.code}\0${id}`, t);
  return templates.get(`${d.code}\0${d.messageId}`);
}

/** The finding's message text for `ctx`. A placeholder with no data is left as it is (ESLint does the same). */
export function renderMessage(d: Pick<Diagnostic, "code" | "messageId" | "data" | "file" | "path">, ctx: MessageContext): string {
  const template = templateOf(d, ctx.rules) ?? `${d.messageId}`;
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    if (name === "witness" && !Object.hasOwn(d.data, "witness")) return witnessText(d.path, d.file, ctx);
    if (!Object.hasOwn(d.data, name)) return whole;
    const v = d.data[name];
    // Text data can be source text (a callee, a condition): a control byte in it (a string literal
    // holding ESC) is written as an escape, so a finding cannot drive the reader's terminal.
    return typeof v === "object" ? lineText(v, d.file, ctx) : escapeControl(String(v));
  });
}

/** A line for a reader of a finding in `here`: see the header. */
export function lineText(at: SourceLine, here: string, ctx: MessageContext): string {
  const cell = ctx.cellsOf?.(at.file)?.[at.row];
  const inFile = cell ? `cell ${cell.cell}, line ${cell.row + 1}` : `line ${at.row + 1}`;
  if (at.file === here) return inFile;
  const name = escapeControl(displayPath(at.file, ctx.cwd));
  return cell ? `${name} (${inFile})` : `${name}:${at.row + 1}`;
}

/** "reached from <spawn> at <where> via a -> b (<where>)": a hop's place is named where the path changes file. */
export function witnessText(steps: readonly PathStep[], here: string, ctx: MessageContext): string {
  if (steps.length === 0) return "";
  const [spawn, ...hops] = steps;
  const where = (s: PathStep) => lineText({ file: s.file, row: s.range.start.row }, here, ctx);
  const label = (s: PathStep) => escapeControl(s.label);
  const chain = hops.map((h, i) => (h.file !== (i > 0 ? hops[i - 1] : spawn).file ? `${label(h)} (${where(h)})` : label(h)));
  return `reached from ${label(spawn)} at ${where(spawn)}${chain.length > 0 ? ` via ${chain.join(" -> ")}` : ""}`;
}
