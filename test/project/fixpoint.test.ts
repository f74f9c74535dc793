import { describe, expect, it } from "vitest";
import { MAY, summary } from "../../src/project/fixpoint.js";

// A graph as adjacency lists; `marked` nodes are where the property holds directly.
function reaches(graph: Record<string, string[]>, marked: Set<string>) {
  let transfers = 0;
  const s = summary<string, boolean>({
    ...MAY,
    key: (n) => n,
    successors: (n) => graph[n] ?? [],
    transfer: (n, get) => {
      transfers++;
      return marked.has(n) || (graph[n] ?? []).some((m) => get(m));
    },
  });
  return { s, transfers: () => transfers };
}

describe("fixpoint summaries", () => {
  it("propagates through a cycle whatever node is asked first", () => {
    // a -> b -> a, b -> c (marked). Both orders of asking give the same answers.
    const graph = { a: ["b"], b: ["a", "c"], c: [] };
    for (const order of [["a", "b"], ["b", "a"]]) {
      const { s } = reaches(graph, new Set(["c"]));
      const answers = order.map((n) => [n, s.get(n)]);
      expect(Object.fromEntries(answers)).toEqual({ a: true, b: true });
    }
  });

  it("keeps no provisional false inside a cycle", () => {
    // The old memoized recursion cached `a = false` while exploring a -> b -> a and returned it
    // later; here a, b and d all reach the marked node e.
    const graph = { a: ["b"], b: ["a", "d"], d: ["e"], e: [] };
    const { s } = reaches(graph, new Set(["e"]));
    expect(s.get("b")).toBe(true);
    expect(s.get("a")).toBe(true);
    expect(s.get("d")).toBe(true);
  });

  it("answers false where nothing is reached, and solves each node once outside cycles", () => {
    const graph: Record<string, string[]> = { a: ["b", "c"], b: ["c"], c: [] };
    const { s, transfers } = reaches(graph, new Set());
    expect(s.get("a")).toBe(false);
    expect(transfers()).toBe(3);
    expect(s.get("b")).toBe(false);
    expect(transfers()).toBe(3);
  });

  it("handles a call chain far deeper than any recursion limit", () => {
    const n = 50_000;
    const graph: Record<string, string[]> = {};
    for (let i = 0; i < n; i++) graph[`f${i}`] = i + 1 < n ? [`f${i + 1}`] : [];
    const { s } = reaches(graph, new Set([`f${n - 1}`]));
    expect(s.get("f0")).toBe(true);
  });

  it("joins set-valued summaries over a cycle until stable", () => {
    // Each node contributes its own name; members of one cycle end with the union.
    const graph: Record<string, string[]> = { a: ["b"], b: ["c"], c: ["a", "d"], d: [] };
    const s = summary<string, ReadonlySet<string>>({
      bottom: new Set(),
      join: (x, y) => new Set([...x, ...y]),
      equal: (x, y) => x.size === y.size && [...x].every((v) => y.has(v)),
      key: (k) => k,
      successors: (k) => graph[k],
      transfer: (k, get) => new Set([k, ...graph[k].flatMap((m) => [...get(m)])]),
    });
    expect([...s.get("b")].sort()).toEqual(["a", "b", "c", "d"]);
    expect([...s.get("d")]).toEqual(["d"]);
  });
});
