// Classification of calls by what they do to the device queue: device-wide syncs, per-event and
// per-stream waits, implicit syncs (copies to the host), Event creation and use.

import type { Expr } from "../facts/model.js";
import type { Summaries } from "./fixpoint.js";
import type { FnRef, ProjectIndex } from "./index.js";
import { reachSummary } from "./summaries.js";
import type { Value } from "./values.js";

/** Device-wide synchronize functions and the backend each waits for. */
export const DEVICE_SYNCS: Record<string, string> = {
  "torch.mps.synchronize": "mps",
  "torch.cuda.synchronize": "cuda",
  "torch.xpu.synchronize": "xpu",
  "torch.npu.synchronize": "npu",
  "torch.accelerator.synchronize": "accelerator",
  "torch.<dev>.synchronize": "device",
};

/** Tensor methods that copy to the host and therefore wait for the work that produced them. */
export const IMPLICIT_SYNC_METHODS = new Set(["cpu", "item", "tolist", "numpy"]);

export const EVENT_METHODS = new Set(["record", "synchronize", "wait", "query", "elapsed_time"]);

export class SyncInfo {
  private readonly syncs: Summaries<FnRef, boolean>;

  constructor(private readonly index: ProjectIndex) {
    this.syncs = reachSummary(index, (m, call) => this.isAnySync(m, call));
  }

  /** Backend of a device-wide sync call ("mps", "cuda", ...), or null. */
  deviceSync(m: number, call: number): string | null {
    for (const name of this.index.extNames(m, call)) {
      const b = DEVICE_SYNCS[name];
      if (b) return b;
    }
    return null;
  }

  /** Event values a method call's receiver may be (for ev.record(), ev.synchronize(), ...). */
  eventReceiver(m: number, call: number): Extract<Value, { k: "event" }>[] {
    const c = this.index.call(m, call);
    if (c.fn.t !== "attr" || !EVENT_METHODS.has(c.fn.attr)) return [];
    return this.index.eval(m, c.fn.obj).filter((v): v is Extract<Value, { k: "event" }> => v.k === "event");
  }

  /** Is this call any kind of host wait: device sync, event/stream synchronize, a host copy. */
  isAnySync(m: number, call: number): boolean {
    const c = this.index.call(m, call);
    if (c.fn.t === "attr") {
      const a = c.fn.attr;
      if (a === "synchronize") return true;
      if (IMPLICIT_SYNC_METHODS.has(a)) return true;
      if (a === "to" && isCpuTarget(c.args[0] ?? c.kwargs.device)) return true;
      if (a === "query") return true;
    }
    return this.deviceSync(m, call) !== null;
  }

  /** Does the function (or anything it calls in the project) wait for the device somewhere. */
  functionSyncs(fn: FnRef): boolean {
    return this.syncs.get(fn);
  }
}

export function isCpuTarget(e: Expr | undefined): boolean {
  return !!e && e.t === "str" && /^cpu(:\d+)?$/.test(e.value);
}

/** Accelerator device string ("mps", "cuda:0", "xpu"). */
export function isAcceleratorString(e: Expr | undefined): boolean {
  return !!e && e.t === "str" && /^(mps|cuda|xpu|npu)(:\d+)?$/.test(e.value);
}
