// Every name of the device vocabulary (src/project/vocabulary.ts) recognised where it is called,
// and a look-alike not: each probe is a line of real Python, parsed and classified by the
// timeline (MPS004's view of a function: clock, work, wait, load, ...). The names are written out
// here, not read from the vocabulary, so that a name dropped or misspelt there fails its probe.
import { describe, expect, it } from "vitest";
import { extractFacts } from "../../src/facts/extract.js";
import { Project } from "../../src/project/project.js";
import { TimingAnalysis } from "../../src/project/timeline.js";

const IMPORTS = [
  "import torch_xla.core.xla_model",
  "import time, timeit, queue, threading, multiprocessing",
  "import concurrent.futures",
  "from concurrent.futures import ThreadPoolExecutor",
  "import torch",
  "import torch.distributed as dist",
  "import safetensors.torch, safetensors, accelerate, accelerate.utils",
  "import mlx.core as mx",
  "from transformers import AutoModel, AutoConfig, AutoTokenizer, LlamaTokenizerFast, AutoProcessor, AutoFeatureExtractor, WhisperFeatureExtractor, PretrainedConfiguration",
  "from diffusers import StableDiffusionPipeline",
];

/**
 * How the timeline classifies each probe line of `def f(model, x, g):` after the setup lines
 * (`x` is a device tensor, `y` the result of a model call on it): the kinds of the items on the
 * probe's row ("sync:device", "clock", "work", "load", "queued", ...) or "none".
 */
function classify(probes: string[], setup: string[] = []): Record<string, string> {
  const head = [...IMPORTS, "", "def f(model, x, g):", '    x = x.to("cuda")', "    y = model(x)", ...setup.map((l) => `    ${l}`)];
  const source = [...head, ...probes.map((p) => `    ${p}`)].join("\n") + "\n";
  const facts = extractFacts("/tmp/vocab_names.py", source);
  const project = new Project([facts]);
  const items = new TimingAnalysis(project).timeline({ m: 0, s: facts.scopes.findIndex((sc) => sc.name === "f") });
  const out: Record<string, string> = {};
  probes.forEach((p, i) => {
    const row = head.length + i;
    const kinds = items.filter((it) => "row" in it && it.row === row).map((it) => (it.k === "sync" ? `sync:${it.via}` : it.k));
    const clocks = items.filter((it) => it.k === "clock" && facts.calls[it.call].range.start.row === row).map(() => "clock");
    out[p] = [...clocks, ...kinds].join("+") || "none";
  });
  return out;
}

/** Each probe expected to classify as `kind`. */
const all = (probes: string[], kind: string) => Object.fromEntries(probes.map((p) => [p, kind]));

describe("vocabulary: clocks", () => {
  it("each wall-clock read opens an interval; other time functions do not", () => {
    const clocks = [
      "t1 = time.time()",
      "t2 = time.perf_counter()",
      "t3 = time.monotonic()",
      "t4 = time.time_ns()",
      "t5 = time.perf_counter_ns()",
      "t6 = time.monotonic_ns()",
      "t7 = timeit.default_timer()",
    ];
    const others = ["time.sleep(0.1)", "s = time.ctime()", "s = time.strftime('%H')", "s = timeit.timeit('1')", "t = time.thread_time_ns()"];
    expect(classify([...clocks, ...others])).toEqual({ ...all(clocks, "clock"), ...all(others, "none") });
  });
});

describe("vocabulary: waits", () => {
  it("each backend's device-wide synchronize waits; other device-module functions do not", () => {
    const syncs = [
      "torch.mps.synchronize()",
      "torch.cuda.synchronize()",
      "torch.xpu.synchronize()",
      "torch.npu.synchronize()",
      "torch.hpu.synchronize()",
      "torch.accelerator.synchronize()",
      "torch.cuda.current_stream().synchronize()",
      "torch_xla.core.xla_model.wait_device_ops()",
    ];
    const others = ["torch.cuda.empty_cache()", "torch.mps.empty_cache()", "torch.cuda.set_device(0)", "torch.accelerator.current_device_index()"];
    expect(classify([...syncs, ...others])).toEqual({ ...all(syncs, "sync:device"), ...all(others, "none") });
  });

  it("a device-wide synchronize names the backend it waits for", () => {
    const source = [
      "import torch",
      "from torch import mps",
      "import torch_xla.core.xla_model as xm",
      "def f(device):",
      ...["torch.mps", "torch.cuda", "torch.xpu", "torch.npu", "torch.hpu", "torch.accelerator", "mps", "getattr(torch, device)", "torch.get_device_module(device)"].map(
        (mod) => `    ${mod}.synchronize()`,
      ),
      "    torch.cuda.current_stream().synchronize()",
      "    torch.cuda.empty_cache()",
      "    xm.wait_device_ops()",
      "    xm.mark_step()",
    ].join("\n");
    const facts = extractFacts("/tmp/vocab_sync.py", source + "\n");
    const project = new Project([facts]);
    const probed = facts.calls.filter((c) => c.fn.t === "attr" && ["synchronize", "empty_cache", "wait_device_ops", "mark_step"].includes(c.fn.attr));
    const backends = probed.map((c) => project.sync.deviceSync(0, facts.calls.indexOf(c)));
    expect(backends).toEqual(["mps", "cuda", "xpu", "npu", "hpu", "accelerator", "mps", "device", "device", null, null, "accelerator", null]);
  });

  it("each copy to the host waits; a copy that stays on the device does not", () => {
    const copies = ["a = y.cpu()", "a = y.item()", "a = y.tolist()", "a = y.numpy()", 'model.save_pretrained("p")', 'a = y.to("cpu")', 'a = y.to("cpu:0")', 'a = y.to(torch.device("cpu"))', 'a = y.to(device="cpu")'];
    expect(classify(copies)).toEqual(all(copies, "sync:device"));
    const stays = ['a = y.to("cuda:1")', 'a = y.to("cpux")', "a = y.clone()"];
    expect(Object.values(classify(stays)).some((k) => k.startsWith("sync"))).toBe(false);
  });

  it("each builtin that turns a device tensor into a Python value waits; the same builtin on a host value does not", () => {
    const onDevice = ["a = float(y)", "a = int(y)", "a = bool(y)", "print(y)", "a = str(y)", "a = repr(y)", "a = format(y)"];
    const onHost = ["a = float(3)", "a = int(g)", "print('done')", "a = len(y)", "a = abs(3)"];
    expect(classify([...onDevice, ...onHost])).toEqual({ ...all(onDevice, "sync:host"), ...all(onHost, "none") });
  });

  it("each torch function that returns a Python value or writes tensors to a file waits; the tensor-valued look-alike is work", () => {
    const host = [
      "a = torch.equal(y, y)",
      "a = torch.allclose(y, y)",
      "a = torch.is_nonzero(y)",
      "torch.testing.assert_close(y, y)",
      'torch.save(y, "p")',
      'safetensors.torch.save_file({"y": y}, "p")',
      'safetensors.torch.save_model(model, "p")',
    ];
    const tensor = ["a = torch.eq(y, y)", "a = torch.isclose(y, y)"];
    expect(classify([...host, ...tensor])).toEqual({ ...all(host, "sync:host"), ...all(tensor, "work") });
  });

  it("MLX's eval and synchronize wait; building an MLX array does not", () => {
    // `mx.synchronize()` is a wait as any `.synchronize()` method is; the bare name is MLX's own.
    expect(classify(["mx.eval(y)", "synchronize()", "a = mx.array([1])"], ["from mlx.core import synchronize"])).toEqual({
      "mx.eval(y)": "sync:other",
      "synchronize()": "sync:other",
      "a = mx.array([1])": "none",
    });
  });

  it("a barrier waits for every rank; a truth test of any()/all() waits, a reduction kept on the device does not", () => {
    expect(classify(["dist.barrier()", "assert y.any()", "assert not y.all()", "a = y.any(dim=0)"])).toEqual({
      "dist.barrier()": "sync:barrier",
      "assert y.any()": "sync:truth",
      "assert not y.all()": "sync:truth",
      "a = y.any(dim=0)": "work",
    });
  });

  it("an Event's query() is a completion check, its synchronize() a wait", () => {
    expect(classify(["ev.query()", "ev.synchronize()"], ["ev = torch.cuda.Event()", "ev.record()"])).toEqual({ "ev.query()": "check", "ev.synchronize()": "sync:device" });
  });
});

describe("vocabulary: waits for another thread", () => {
  it("each hand-over that blocks on another thread is a wait; the same method names on other objects are not", () => {
    const setup = [
      "from concurrent.futures import wait",
      "ex = ThreadPoolExecutor(2)",
      "fut = ex.submit(len, [])",
      "th = threading.Thread(target=len)",
      "q = queue.Queue()",
      "sq = queue.SimpleQueue()",
      "done = threading.Event()",
      "cond = threading.Condition()",
      "bar = threading.Barrier(2)",
      "p = multiprocessing.Process(target=len)",
      "mq = multiprocessing.Queue()",
      "d = {}",
    ];
    const waits = [
      "a = fut.result()",
      "a = fut.exception()",
      "th.join()",
      "a = q.get()",
      "a = sq.get()",
      "q.join()",
      "done.wait()",
      "cond.wait()",
      "bar.wait()",
      "a = ex.map(len, [])",
      "ex.shutdown()",
      "wait([fut])",
    ];
    const others = ["p.join()", "a = mq.get()", "a = d.get(1)", "a = g.result()", "ex.submit(len, [])"];
    expect(classify([...waits, ...others], setup)).toEqual({ ...all(waits, "sync:thread"), ...all(others, "none") });
  });
});

describe("vocabulary: checkpoint loading", () => {
  it("each checkpoint reader is a load; writers and other functions of the same modules are not", () => {
    const loads = [
      'a = torch.load("p")',
      'a = torch.serialization.load("p")',
      'a = safetensors.torch.load_file("p")',
      "a = safetensors.torch.load(b)",
      'a = safetensors.safe_open("p", "pt")',
      'accelerate.load_checkpoint_in_model(model, "p")',
      'a = accelerate.load_checkpoint_and_dispatch(model, "p")',
      'accelerate.utils.load_checkpoint_in_model(model, "p")',
      'a = AutoModel.from_pretrained("p")',
      'a = StableDiffusionPipeline.from_single_file("p")',
    ];
    const others = [
      'a = AutoConfig.from_pretrained("p")',
      'a = PretrainedConfiguration.from_pretrained("p")',
      'a = AutoTokenizer.from_pretrained("p")',
      'a = LlamaTokenizerFast.from_pretrained("p")',
      'a = AutoProcessor.from_pretrained("p")',
      'a = WhisperFeatureExtractor.from_pretrained("p")',
      "a = AutoModel.from_config(c)",
    ];
    expect(classify([...loads, ...others])).toEqual({ ...all(loads, "load"), ...all(others, "none") });
  });
});

describe("vocabulary: device work and what is not", () => {
  it("tensor methods that move, cast, view or read metadata queue no compute; other tensor methods do", () => {
    const transfers = ["to", "cuda", "mps", "xpu", "hpu", "npu", "pin_memory", "contiguous", "half", "float", "bfloat16", "double", "long", "int", "short", "bool", "byte", "char"];
    const views = ["view", "view_as", "unsqueeze", "squeeze", "transpose", "permute", "expand", "expand_as", "narrow", "select", "t", "unflatten", "detach", "as_strided", "split", "chunk", "unbind", "movedim", "moveaxis", "swapaxes", "swapdims", "diagonal"];
    const metadata = ["size", "dim", "numel", "nelement", "stride", "element_size", "is_contiguous", "is_floating_point", "get_device", "data_ptr", "storage_offset", "ndimension", "type", "is_complex", "is_pinned", "requires_grad_", "register_hook"];
    const compute = ["relu", "add", "matmul", "softmax", "clone", "sum", "argmax", "masked_fill"];
    const probe = (m: string) => `a_${m} = y.${m}(1)`;
    const got = classify([...transfers, ...views, ...metadata, ...compute].map(probe));
    const noCompute = [...transfers, ...views, ...metadata].map(probe).filter((p) => got[p] === "work");
    expect(noCompute).toEqual([]);
    expect(compute.map(probe).filter((p) => got[p] !== "work")).toEqual([]);
  });

  it("a model's state methods and host-result entry points queue no compute; its forward does", () => {
    const state = ["eval", "train", "requires_grad_", "zero_grad", "state_dict", "load_state_dict", "parameters", "named_parameters", "buffers", "named_buffers", "modules", "named_modules", "children", "named_children", "get_submodule", "get_parameter", "get_buffer", "add_module", "register_module", "register_buffer", "register_parameter", "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook", "register_backward_hook", "share_memory"];
    const hostResults = ["generate", "predict", "pipe", "pipeline", "transcribe", "chat", "complete", "completion"];
    const probes = [...state, ...hostResults].map((m) => `a_${m} = model.${m}(x)`);
    const bare = hostResults.map((m) => `b_${m} = ${m}(x)`);
    const entry = ["a = model.forward(x)", "a = model(x)", "a = model.encode(x)", "a = model.decode(x)", "a = model.sample(x)", "a = model.infer(x)", "a = model.__call__(x)"];
    const got = classify([...probes, ...bare, ...entry]);
    expect([...probes, ...bare].filter((p) => got[p] === "work")).toEqual([]);
    expect(entry.filter((p) => got[p] !== "work")).toEqual([]);
  });

  it("allocating on the device queues a fill, not compute; uploading and wrapping queue nothing; a random tensor is work", () => {
    const allocations = [
      "torch.empty(3, device=x.device)",
      "torch.empty_like(x)",
      "torch.empty_strided((3,), (1,), device=x.device)",
      "torch.zeros(3, device=x.device)",
      "torch.zeros_like(x)",
      "torch.ones(3, device=x.device)",
      "torch.ones_like(x)",
      "torch.full((3,), 1, device=x.device)",
      "torch.full_like(x, 1)",
      "torch.arange(3, device=x.device)",
    ].map((e, i) => `a${i} = ${e}`);
    const quiet = [
      "torch.tensor([1], device=x.device)",
      "torch.as_tensor([1], device=x.device)",
      "torch.asarray([1], device=x.device)",
      "torch.from_numpy(n)",
      "torch.nn.Parameter(x)",
      "torch.nn.parameter.Parameter(x)",
      "torch.nn.Buffer(x)",
      "torch.nn.parameter.Buffer(x)",
    ].map((e, i) => `u${i} = ${e}`);
    const work = ["b = torch.randn(3, device=x.device)", "b = torch.rand_like(x)", "b = torch.cat([x, x])"];
    expect(classify([...allocations, ...quiet, ...work])).toEqual({ ...all(allocations, "queued"), ...all(quiet, "none"), ...all(work, "work") });
  });

  it("torch's device-module, autograd-mode, seeding and serialization functions queue no work; torch ops do", () => {
    const quiet = [
      "torch.mps.current_allocated_memory()",
      "torch.cuda.memory_allocated()",
      "torch.xpu.memory_allocated()",
      "torch.hpu.memory_allocated()",
      "torch.npu.memory_allocated()",
      "torch.accelerator.device_count()",
      "torch.backends.mps.is_available()",
      "torch.distributed.get_rank()",
      "torch.utils.data.get_worker_info()",
      "torch.jit.is_scripting()",
      "torch.autograd.grad_mode.no_grad()",
      "torch.nn.init.normal_(x)",
      "torch.random.manual_seed(0)",
      "torch.no_grad()",
      "torch.inference_mode()",
      "torch.enable_grad()",
      "torch.device('cuda')",
      "torch.manual_seed(0)",
      "torch.set_grad_enabled(False)",
      "torch.set_num_threads(1)",
      "torch.get_num_threads()",
      "torch.is_tensor(x)",
      "torch.Event()",
      "torch.Stream()",
      "torch.dtype(x)",
      "torch.compile(model)",
      "torch.get_device_module('cuda')",
    ].map((e, i) => `a${i} = ${e}`);
    const work = ["b = torch.matmul(x, x)", "b = torch.softmax(x, -1)", "b = torch.nn.functional.relu(x)", "b = torch.cudnn_convolution(x)", "b = torch.randperm(3, device=x.device)"];
    const got = classify([...quiet, ...work]);
    expect(quiet.filter((p) => got[p] === "work")).toEqual([]);
    expect(work.filter((p) => got[p] !== "work")).toEqual([]);
  });

  it("each conventional model name called on a device tensor is work; classes, factories and paths are not", () => {
    const models = ["model", "net", "network", "module", "encoder", "decoder", "backbone", "llm", "generator", "classifier", "detector", "transformer", "unet", "vae", "vocoder", "text_model", "res_net", "sub_module", "text_encoder", "vae_decoder", "hifi_vocoder", "model_a", "MODEL_B", "NET"];
    const notModels = ["Model", "Encoder", "Model_b", "model_cls", "model_class", "model_type", "model_name", "model_names", "model_path", "model_paths", "model_dir", "model_file", "model_id", "model_url", "model_config", "model_cfg", "model_args", "model_kwargs", "model_kind", "model_size", "modelx", "my_modeller", "netx"];
    const probe = (n: string) => `a = ${n}(x)`;
    const source = (names: string[]) => names.map((n) => `    ${n} = load_any()`);
    const got = classify([...models, ...notModels].map(probe), source([...models, ...notModels]).map((l) => l.trim()));
    expect(models.filter((n) => got[probe(n)] !== "work")).toEqual([]);
    expect(notModels.filter((n) => got[probe(n)] === "work")).toEqual([]);
  });
});

describe("vocabulary: CUDA graphs", () => {
  it("calls inside each spelling of a graph capture queue nothing; a replay is work", () => {
    for (const capture of ["torch.cuda.graph(g)", "torch.cuda.graphs.graph(g)", "torch.xpu.graph(g)"]) {
      expect(classify([`with ${capture}:`, "    a = model(x)"])).toEqual({ [`with ${capture}:`]: "none", "    a = model(x)": "none" });
    }
    expect(classify(["with torch.cuda.stream(g):", "    a = model(x)"])["    a = model(x)"]).toBe("work");
    for (const graph of ["torch.cuda.CUDAGraph()", "torch.cuda.graphs.CUDAGraph()", "torch.xpu.XPUGraph()"]) {
      expect(classify(["gr.replay()"], [`gr = ${graph}`])).toEqual({ "gr.replay()": "work" });
    }
  });
});

describe("vocabulary: device strings", () => {
  it("each accelerator string, with or without an index, makes a device value; the host and unknown strings do not", () => {
    const on = ["mps", "cuda", "xpu", "npu", "hpu", "cuda:1", "mps:0"].map((d, i) => `d${i} = g.to("${d}")`);
    const host = ["cpu", "cpu:0"].map((d, i) => `c${i} = g.to("${d}")`);
    const off = ["meta", "cudax", "cuda:x", "xcuda", "cpux"].map((d, i) => `e${i} = g.to("${d}")`);
    expect(classify([...on, ...host, ...off])).toEqual({ ...all(on, "queued"), ...all(host, "sync:device"), ...all(off, "none") });
  });
});

describe("vocabulary: hand-overs and host metadata", () => {
  it("each hand-over method publishes a device value; other container methods do not", () => {
    // A container the function does not own (here an attribute) is shared; a queue or a future always.
    const publishes = ["q.put(y)", "q.put_nowait(y)", "fut.set_result(y)", "g.out.append(y)", "g.dq.appendleft(y)", "g.out.extend(y)", "g.conn.send(y)"];
    const others = ["g.out.insert(0, y)", "g.d.update(y)", "q.get()", "local.append(y)"];
    const got = classify([...publishes, ...others], ["q = queue.Queue()", "fut = g", "local = []"]);
    expect(publishes.filter((p) => !got[p].split("+").includes("publish"))).toEqual([]);
    expect(others.filter((p) => got[p].split("+").includes("publish"))).toEqual([]);
  });

  it("each metadata attribute of a device tensor is a host value: arithmetic on it queues nothing", () => {
    const attrs = ["shape", "dtype", "device", "ndim", "is_cuda", "is_mps", "layout", "requires_grad", "is_leaf", "names"];
    const probes = attrs.map((a) => `n_${a} = y.${a} * 2`);
    const got = classify([...probes, "m = y.T * 2", "m2 = y.real * 2"]);
    expect(probes.filter((p) => got[p] !== "none")).toEqual([]);
    expect(got["m = y.T * 2"]).toBe("work");
    expect(got["m2 = y.real * 2"]).toBe("work");
  });
});
