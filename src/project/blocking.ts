// Calls that block the calling host thread until the device is done: device-wide syncs,
// Event.synchronize() and Stream.synchronize(). Host copies (.item(), .cpu()) block too but
// are the normal way to get a value out and are not reported as syncs here.

import type { Summaries } from "./fixpoint.js";
import type { FnRef } from "./index.js";
import type { CallNode } from "./callgraph.js";
import { nearestNodeSummary, type Nearest } from "./summaries.js";
import { STREAM_SYNC } from "./vocabulary.js";
import type { ProjectCore } from "./core.js";


export interface BlockingWait {
  m: number;
  call: number;
  /** "torch.mps.synchronize()", "event.synchronize()", "stream.synchronize()" */
  what: string;
  kind: "device" | "event" | "stream";
}

/** Is this call itself a blocking wait for the device. */
export function blockingWaitAt(project: ProjectCore, m: number, call: number): BlockingWait | null {
  const c = project.index.call(m, call);
  if (project.sync.deviceSync(m, call)) return { m, call, what: `${c.callee}()`, kind: "device" };
  if (c.fn.t === "attr" && c.fn.attr === "synchronize") {
    if (project.sync.eventReceiver(m, call).length > 0) return { m, call, what: `${c.callee}()`, kind: "event" };
    if (project.index.extNames(m, call).some((n) => STREAM_SYNC.test(n))) return { m, call, what: `${c.callee}()`, kind: "stream" };
  }
  return null;
}

/**
 * The nearest blocking wait a synchronous project function performs, itself or through the
 * project functions it calls (resolved calls only), with the callees walked to reach it.
 * Coroutine functions and generators are not entered: calling one only creates a coroutine
 * (or a generator) and runs none of its body.
 */
export class BlockingWaits {
  private readonly waits: Summaries<CallNode, Nearest<BlockingWait> | null>;

  constructor(project: ProjectCore) {
    const idx = project.index;
    // By call-graph node: a method reached through a known instance runs its class's overrides.
    this.waits = nearestNodeSummary(project.graph, idx, (fn, call) => blockingWaitAt(project, fn.m, call), {
      enter: (t) => {
        const sc = idx.scope(t);
        return !sc.isAsync && !sc.isGenerator;
      },
    });
  }

  /** For a function whose receiver is not known (every override of a `self.x()` call may run). */
  inFunction(fn: FnRef): { wait: BlockingWait; chain: FnRef[] } | null {
    return this.inNode({ fn, self: null });
  }

  /** For a call-graph node: the function with its receiver's class when known. */
  inNode(node: CallNode): { wait: BlockingWait; chain: FnRef[] } | null {
    const found = this.waits.get(node);
    return found ? { wait: found.site, chain: found.chain } : null;
  }
}
