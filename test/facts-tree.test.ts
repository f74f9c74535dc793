// The tree mirror (src/facts/tree.ts) against the parser's own node API: every node the mirror
// keeps gives the binding's answers, on code with the anonymous nodes that have children
// ("is not", "not in") and on a real standard-library module.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { mirrorTree, type PyNode, type Token } from "../src/facts/tree.js";
import { parsePython, pythonNodeTypes, type SyntaxNode } from "../src/facts/parse.js";

/** Mismatches between the mirror and the binding, as "path: what" lines (empty when they agree). */
function compare(text: string): string[] {
  const tree = parsePython(text);
  const out: string[] = [];
  const walk = (m: PyNode | Token, s: SyntaxNode, where: string): void => {
    if (m.type !== s.type) out.push(`${where}: type ${m.type} vs ${s.type}`);
    if (!("children" in m)) {
      // A shared token: a leaf, keyword or punctuation.
      if (s.childCount !== 0) out.push(`${where}: token ${m.type} has ${s.childCount} children`);
      return;
    }
    const node = m as PyNode;
    if (node.startIndex !== s.startIndex || node.endIndex !== s.endIndex) out.push(`${where}: span`);
    const mk = node.children;
    const sk = s.children;
    if (mk.length !== sk.length) {
      out.push(`${where}: ${mk.length} children vs ${sk.length}`);
      return;
    }
    for (let k = 0; k < mk.length; k++) walk(mk[k], sk[k], `${where}/${k}`);
  };
  walk(mirrorTree(tree, text), tree.rootNode, "");
  return out;
}

describe("tree mirror", () => {
  it("knows from the grammar which anonymous nodes have children", () => {
    expect([...(pythonNodeTypes().anonymousParents ?? [])].sort()).toEqual(["is not", "not in"]);
  });

  it("keeps the keywords inside `is not` and `not in`", () => {
    const text = "if a is not b and c not in d or e is f:\n    x = [i for i in y if i not in z]\n";
    expect(compare(text)).toEqual([]);
    const root = mirrorTree(parsePython(text), text);
    const ops: string[] = [];
    const visit = (n: PyNode): void => {
      for (const c of n.children) {
        if ("children" in c) visit(c as PyNode);
        if (c.type === "is not" || c.type === "not in") ops.push(`${c.type}:${(c as PyNode).children.map((k) => k.type).join(",")}`);
      }
    };
    visit(root);
    expect(ops).toEqual(["is not:is,not", "not in:not,in", "not in:not,in"]);
  });

  it("agrees with the binding on a real module", () => {
    const text = readFileSync("/usr/lib/python3.11/typing.py", "utf8");
    expect(compare(text)).toEqual([]);
  });
});
