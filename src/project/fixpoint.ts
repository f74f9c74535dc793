// One generic fixpoint for function summaries (Pysa's fixpointAnalysis, in small).
//
// A summary is a value of a lattice ({bottom, join, equal}) computed for a node (a function) by a
// transfer function from the summaries of its successors (its callees). Nodes are solved
// bottom-up over strongly connected components of the successor graph: a component's successors
// outside it are solved first; inside it every member starts at bottom and is recomputed until no
// summary changes. No depth limit, no provisional answer kept: the answer for a node does not
// depend on which node was asked about first.
//
// The graph is explored on demand from the node asked about (successors may load modules), with
// an iterative Tarjan walk so that deep call chains cannot overflow the stack.

export interface Lattice<T> {
  readonly bottom: T;
  join(a: T, b: T): T;
  equal(a: T, b: T): boolean;
}

export interface SummarySpec<K, T> extends Lattice<T> {
  /** A stable identity for a node. */
  key(node: K): string;
  /** The nodes whose summaries `transfer` may read (callees). */
  successors(node: K): readonly K[];
  /**
   * The node's summary from its successors' current summaries. Must be monotone in what `get`
   * returns. `get` of a node that is not a successor solves it first.
   */
  transfer(node: K, get: (successor: K) => T): T;
}

/** Iterations of one component before giving up on a non-monotone transfer (a bug, not data). */
const MAX_ROUNDS = 10_000;

export class Summaries<K, T> {
  private readonly solved = new Map<string, T>();
  /** Current approximation of nodes in the component being iterated. */
  private readonly working = new Map<string, T>();
  private solving = false;

  constructor(private readonly spec: SummarySpec<K, T>) {}

  /** The summary of a node, solving what it depends on first. */
  get(node: K): T {
    const key = this.spec.key(node);
    const done = this.solved.get(key);
    if (done !== undefined) return done;
    const current = this.working.get(key);
    if (current !== undefined) return current;
    if (this.solving) {
      // A transfer asked for a node outside its successors: solve it on its own.
      return this.solveNested(node);
    }
    this.solving = true;
    try {
      this.solveFrom(node);
    } finally {
      this.solving = false;
    }
    return this.solved.get(key) as T;
  }

  /** Number of nodes solved so far (for stats and tests). */
  get size(): number {
    return this.solved.size;
  }

  private solveNested(node: K): T {
    const saved = this.solving;
    this.solving = true;
    try {
      this.solveFrom(node);
    } finally {
      this.solving = saved;
    }
    const key = this.spec.key(node);
    return this.solved.get(key) ?? this.working.get(key) ?? this.spec.bottom;
  }

  /** Iterative Tarjan from `root` over unsolved nodes; each finished component is iterated. */
  private solveFrom(root: K): void {
    const spec = this.spec;
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const onStack = new Set<string>();
    const stack: Member<K>[] = [];
    let counter = 0;
    type Frame = { key: string; node: K; succ: readonly K[]; i: number };
    const frames: Frame[] = [];

    const enter = (node: K, key: string): void => {
      index.set(key, counter);
      low.set(key, counter);
      counter++;
      const succ = spec.successors(node);
      stack.push({ key, node, succ });
      onStack.add(key);
      frames.push({ key, node, succ, i: 0 });
    };

    const rootKey = spec.key(root);
    if (this.solved.has(rootKey) || this.working.has(rootKey)) return;
    enter(root, rootKey);
    while (frames.length > 0) {
      const f = frames[frames.length - 1];
      if (f.i < f.succ.length) {
        const s = f.succ[f.i++];
        const sk = spec.key(s);
        if (this.solved.has(sk) || this.working.has(sk)) continue;
        if (!index.has(sk)) {
          enter(s, sk);
        } else if (onStack.has(sk)) {
          low.set(f.key, Math.min(low.get(f.key)!, index.get(sk)!));
        }
        continue;
      }
      frames.pop();
      if (frames.length > 0) {
        const parent = frames[frames.length - 1];
        low.set(parent.key, Math.min(low.get(parent.key)!, low.get(f.key)!));
      }
      if (low.get(f.key) === index.get(f.key)) {
        const component: Member<K>[] = [];
        for (;;) {
          const top = stack.pop()!;
          onStack.delete(top.key);
          component.push(top);
          if (top.key === f.key) break;
        }
        this.iterate(component.reverse());
      }
    }
  }

  private iterate(component: Member<K>[]): void {
    const spec = this.spec;
    for (const c of component) this.working.set(c.key, spec.bottom);
    const get = (n: K): T => this.get(n);
    for (let round = 0; ; round++) {
      let changed = false;
      for (const c of component) {
        const before = this.working.get(c.key) as T;
        const after = spec.join(before, spec.transfer(c.node, get));
        if (!spec.equal(before, after)) {
          this.working.set(c.key, after);
          changed = true;
        }
      }
      // A single node that does not call itself needs one round.
      if (!changed || (component.length === 1 && round === 0 && !selfLoop(component[0], spec))) break;
      if (round >= MAX_ROUNDS) break;
    }
    for (const c of component) {
      this.solved.set(c.key, this.working.get(c.key) as T);
      this.working.delete(c.key);
    }
  }

}

interface Member<K> {
  key: string;
  node: K;
  succ: readonly K[];
}

function selfLoop<K, T>(c: Member<K>, spec: SummarySpec<K, T>): boolean {
  return c.succ.some((s) => spec.key(s) === c.key);
}

/** The boolean "may" lattice: false until some path makes it true. */
export const MAY: Lattice<boolean> = { bottom: false, join: (a, b) => a || b, equal: (a, b) => a === b };

/** Define a summary over a lattice in one expression. */
export function summary<K, T>(spec: SummarySpec<K, T>): Summaries<K, T> {
  return new Summaries(spec);
}
