// MPS001's fix (see docs/fixes.md): the device-wide sync replaced, where it stands, by a
// per-thread event sync, `_mps_lint_event_sync(torch.cuda)`, with the helper added once per module.
// Whether a sync is deliberate (and gets no fix) is the rule's decision, in device-sync-in-thread.ts.

import type { RuleContext } from "../src/engine/rule.js";
import type { SyntaxNode } from "../src/facts/parse.js";
import type { Fix, Range, TextEdit } from "../src/types.js";
import { callStatement, edit, ensureImport, ensureModuleBlocks, fix, inFinally, layoutOf, nodeAt, syntaxOf, type Syntax } from "./support/edit-kit.js";
import { EVENT_SYNC, OUR_HELPERS, PER_THREAD_BACKENDS, eventSyncBlocks } from "./support/per-thread-event.js";

/** The backend module expression of a sync call `torch.cuda.synchronize(...)`: `torch.cuda`, or null. */
function backendModuleText(call: SyntaxNode): string | null {
  const fn = call.childForFieldName("function");
  if (!fn || fn.type !== "attribute" || fn.childForFieldName("attribute")?.text !== "synchronize") return null;
  const obj = fn.childForFieldName("object");
  // A plain dotted name (`torch.cuda`, `T.mps`, `cuda`): evaluating it again has no effect.
  if (!obj || !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(obj.text)) return null;
  return obj.text;
}

/** The sync call's device argument (`torch.cuda.synchronize(dev)`), "" for none, null when not understood. */
function deviceArgText(call: SyntaxNode): string | null {
  const args = call.childForFieldName("arguments");
  if (!args) return "";
  const named = args.namedChildren.filter((n) => n.type !== "comment");
  if (named.length === 0) return "";
  if (named.length > 1) return null;
  const a = named[0];
  if (a.type === "keyword_argument") return a.childForFieldName("name")?.text === "device" ? a.childForFieldName("value")?.text ?? null : null;
  if (a.type === "list_splat" || a.type === "dictionary_splat") return null;
  return a.text;
}

/**
 * A per-thread event sync in place of the device-wide sync `call` (the guide's Pattern 2):
 * `_mps_lint_event_sync(torch.cuda[, device])`, with the helper added once per module.
 */
function eventSyncEdits(syn: Syntax, call: SyntaxNode): TextEdit[] | null {
  const backendText = backendModuleText(call);
  const device = deviceArgText(call);
  if (!backendText || device === null) return null;
  const layout = layoutOf(syn);
  const threading = ensureImport(syn, layout, "threading");
  const edits: TextEdit[] = [...threading.edits, ...ensureModuleBlocks(syn, layout, eventSyncBlocks(syn.indentUnit, threading.name), OUR_HELPERS)];
  edits.push(edit(syn, call.startIndex, call.endIndex, `${EVENT_SYNC}(${backendText}${device ? `, ${device}` : ""})`));
  return edits;
}

/** MPS001: the device-wide sync call at `range` replaced by a per-thread event sync, in place. */
export function deviceSyncFix(ctx: RuleContext, range: Range, backend: string): Fix | null {
  const syn = syntaxOf(ctx);
  if (!syn || !PER_THREAD_BACKENDS.has(backend)) return null;
  const call = nodeAt(syn, range, "call");
  if (!call || !callStatement(call) || inFinally(call)) return null;
  const edits = eventSyncEdits(syn, call);
  if (!edits) return null;
  const module = backendModuleText(call)!;
  return fix("unsafe", `Wait for this thread's work only (per-thread event sync): \`${EVENT_SYNC}(${module})\` (one \`${module}.Event\` per thread and device, recorded on the thread's stream)`, edits);
}
