// Device values and device work: which values come from the device, which calls queue work on
// it, and, per project function, whether it returns a device value and whether it queues work.
// The order of work, waits and hand-overs inside a function is the timeline's (timeline.ts).
//
// "Device work" is recognized from what the code says, never from a guess about an unknown
// call: torch ops given device tensors or a device=..., .to("mps")/.cuda(), tensor methods of
// device values, nn.Module instances of the project, project functions that return device
// values. One convention is trusted when the file names an accelerator: calling something
// named like a model (`model(x)`, `self.net(x)`, `encoder.generate(...)`) runs on the device.

import type { Expr, ModuleFacts } from "../facts/model.js";
import type { Summaries } from "./fixpoint.js";
import { bindingsNamed, lastName, paramIndex, type FnRef, type ProjectIndex } from "./index.js";
import { fnSummary } from "./summaries.js";
import type { SyncInfo } from "./sync.js";
import type { Value } from "./values.js";
import {
  GRAPH_CAPTURE,
  GRAPH_REPLAY,
  HOST_COPY_METHODS,
  HOST_RESULT_CALLS,
  isAcceleratorString,
  isCpuTarget,
  isDeviceName,
  METADATA_ATTRS,
  METADATA_METHODS,
  MODEL_METHODS,
  MODEL_NAME,
  NOT_A_MODEL,
  NOT_DEVICE_WORK,
  PUBLISH_METHODS,
  TENSOR_METHODS,
  UPLOAD_FUNCTIONS,
  WRAPPER_FUNCTIONS,
} from "./vocabulary.js";

/** Decorators that make a function a Triton kernel. */
const TRITON_DECORATORS = /^triton\.(jit|autotune|heuristics|runtime\.jit\.jit|runtime\.autotuner\.(autotune|heuristics)|language\.jit)$/;
/** `torch.ops` entries that load libraries or look up namespaces rather than run an operator. */
const TORCH_OPS_HOST = /^torch\.ops\.(load_library|import_module)$|^torch\.ops\.\w+$/;

interface FlowSummary {
  returnsDevice: boolean;
  /** Returns a device value that may still be computing, read strictly (FlowCtx.pending). */
  returnsPending: boolean;
  works: boolean;
}

/** What classifying an expression in a function needs: the function, its device locals so far, and whether its file names an accelerator. */
export interface FlowCtx {
  fn: FnRef;
  deviceVars: Set<string>;
  accel: boolean;
  /**
   * Read values strictly: is this a device value whose work may still be queued, as handing it to
   * another thread asks (MPS002)? A call of a project function then counts by what the function
   * returns, not by whether it queues work, and a library pipeline's or `generate()`'s result is
   * host data or already waited for. Without it the reading is loose: a call that queues work is
   * taken to yield a device value, so host reads of it (a truth test, `float(x)`) count as waits,
   * which keeps timing findings (MPS004) conservative. Each rule uses the reading that avoids
   * false reports.
   */
  pending?: boolean;
}

export class DeviceFlow {
  /**
   * Does a project function return a device value, and does it queue device work (itself or
   * through its callees). Its transfer reads the callees' summaries (through isDeviceWork) and,
   * for closure variables, the bindings of the functions around it.
   */
  private readonly summaries: Summaries<FnRef, FlowSummary>;

  constructor(
    private readonly index: ProjectIndex,
    private readonly sync: SyncInfo,
  ) {
    this.summaries = fnSummary<FlowSummary>(index, {
      bottom: { returnsDevice: false, returnsPending: false, works: false },
      join: (a, b) => ({ returnsDevice: a.returnsDevice || b.returnsDevice, returnsPending: a.returnsPending || b.returnsPending, works: a.works || b.works }),
      equal: (a, b) => a.returnsDevice === b.returnsDevice && a.returnsPending === b.returnsPending && a.works === b.works,
      transfer: (fn) => {
        const r = this.analyze(fn);
        return { returnsDevice: r.returnsDevice, returnsPending: r.returnsPending, works: r.hasDeviceWork };
      },
      alsoReads: (fn) => [...this.calledValues(fn), ...this.enclosingFunctions(fn)],
    });
  }

  private readonly accelerated = new Map<number, boolean>();

  /**
   * Is module `m` written for an accelerator: it names one ("mps", `.cuda()`, torch.mps...), or
   * places tensors or modules on a device it names by convention (`.to(args.device)`,
   * `device=cfg.device`, the device of an object it does not know): the naming convention for
   * models holds there. The device of a tensor torch made here is no such evidence.
   */
  accelerator(m: number): boolean {
    let hit = this.accelerated.get(m);
    if (hit === undefined) {
      const mod = this.facts(m);
      hit =
        mod.mentionsAccelerator ||
        mod.calls.some((c) => (c.fn.t === "attr" && c.fn.attr === "to" && this.namesDevice(m, c.args[0] ?? c.kwargs.device)) || this.namesDevice(m, c.kwargs.device));
      this.accelerated.set(m, hit);
    }
    return hit;
  }

  /** A device target named by convention (`device`, `args.device`, `x.device`, `torch.device(args.device)`). */
  private namesDevice(m: number, e: Expr | undefined): boolean {
    if (!e) return false;
    const known = this.knownDeviceStrings(m, e);
    if (known !== null) return known;
    if (e.t === "call") {
      const c = this.index.call(m, e.id);
      return this.index.extNames(m, e.id).includes("torch.device") && (isAcceleratorString(c.args[0]) || this.namesDevice(m, c.args[0]));
    }
    if (!isDeviceName(e)) return false;
    // `x.device` of a tensor torch made (directly or through `device = x.device`) is wherever x
    // is: no evidence of an accelerator by itself. `args.device`, `cfg.device`, `self.device`, or
    // the device of an unknown object name a configured device.
    const tensorDevice = (v: Expr) => v.t === "attr" && v.attr === "device" && this.torchMade(m, v.obj);
    if (tensorDevice(e)) return false;
    if (e.t === "name" && e.scope >= 0) {
      const values = bindingsNamed(this.facts(m).scopes[e.scope], e.name).map((b) => b.value);
      if (values.length > 0 && values.every(tensorDevice)) return false;
    }
    return true;
  }

  /** Does `e` evaluate to a value a torch function returned (a tensor). */
  private torchMade(m: number, e: Expr): boolean {
    return this.index.eval(m, e).some((v) => v.k === "extinst" && v.name.startsWith("torch.") && !v.name.startsWith("torch.nn."));
  }

  /** When `e` evaluates to strings (`device = "cpu"`): does one name an accelerator. Null when no string is known. */
  private knownDeviceStrings(m: number, e: Expr): boolean | null {
    if (e.t !== "name" && e.t !== "attr") return null;
    // `device = torch.device("cpu")` / `device = "cpu"` in the scope that binds the name.
    if (e.t === "name" && e.scope >= 0) {
      const values = bindingsNamed(this.facts(m).scopes[e.scope], e.name).map((b) => b.value);
      const literal = (v: Expr): string | null => {
        if (v.t === "str") return v.value;
        if (v.t === "call" && this.index.extNames(m, v.id).includes("torch.device")) {
          const a = this.index.call(m, v.id).args[0];
          return a && a.t === "str" ? a.value : null;
        }
        return null;
      };
      const strs = values.map(literal);
      if (strs.length > 0 && strs.every((x) => x !== null)) return strs.some((x) => /^(mps|cuda|xpu|npu|hpu)(:\d+)?$/.test(x!));
    }
    const strs = this.index.eval(m, e).filter((v): v is Extract<Value, { k: "str" }> => v.k === "str");
    if (strs.length === 0) return null;
    return strs.some((v) => /^(mps|cuda|xpu|npu|hpu)(:\d+)?$/.test(v.value));
  }

  /**
   * Does `target` (of `.to(target)` or `device=target`) put the value on an accelerator: an
   * accelerator string, the device of a device value (`x.device`), a device named by convention,
   * or in a module written for an accelerator any target that is not a string.
   */
  private deviceTarget(target: Expr | undefined, ctx: FlowCtx): boolean {
    if (!target) return false;
    if (isAcceleratorString(target)) return true;
    if (target.t === "str" || target.t === "const") return false;
    const known = this.knownDeviceStrings(ctx.fn.m, target);
    if (known !== null) return known;
    if (target.t === "attr" && target.attr === "device" && this.isDevice(target.obj, ctx)) return true;
    return ctx.accel || this.namesDevice(ctx.fn.m, target);
  }

  /** Source ranges of `fn` inside `with torch.cuda.graph(g):` blocks: calls there are recorded, not run. */
  captureRegions(fn: FnRef): [number, number][] {
    const idx = this.index;
    const out: [number, number][] = [];
    const calls = idx.callsIn(fn).map((id) => idx.call(fn.m, id));
    for (const c of calls) {
      if (c.fn.t !== "attr" || c.fn.attr !== "__enter__" || c.fn.obj.t !== "call") continue;
      if (!idx.extNames(fn.m, c.fn.obj.id).some((n) => GRAPH_CAPTURE.test(n))) continue;
      const exit = calls.find(
        (x) => x.fn.t === "attr" && x.fn.attr === "__exit__" && x.range.start.row === c.range.start.row && x.range.start.column === c.range.start.column,
      );
      out.push([c.end, exit ? exit.end : Number.MAX_SAFE_INTEGER]);
    }
    return out;
  }

  /** Project functions the callee expressions of `fn`'s calls evaluate to (read by isDeviceWork). */
  private calledValues(fn: FnRef): FnRef[] {
    const out: FnRef[] = [];
    for (const call of this.index.callsIn(fn)) {
      for (const v of this.index.eval(fn.m, this.index.call(fn.m, call).fn)) {
        if (v.k === "fn" || v.k === "bound") out.push({ m: v.m, s: v.s });
        else out.push(...this.index.callableObjectMethods(v));
      }
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
    return this.summaries.get(fn).returnsDevice;
  }

  /** Does a project function return a device value whose work may still be queued (strict reading, FlowCtx.pending). */
  returnsPending(fn: FnRef): boolean {
    return this.summaries.get(fn).returnsPending;
  }

  /** Does a project function queue device work (itself or through its callees): uploads and returned values alone are not work. */
  queuesWork(fn: FnRef): boolean {
    return this.summaries.get(fn).works;
  }

  /**
   * Walk the function's bindings, calls and returns in order of evaluation, for the summary:
   * does it return a device value, and does it queue device work. A call of a project function
   * that waits is no work here (the timeline, src/project/timeline.ts, knows which callees queue
   * more after their wait; MPS002's hand-overs and the order of work and waits are read there).
   */
  analyze(fn: FnRef): { returnsDevice: boolean; returnsPending: boolean; hasDeviceWork: boolean } {
    const idx = this.index;
    const scope = idx.scope(fn);
    const mod = this.facts(fn.m);
    type Item =
      | { k: "bind"; end: number; name: string; value: Expr }
      | { k: "call"; end: number; id: number }
      | { k: "ret"; end: number; value: Expr };
    const items: Item[] = [];
    for (const b of scope.bindings) items.push({ k: "bind", end: b.end, name: b.name, value: b.value });
    for (const id of idx.callsIn(fn)) items.push({ k: "call", end: mod.calls[id].end, id });
    for (const r of scope.returns) items.push({ k: "ret", end: r.end, value: r.value });
    items.sort((a, b) => a.end - b.end || (a.k === "bind" ? 1 : 0) - (b.k === "bind" ? 1 : 0));

    const deviceVars = new Set<string>();
    let returnsDevice = false;
    let returnsPending = false;
    let hasDeviceWork = false;
    const ctx: FlowCtx = { fn, deviceVars, accel: this.accelerator(fn.m) };
    const strict: FlowCtx = { fn, deviceVars: new Set<string>(), accel: ctx.accel, pending: true };
    const captures = this.captureRegions(fn);
    const captured = (end: number) => captures.some(([a, b]) => end > a && end <= b);
    // Arithmetic on device values queues kernels (`y = a @ b`, `q.put(a * b)`, `return a * b`); an alias, an element or an upload does not.
    const arithmetic = (e: Expr, end: number) => e.t === "op" && !e.choice && !captured(end);

    for (const it of items) {
      if (it.k === "bind") {
        if (this.isDevice(it.value, ctx)) {
          deviceVars.add(it.name);
          if (arithmetic(it.value, it.end)) hasDeviceWork = true;
        } else deviceVars.delete(it.name);
        if (this.isDevice(it.value, strict)) strict.deviceVars.add(it.name);
        else strict.deviceVars.delete(it.name);
      } else if (it.k === "call") {
        const c = mod.calls[it.id];
        const waits = this.sync.isAnySync(fn.m, it.id) || idx.calleesOf(fn.m, it.id).some((t) => this.sync.functionSyncs(t));
        if (!waits && !captured(it.end) && this.isDeviceWork(it.id, ctx)) hasDeviceWork = true;
        if (c.fn.t === "attr" && PUBLISH_METHODS.has(c.fn.attr)) {
          // Only hand-overs (the timeline's publish items) are looked at, as there.
          const arg = c.args[c.fn.attr === "set_result" ? 0 : c.args.length - 1];
          // (An element of a local container, `lists[name].append(x)`, is local too.)
    const receiverIsLocal = localContainer(c.fn.obj, fn.s);
          const shared = c.fn.attr === "put" || c.fn.attr === "put_nowait" || c.fn.attr === "set_result" || !receiverIsLocal;
          if (arg && shared && arithmetic(arg, it.end) && this.isDevice(arg, ctx)) hasDeviceWork = true;
        }
      } else {
        if (this.isDevice(it.value, ctx)) {
          returnsDevice = true;
          if (arithmetic(it.value, it.end)) hasDeviceWork = true;
        }
        if (this.isDevice(it.value, strict)) returnsPending = true;
      }
    }
    return { returnsDevice, returnsPending, hasDeviceWork };
  }

  /** Is the value of `e` on the device (a device tensor, a device model's output). */
  isDevice(e: Expr, ctx: FlowCtx): boolean {
    switch (e.t) {
      case "name":
        if (e.scope === ctx.fn.s) return ctx.deviceVars.has(e.name);
        return this.closureDevice(ctx.fn.m, e.scope, e.name);
      case "call":
        return (this.isDeviceWork(e.id, ctx) || this.isUpload(e.id, ctx) || this.wraps(e.id, ctx) || this.returnsFromProject(e.id, ctx)) && !this.isHostCopy(ctx.fn.m, e.id);
      case "op":
        return e.args.some((a) => this.isDevice(a, ctx));
      case "seq":
        return e.items.some((a) => this.isDevice(a, ctx));
      case "item":
        return this.isDevice(e.of, ctx);
      case "attr":
        // x.shape, x.dtype, x.device are host metadata; other attributes (out.logits) stay on the device.
        return !METADATA_ATTRS.has(e.attr) && this.isDevice(e.obj, ctx);
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
    const bindings = bindingsNamed(sc, name);
    if (bindings.length === 0 || paramIndex(sc, name) >= 0) return false;
    const ctx: FlowCtx = { fn: { m, s }, deviceVars: new Set<string>(), accel: this.accelerator(m) };
    return bindings.every((b) => b.value.t === "call" && this.isDevice(b.value, ctx));
  }

  private isHostCopy(m: number, id: number): boolean {
    const c = this.index.call(m, id);
    if (c.fn.t !== "attr") return false;
    return HOST_COPY_METHODS.has(c.fn.attr) || (c.fn.attr === "to" && isCpuTarget(c.args[0] ?? c.kwargs.device));
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
    // An instance of a project class that defines __call__ is judged by that method (isDeviceWork),
    // like a function: `self.detector(frame)` on a host-only detector queues nothing.
    if (vals.some((v) => v.k === "fn" || v.k === "bound" || v.k === "class" || this.index.callableObjectMethods(v).length > 0)) return false;
    return !(imported(vals) || (fn.t === "attr" && imported(this.index.eval(m, fn.obj))));
  }

  /**
   * A callable kept and called later under another name (`TaskPool(self.model.forward)`, then
   * `self.process_func(*batch)`; `fn = self.encoder` then `fn(x)`): the model conventions apply to
   * how the original was spelled, in its own module. Only where the callee resolves to no project
   * code (project functions and callable objects are judged by their bodies), and not for entry
   * points whose results are host data (`generate`, pipelines), as when called directly.
   */
  storedModelCall(m: number, fn: Expr): boolean {
    if (fn.t !== "name" && fn.t !== "attr") return false;
    // Memoized per callee expression while the index's state is unchanged and no evaluation was
    // cut short meanwhile (ProjectIndex.memoState): the parameters' arguments grow with the modules.
    const before = this.index.memoState();
    const hit = this.storedMemo.get(fn);
    if (hit && hit.m === m && hit.version === before.version) return hit.v;
    const v = this.computeStoredModelCall(m, fn);
    const after = this.index.memoState();
    if (after.version === before.version && after.blocks === before.blocks) this.storedMemo.set(fn, { m, v, version: before.version });
    return v;
  }

  private readonly storedMemo = new Map<Expr, { m: number; v: boolean; version: number }>();

  private computeStoredModelCall(m: number, fn: Expr): boolean {
    const idx = this.index;
    const vals = idx.eval(m, fn);
    if (vals.some((v) => v.k === "fn" || v.k === "bound" || v.k === "class" || idx.callableObjectMethods(v).length > 0)) return false;
    return idx.originExprs(m, fn).some(({ m: om, expr }) => {
      if (expr.t !== "attr" && expr.t !== "name") return false;
      if (HOST_RESULT_CALLS.test(lastName(expr) ?? "")) return false;
      return this.accelerator(om) && this.modelishCall(om, expr);
    });
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

  /**
   * Does this call upload host data to the device (`torch.tensor(data, device="mps")`): a device
   * value, but no compute.
   */
  isUpload(id: number, ctx: FlowCtx): boolean {
    const m = ctx.fn.m;
    if (!this.index.extNames(m, id).some((n) => UPLOAD_FUNCTIONS.has(n))) return false;
    return this.deviceTarget(this.index.call(m, id).kwargs.device, ctx);
  }

  /** `nn.Parameter(t)` of a device tensor: a device value, no work. */
  private wraps(id: number, ctx: FlowCtx): boolean {
    const m = ctx.fn.m;
    if (!this.index.extNames(m, id).some((n) => WRAPPER_FUNCTIONS.has(n))) return false;
    const c = this.index.call(m, id);
    return [...c.args, ...Object.values(c.kwargs)].some((a) => this.isDevice(a, ctx));
  }

  /** Does `e` evaluate to an nn.Module (a project subclass or torch's). */
  private isModule(m: number, e: Expr): boolean {
    return this.index.eval(m, e).some((v) => (v.k === "inst" && this.index.extBases(v).some((b) => b.startsWith("torch.nn."))) || (v.k === "extinst" && v.name.startsWith("torch.nn.")));
  }

  /** Does the call run a project function that returns a device value. */
  private returnsFromProject(id: number, ctx: FlowCtx): boolean {
    const m = ctx.fn.m;
    return this.index
      .eval(m, this.index.call(m, id).fn)
      .some((v) => {
        const fns = v.k === "fn" || v.k === "bound" ? [{ m: v.m, s: v.s }] : this.index.callableObjectMethods(v);
        return fns.some((f) => (ctx.pending ? this.returnsPending(f) : this.returnsDevice(f)));
      });
  }

  private readonly tritonCache = new Map<string, boolean>();

  /** Is project function `fn` a Triton kernel (`@triton.jit`, `@triton.autotune(...)`, `@triton.heuristics(...)`). */
  isTritonKernel(fn: FnRef): boolean {
    const key = `${fn.m}:${fn.s}`;
    let hit = this.tritonCache.get(key);
    if (hit === undefined) {
      const idx = this.index;
      hit = idx.scope(fn).decorators.some((d) => {
        const names = d.t === "call" ? idx.extNames(fn.m, d.id) : idx.eval(fn.m, d).flatMap((v) => (v.k === "ext" ? [v.name] : []));
        return names.some((n) => TRITON_DECORATORS.test(n));
      });
      this.tritonCache.set(key, hit);
    }
    return hit;
  }

  /**
   * A kernel launch that is no torch function: a Triton kernel launched with its grid
   * (`kernel[grid](...)`), a custom operator (`torch.ops.<namespace>.<op>(...)`, with device
   * tensors or in a module written for an accelerator), or a function of a compiled extension
   * (`torch.utils.cpp_extension.load(...)`'s module, or a module the project's setup builds with
   * `CUDAExtension`). Says which, or null.
   */
  kernelLaunch(id: number, ctx: FlowCtx): string | null {
    const idx = this.index;
    const m = ctx.fn.m;
    const c = idx.call(m, id);
    if (c.fn.t === "item") {
      for (const v of idx.eval(m, c.fn.of)) if (v.k === "fn" && this.isTritonKernel(v)) return "a Triton kernel launch";
    }
    const names = idx.extNames(m, id);
    const anyArgDevice = () => [...c.args, ...Object.values(c.kwargs)].some((a) => this.isDevice(a, ctx));
    if (names.some((n) => n.startsWith("torch.ops.") && !TORCH_OPS_HOST.test(n)) && (ctx.accel || anyArgDevice())) return "a custom operator";
    if (names.some((n) => /^torch\.utils\.cpp_extension\.load(_inline)?\(\)\.\w+$/.test(n))) return "a compiled extension's kernel";
    const exts = idx.compiledExtensions();
    if (exts.size > 0 && names.some((n) => [...exts].some((e) => n.startsWith(`${e}.`) || n.startsWith(`${e.slice(e.lastIndexOf(".") + 1)}.`)))) return "a compiled extension's kernel";
    return null;
  }

  /**
   * Does this call queue work on the device. Under the strict reading (FlowCtx.pending),
   * the question is whether its result is a device value still computing: a project function then
   * counts by what it returns (returnsPending), not by whether it queues work. A pipeline that runs
   * a model and returns PIL images, or a loader that returns index dicts, queues work but hands
   * back host values.
   */
  isDeviceWork(id: number, ctx: FlowCtx): boolean {
    const forValue = ctx.pending === true;
    const idx = this.index;
    const m = ctx.fn.m;
    const c = idx.call(m, id);
    // `pipe(prompt)`, `model.generate(ids)`, `asr.transcribe(audio)` of a library: what they hand
    // back is host data or already waited for (they check each step on the host), so their
    // result is no pending device value. Project functions are judged by their bodies below.
    if (forValue && HOST_RESULT_CALLS.test(lastName(c.fn) ?? "") && idx.calleesOf(m, id).length === 0) return false;
    if (this.kernelLaunch(id, ctx) !== null) return true;
    // `for x in obj:` runs obj's __iter__/__next__: work only when that project code queues it.
    if (c.implicit) {
      return idx.eval(m, c.fn).some((v) => (v.k === "fn" || v.k === "bound") && (forValue ? this.returnsPending({ m: v.m, s: v.s }) : this.queuesWork({ m: v.m, s: v.s })));
    }
    const anyArgDevice = () =>
      c.args.some((a) => this.isDevice(a, ctx)) || Object.values(c.kwargs).some((a) => this.isDevice(a, ctx));
    if (c.fn.t === "attr") {
      const method = c.fn.attr;
      if (this.isHostCopy(m, id) || METADATA_METHODS.has(method)) return false;
      if (method === "cuda") return true;
      if (method === "to") {
        const target = c.args[0] ?? c.kwargs.device;
        if (isAcceleratorString(target)) return true;
        if (target && target.t !== "str" && (ctx.accel || this.namesDevice(m, target) || (target.t === "attr" && target.attr === "device"))) {
          return this.isDevice(c.fn.obj, ctx) || this.deviceTarget(target, ctx) || target.t === "name" || target.t === "attr";
        }
      }
      // A method of a device value: a tensor op, a model's entry point, or a method of a module.
      if ((TENSOR_METHODS.has(method) || MODEL_METHODS.has(method) || this.isModule(m, c.fn.obj)) && this.isDevice(c.fn.obj, ctx)) return true;
    }
    if (c.fn.t === "name" && c.fn.scope === ctx.fn.s && ctx.deviceVars.has(c.fn.name)) return true;
    for (const v of idx.eval(m, c.fn)) {
      if (v.k === "ext" && GRAPH_REPLAY.test(v.name)) return true;
      // A method of an object a torch call returned (`torch.cat(xs).append`, a container holding
      // tensors): work only as a tensor op or a model's entry point.
      const method = v.k === "ext" && v.name.includes("().") ? v.name.slice(v.name.lastIndexOf(".") + 1) : null;
      if (method !== null && !TENSOR_METHODS.has(method) && !MODEL_METHODS.has(method)) continue;
      if (v.k === "ext" && v.name.startsWith("torch.") && !NOT_DEVICE_WORK.test(v.name)) {
        // Uploading host data and wrapping a tensor queue no compute (isUpload, wraps).
        if (UPLOAD_FUNCTIONS.has(v.name) || WRAPPER_FUNCTIONS.has(v.name)) continue;
        if (this.deviceTarget(c.kwargs.device, ctx) || anyArgDevice()) return true;
      }
      if ((v.k === "inst" && idx.extBases(v).some((b) => b.startsWith("torch.nn."))) || (v.k === "extinst" && v.name.startsWith("torch.nn."))) {
        if (ctx.accel) return true;
      }
      if ((v.k === "fn" || v.k === "bound") && (forValue ? this.returnsPending({ m: v.m, s: v.s }) : this.queuesWork({ m: v.m, s: v.s }))) return true;
      // A callable object of the project (`self.runner(x)`): what its __call__ does, like a function's body.
      for (const t of idx.callableObjectMethods(v)) if (forValue ? this.returnsPending(t) : this.queuesWork(t)) return true;
    }
    if (ctx.accel && this.modelishCall(m, c.fn)) return true;
    if (this.storedModelCall(m, c.fn)) return true;
    return false;
  }
}

/** Is `e` a local variable of scope `s`, or an element of one (`lists[key]`). */
function localContainer(e: Expr, s: number): boolean {
  let r = e;
  while (r.t === "item") r = r.of;
  return r.t === "name" && r.scope === s;
}
