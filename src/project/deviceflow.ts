// Device work inside one function, in source order: which local values come from the device,
// where the last device work happens, where the function waits for it, and where it hands a
// value over (return, queue.put, future.set_result, append to a shared container).
//
// "Device work" is recognized from what the code says, never from a guess about an unknown
// call: torch ops given device tensors or a device=..., .to("mps")/.cuda(), tensor methods of
// device values, nn.Module instances of the project, project functions that return device
// values. One convention is trusted when the file names an accelerator: calling something
// named like a model (`model(x)`, `self.net(x)`, `encoder.generate(...)`) runs on the device.

import type { Expr, ModuleFacts } from "../facts/model.js";
import type { Summaries } from "./fixpoint.js";
import { MAY } from "./fixpoint.js";
import type { FnRef, ProjectIndex } from "./index.js";
import { fnSummary } from "./summaries.js";
import { IMPLICIT_SYNC_METHODS, isAcceleratorString, isCpuTarget, type SyncInfo } from "./sync.js";
import type { Value } from "./values.js";

const MODEL_NAME = /^(model|net|network|module|encoder|decoder|backbone|pipe|pipeline|llm|generator|classifier|detector|transformer|unet|vae)$|_(model|net|module|encoder|decoder)$|^model_/i;
/**
 * Names like a model that hold something else: a class or factory (`model_cls()`, `Model(...)`
 * constructs), a name, path or configuration.
 */
const NOT_A_MODEL = /^[A-Z][a-z0-9]|_(cls|class|type|name|names|path|paths|dir|file|id|url|config|cfg|args|kwargs|kind|size)$/;
const MODEL_METHODS = new Set(["forward", "generate", "__call__", "predict", "infer", "encode", "decode", "sample"]);
/** torch namespaces and functions that do not queue device work. */
const NOT_DEVICE_WORK = /^torch\.(mps|cuda|xpu|accelerator|backends|distributed|utils|jit|autograd\.grad_mode|nn\.init|random)\b|^torch\.(no_grad|inference_mode|enable_grad|device|manual_seed|set_grad_enabled|set_num_threads|get_num_threads|is_tensor|Event|Stream|dtype|compile|load|save|from_numpy|get_device_module)$/;
/** Tensor methods that read metadata on the host: no device work, and the result is not on the device. */
export const METADATA_METHODS = new Set([
  "size", "dim", "numel", "nelement", "stride", "element_size", "is_contiguous", "is_floating_point",
  "get_device", "data_ptr", "storage_offset", "ndimension", "type", "is_complex", "is_pinned",
]);
const HOST_ATTRS = new Set(["shape", "dtype", "device", "ndim", "is_cuda", "is_mps", "layout", "requires_grad"]);
const PUBLISH_METHODS = new Set(["put", "put_nowait", "set_result", "append", "appendleft", "extend", "send"]);

/** What classifying an expression in a function needs: the function, its device locals so far, and whether its file names an accelerator. */
export interface FlowCtx {
  fn: FnRef;
  deviceVars: Set<string>;
  accel: boolean;
}

export interface Publish {
  kind: "return" | "publish";
  end: number;
  /** Call id of the publishing call (kind "publish"), or the return index. */
  at: number;
  what: string;
  /** Offset of the last device work before it, and of the last sync before it. */
  lastWork: number;
  lastSync: number;
}

export class DeviceFlow {
  /**
   * Does a project function return a device value. Its transfer reads the callees' summaries
   * (through isDeviceWork) and, for closure variables, the bindings of the functions around it.
   */
  private readonly returns: Summaries<FnRef, boolean>;

  constructor(
    private readonly index: ProjectIndex,
    private readonly sync: SyncInfo,
  ) {
    this.returns = fnSummary(index, {
      ...MAY,
      transfer: (fn) => this.analyze(fn).returnsDevice,
      alsoReads: (fn) => [...this.calledValues(fn), ...this.enclosingFunctions(fn)],
    });
  }

  /** Project functions the callee expressions of `fn`'s calls evaluate to (read by isDeviceWork). */
  private calledValues(fn: FnRef): FnRef[] {
    const out: FnRef[] = [];
    for (const call of this.index.callsIn(fn)) {
      for (const v of this.index.eval(fn.m, this.index.call(fn.m, call).fn)) if (v.k === "fn" || v.k === "bound") out.push({ m: v.m, s: v.s });
    }
    return out;
  }

  /** The functions `fn` is nested in (their bindings are its closure variables). */
  private enclosingFunctions(fn: FnRef): FnRef[] {
    const scopes = this.facts(fn.m).scopes;
    const out: FnRef[] = [];
    for (let s = scopes[fn.s].parent; s > 0; s = scopes[s].parent) if (scopes[s].kind === "function") out.push({ m: fn.m, s });
    return out;
  }

  private facts(m: number): ModuleFacts {
    return this.index.modules[m];
  }

  /** Does a project function return a device value (used to see through helpers). */
  returnsDevice(fn: FnRef): boolean {
    return this.returns.get(fn);
  }

  /** Walk the function's bindings, calls and returns in order of evaluation. */
  analyze(fn: FnRef): { publishes: Publish[]; returnsDevice: boolean; hasDeviceWork: boolean } {
    const idx = this.index;
    const scope = idx.scope(fn);
    const mod = this.facts(fn.m);
    type Item =
      | { k: "bind"; end: number; name: string; value: Expr }
      | { k: "call"; end: number; id: number }
      | { k: "ret"; end: number; i: number; value: Expr };
    const items: Item[] = [];
    for (const b of scope.bindings) items.push({ k: "bind", end: b.end, name: b.name, value: b.value });
    for (const id of idx.callsIn(fn)) items.push({ k: "call", end: mod.calls[id].end, id });
    scope.returns.forEach((r, i) => items.push({ k: "ret", end: r.end, i, value: r.value }));
    items.sort((a, b) => a.end - b.end || (a.k === "bind" ? 1 : 0) - (b.k === "bind" ? 1 : 0));

    const deviceVars = new Set<string>();
    let lastWork = -1;
    let lastSync = -1;
    let returnsDevice = false;
    let hasDeviceWork = false;
    const publishes: Publish[] = [];
    const ctx: FlowCtx = { fn, deviceVars, accel: mod.mentionsAccelerator };

    for (const it of items) {
      if (it.k === "bind") {
        if (this.isDevice(it.value, ctx)) {
          deviceVars.add(it.name);
          lastWork = Math.max(lastWork, it.end);
        } else deviceVars.delete(it.name);
      } else if (it.k === "call") {
        const c = mod.calls[it.id];
        if (this.sync.isAnySync(fn.m, it.id) || idx.calleesOf(fn.m, it.id).some((t) => this.sync.functionSyncs(t))) {
          lastSync = it.end;
        } else if (this.isDeviceWork(it.id, ctx)) {
          lastWork = it.end;
          hasDeviceWork = true;
        }
        if (c.fn.t === "attr" && PUBLISH_METHODS.has(c.fn.attr)) {
          const arg = c.args[c.fn.attr === "set_result" ? 0 : c.args.length - 1];
          const receiverIsLocal = c.fn.obj.t === "name" && c.fn.obj.scope === fn.s;
          const shared = c.fn.attr === "put" || c.fn.attr === "put_nowait" || c.fn.attr === "set_result" || !receiverIsLocal;
          if (arg && shared && this.isDevice(arg, ctx)) {
            publishes.push({ kind: "publish", end: it.end, at: it.id, what: `${c.callee}()`, lastWork, lastSync });
          }
        }
      } else {
        if (this.isDevice(it.value, ctx)) {
          returnsDevice = true;
          publishes.push({ kind: "return", end: it.end, at: it.i, what: "return", lastWork, lastSync });
        }
      }
    }
    if (lastWork >= 0) hasDeviceWork = true;
    return { publishes, returnsDevice, hasDeviceWork };
  }

  private isDevice(e: Expr, ctx: FlowCtx): boolean {
    switch (e.t) {
      case "name":
        if (e.scope === ctx.fn.s) return ctx.deviceVars.has(e.name);
        return this.closureDevice(ctx.fn.m, e.scope, e.name);
      case "call":
        return this.isDeviceWork(e.id, ctx) && !this.isHostCopy(ctx.fn.m, e.id);
      case "op":
        return e.args.some((a) => this.isDevice(a, ctx));
      case "seq":
        return e.items.some((a) => this.isDevice(a, ctx));
      case "item":
        return this.isDevice(e.of, ctx);
      case "attr":
        // x.shape, x.dtype, x.device are host metadata; other attributes (out.logits) stay on the device.
        return !HOST_ATTRS.has(e.attr) && this.isDevice(e.obj, ctx);
      case "await":
        return this.isDevice(e.of, ctx);
      default:
        return false;
    }
  }

  /**
   * A name a nested function reads from the function around it (a closure): a device value when
   * every binding of it there is one (`weight = torch.randn(..., device="mps")`). Not cached: the
   * answer reads summaries that may still be iterating (the enclosing function is a successor).
   */
  private closureDevice(m: number, s: number, name: string): boolean {
    if (s <= 0) return false;
    const sc = this.facts(m).scopes[s];
    if (sc.kind !== "function") return false;
    const bindings = sc.bindings.filter((b) => b.name === name);
    if (bindings.length === 0 || sc.params.some((p) => p.replace(/^\*+/, "") === name)) return false;
    const ctx: FlowCtx = { fn: { m, s }, deviceVars: new Set<string>(), accel: this.facts(m).mentionsAccelerator };
    return bindings.every((b) => b.value.t === "call" && this.isDevice(b.value, ctx));
  }

  private isHostCopy(m: number, id: number): boolean {
    const c = this.index.call(m, id);
    if (c.fn.t !== "attr") return false;
    return IMPLICIT_SYNC_METHODS.has(c.fn.attr) || (c.fn.attr === "to" && isCpuTarget(c.args[0] ?? c.kwargs.device));
  }

  private isModelish(e: Expr): boolean {
    if (e.t === "name") return MODEL_NAME.test(e.name) && !NOT_A_MODEL.test(e.name);
    if (e.t === "attr") return (MODEL_NAME.test(e.attr) && !NOT_A_MODEL.test(e.attr)) || (MODEL_METHODS.has(e.attr) && this.isModelish(e.obj));
    return false;
  }

  /**
   * The naming convention is for callees whose value is unknown (a parameter, `self.model`).
   * A callee that resolves to a project function or class, or to a library function or class
   * reached through an import (`ov.convert_model`, `tf.lite.TFLiteConverter.from_keras_model`),
   * is judged by what it is, not by its name.
   */
  private modelishCall(m: number, fn: Expr): boolean {
    if (this.isModelEntry(fn)) return true;
    if (!this.isModelish(fn)) return false;
    // (Unbound names evaluate to `builtins.<name>`: no evidence either way.)
    const imported = (vals: Value[]) => vals.some((v) => v.k === "module" || (v.k === "ext" && !v.name.startsWith("builtins.")));
    const vals = this.index.eval(m, fn);
    if (vals.some((v) => v.k === "fn" || v.k === "bound" || v.k === "class")) return false;
    return !(imported(vals) || (fn.t === "attr" && imported(this.index.eval(m, fn.obj))));
  }

  /** `self.model.forward(...)`, `encoder.generate(...)`: an entry point of something named like a model. */
  private isModelEntry(fn: Expr): boolean {
    return fn.t === "attr" && MODEL_METHODS.has(fn.attr) && this.isModelish(fn.obj);
  }

  /**
   * Does calling `fn` run a model on the device by convention, whatever project code it resolves
   * to: a model's entry point (`self.model.forward(...)` in a file that names an accelerator), or
   * the forward of a project nn.Module subclass.
   */
  isModelCall(m: number, fn: Expr, accel: boolean): boolean {
    if (accel && this.isModelEntry(fn)) return true;
    const idx = this.index;
    return idx.eval(m, fn).some((v) => {
      if (v.k !== "bound" || !accel) return false;
      const sc = idx.modules[v.m].scopes[v.s];
      if (sc.name !== "forward" && sc.name !== "__call__") return false;
      return sc.parent >= 0 && idx.modules[v.m].scopes[sc.parent].kind === "class" && idx.extBases({ m: v.m, s: sc.parent }).some((b) => b.startsWith("torch.nn."));
    });
  }

  /** Does this call queue work on the device. */
  isDeviceWork(id: number, ctx: FlowCtx): boolean {
    const idx = this.index;
    const m = ctx.fn.m;
    const c = idx.call(m, id);
    const anyArgDevice = () =>
      c.args.some((a) => this.isDevice(a, ctx)) || Object.values(c.kwargs).some((a) => this.isDevice(a, ctx));
    if (c.fn.t === "attr") {
      const method = c.fn.attr;
      if (this.isHostCopy(m, id) || METADATA_METHODS.has(method)) return false;
      if (method === "cuda") return true;
      if (method === "to") {
        const target = c.args[0] ?? c.kwargs.device;
        if (isAcceleratorString(target)) return true;
        if (target && target.t !== "str" && ctx.accel) return this.isDevice(c.fn.obj, ctx) || target.t === "name" || target.t === "attr";
      }
      if (this.isDevice(c.fn.obj, ctx)) return true;
    }
    if (c.fn.t === "name" && c.fn.scope === ctx.fn.s && ctx.deviceVars.has(c.fn.name)) return true;
    for (const v of idx.eval(m, c.fn)) {
      if (v.k === "ext" && v.name.startsWith("torch.") && !NOT_DEVICE_WORK.test(v.name)) {
        const dev = c.kwargs.device;
        if (isAcceleratorString(dev) || anyArgDevice()) return true;
        if (dev && dev.t !== "str" && dev.t !== "const" && ctx.accel) return true;
      }
      if ((v.k === "inst" && idx.extBases(v).some((b) => b.startsWith("torch.nn."))) || (v.k === "extinst" && v.name.startsWith("torch.nn."))) {
        if (ctx.accel) return true;
      }
      if ((v.k === "fn" || v.k === "bound") && this.returnsDevice({ m: v.m, s: v.s })) return true;
    }
    if (ctx.accel && this.modelishCall(m, c.fn)) return true;
    return false;
  }
}
