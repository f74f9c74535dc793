// Calls that block the calling host thread until the device is done: device-wide syncs,
// Event.synchronize() and Stream.synchronize(). Host copies (.item(), .cpu()) block too but
// are the normal way to get a value out and are not reported as syncs here.

import { fnKey, type FnRef } from "../../src/project/index.js";
import type { Project } from "../../src/project/project.js";

const STREAM_SYNC = /^torch\.(\w+|<dev>)\.(Stream|current_stream|default_stream)\(\)\.synchronize$|^torch\.Stream\(\)\.synchronize$/;

export interface BlockingWait {
  m: number;
  call: number;
  /** "torch.mps.synchronize()", "event.synchronize()", "stream.synchronize()" */
  what: string;
  kind: "device" | "event" | "stream";
}

/** Is this call itself a blocking wait for the device. */
export function blockingWaitAt(project: Project, m: number, call: number): BlockingWait | null {
  const c = project.index.call(m, call);
  if (project.sync.deviceSync(m, call)) return { m, call, what: `${c.callee}()`, kind: "device" };
  if (c.fn.t === "attr" && c.fn.attr === "synchronize") {
    if (project.sync.eventReceiver(m, call).length > 0) return { m, call, what: `${c.callee}()`, kind: "event" };
    if (project.index.extNames(m, call).some((n) => STREAM_SYNC.test(n))) return { m, call, what: `${c.callee}()`, kind: "stream" };
  }
  return null;
}

/**
 * The first blocking wait a synchronous project function performs, itself or through the
 * project functions it calls (resolved calls only). Coroutine functions are not entered:
 * calling one only creates a coroutine.
 */
export class BlockingWaits {
  private readonly cache = new Map<string, { wait: BlockingWait; chain: FnRef[] } | null>();

  constructor(private readonly project: Project) {}

  inFunction(fn: FnRef, depth = 0): { wait: BlockingWait; chain: FnRef[] } | null {
    const key = fnKey(fn.m, fn.s);
    if (this.cache.has(key)) return this.cache.get(key)!;
    if (depth > 10) return null;
    this.cache.set(key, null);
    const idx = this.project.index;
    let found: { wait: BlockingWait; chain: FnRef[] } | null = null;
    for (const call of idx.callsIn(fn)) {
      const w = blockingWaitAt(this.project, fn.m, call);
      if (w) {
        found = { wait: w, chain: [] };
        break;
      }
      for (const t of idx.calleesOf(fn.m, call)) {
        const sc = idx.scope(t);
        if (sc.isAsync || sc.isGenerator) continue;
        const inner = this.inFunction(t, depth + 1);
        if (inner) {
          found = { wait: inner.wait, chain: [t, ...inner.chain] };
          break;
        }
      }
      if (found) break;
    }
    this.cache.set(key, found);
    return found;
  }
}
