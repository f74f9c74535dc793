// Classification of calls by what they do to the device queue: device-wide syncs, per-event and
// per-stream waits, implicit syncs (copies to the host), Event creation and use.

import type { Summaries } from "./fixpoint.js";
import type { FnRef, ProjectIndex } from "./index.js";
import { reachSummary } from "./summaries.js";
import type { Expr } from "../facts/model.js";
import type { Value } from "./values.js";
import { COMPLETION_CHECKS, DEVICE_SYNCS, EVENT_METHODS, HOST_COPY_METHODS, isCpuTarget } from "./vocabulary.js";

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

  /**
   * Is this call any kind of host wait: device sync, event/stream synchronize, a host copy.
   * `ev.query()` is not one: it returns at once (see isCompletionCheck).
   */
  isAnySync(m: number, call: number): boolean {
    const c = this.index.call(m, call);
    if (c.fn.t === "attr") {
      const a = c.fn.attr;
      if (a === "synchronize") return true;
      if (HOST_COPY_METHODS.has(a)) return true;
      if (a === "to" && this.namesHost(m, c.args[0] ?? c.kwargs.device)) return true;
    }
    return this.deviceSync(m, call) !== null;
  }

  /**
   * Does the expression name the host: `"cpu"`, `torch.device("cpu")`, or a name bound only to
   * one of those (`CPU = torch.device("cpu")` in a constants module, imported). A copy to the
   * host waits for the work that produced the tensor.
   */
  private namesHost(m: number, e: Expr | undefined, depth = 0): boolean {
    if (!e) return false;
    if (isCpuTarget(e)) return true;
    if (depth > 4) return false;
    const idx = this.index;
    if (e.t === "call") {
      const c = idx.call(m, e.id);
      return isCpuTarget(c.args[0] ?? c.kwargs.type) && idx.extNames(m, e.id).includes("torch.device");
    }
    if (e.t !== "name" || e.scope < 0) return false;
    const sc = idx.modules[m].scopes[e.scope];
    if (sc.params.some((p) => p.replace(/^\*+/, "") === e.name)) return false;
    const bindings = sc.bindings.filter((b) => b.name === e.name);
    if (bindings.length === 0) return false;
    return bindings.every((b) => {
      const v = b.value;
      if (v.t !== "import") return this.namesHost(m, v, depth + 1);
      if (v.name === null) return false;
      const pm = idx.importedModule(m, v.level, v.module);
      return pm !== undefined && pm !== m && this.namesHost(pm, { t: "name", name: v.name, scope: 0 }, depth + 1);
    });
  }

  /** `ev.query()`: tells whether the work before it is done, without waiting (MPS007's completion check). */
  isCompletionCheck(m: number, call: number): boolean {
    const c = this.index.call(m, call);
    return c.fn.t === "attr" && COMPLETION_CHECKS.has(c.fn.attr);
  }

  /** Does the function (or anything it calls in the project) wait for the device somewhere. */
  functionSyncs(fn: FnRef): boolean {
    return this.syncs.get(fn);
  }
}
