// The device vocabulary: what PyTorch (and Python) calls do to the device queue, once for every
// rule. DeviceFlow, SyncInfo and the timeline read these lists; no rule keeps its own.
//
//   wait        the host waits for queued work (device syncs, Event/Stream.synchronize(), host copies)
//   work        a kernel is queued (torch ops on device tensors, model calls)
//   upload      host data is copied to the device (torch.tensor(data, device=...)): a device value, no compute
//   transfer    a tensor is moved or cast (.to(), .cuda(), .half()): a device value, no timed compute
//   view        a view of the same storage (unsqueeze, view, ...): nothing queued
//   metadata    read on the host (x.shape, x.size()): nothing queued, not a device value
//   clock       a wall-clock read
//   publish     a value is handed to another thread

import type { Expr } from "../facts/model.js";

// ---- waits ----------------------------------------------------------------------------------

/**
 * Device-wide synchronize functions and the backend each waits for. The device modules of other
 * backends (`torch.hpu` from Habana's plugin, `torch.npu` from Ascend's) mirror `torch.cuda`:
 * their `synchronize()` waits for all work queued on the device and their Events record and
 * wait on a stream the same way, so the guide's semantics carry over.
 */
export const DEVICE_SYNCS: Record<string, string> = {
  "torch.mps.synchronize": "mps",
  "torch.cuda.synchronize": "cuda",
  "torch.xpu.synchronize": "xpu",
  "torch.npu.synchronize": "npu",
  "torch.hpu.synchronize": "hpu",
  "torch.accelerator.synchronize": "accelerator",
  "torch.<dev>.synchronize": "device",
  // PyTorch/XLA: blocks until every operation queued on the XLA devices has run (`xm.mark_step()`
  // only dispatches the graph). Code that uses it runs on an XLA device, whatever else it names.
  "torch_xla.core.xla_model.wait_device_ops": "accelerator",
};

/**
 * Methods that copy to the host and therefore wait for the work that produced the data: tensor
 * copies, and a model's `save_pretrained()`, which copies every parameter to the host to write it.
 */
export const HOST_COPY_METHODS = new Set(["cpu", "item", "tolist", "numpy", "save_pretrained"]);

/** Methods of torch.Event. */
export const EVENT_METHODS = new Set(["record", "synchronize", "wait", "query", "elapsed_time"]);

/**
 * Methods that tell whether queued work has completed without waiting for it (`ev.query()`,
 * `stream.query()`). Not a wait: only a rule about reading an Event's result (MPS007) may take
 * one as a completion check.
 */
export const COMPLETION_CHECKS = new Set(["query"]);

/** Stream synchronize calls (`torch.cuda.current_stream().synchronize()`). */
export const STREAM_SYNC = /^torch\.(\w+|<dev>)\.(Stream|current_stream|default_stream)\(\)\.synchronize$|^torch\.Stream\(\)\.synchronize$/;

/** Builtins that turn a tensor into a host value and so wait for it (when given a device value). */
export const HOST_BUILTINS = new Set(["builtins.float", "builtins.int", "builtins.bool", "builtins.print", "builtins.str", "builtins.repr", "builtins.format"]);

/** torch functions that return Python values (and so wait). */
export const HOST_TORCH = new Set([
  "torch.equal", "torch.allclose", "torch.is_nonzero", "torch.testing.assert_close",
  // Writing tensors to a file copies them to the host first (a traced or scripted module's
  // save() and an ONNX export, which also runs the model, too).
  "torch.save", "safetensors.torch.save_file", "safetensors.torch.save_model",
  "torch.jit.save", "torch.jit.trace().save", "torch.jit.script().save", "torch.onnx.export",
]);

/**
 * Collective barriers (`torch.distributed.barrier()`, `dist.barrier()` of a wrapper): every rank
 * blocks until all reach it; with NCCL the host waits for the barrier's kernel on the current
 * stream, behind the work queued before it.
 */
export const BARRIER_METHOD = "barrier";

/**
 * Reductions to one boolean whose result Python consumes at once (`assert not x.isnan().any()`,
 * `if mask.all():`): testing a tensor's truth copies it to the host and waits.
 */
export const TRUTH_REDUCTIONS = new Set(["any", "all"]);

/** Waits outside torch: MLX evaluates its lazy arrays and waits for the GPU in `mx.eval()`. */
export const OTHER_WAITS = new Set(["mlx.core.eval", "mlx.core.synchronize"]);

// ---- no work ----------------------------------------------------------------------------------

/** torch namespaces and functions that do not queue device work. */
export const NOT_DEVICE_WORK = /^torch\.(mps|cuda|xpu|hpu|npu|accelerator|backends|distributed|utils|jit|autograd\.grad_mode|nn\.init|random)\b|^torch\.(no_grad|inference_mode|enable_grad|device|manual_seed|set_grad_enabled|set_num_threads|get_num_threads|is_tensor|Event|Stream|dtype|compile|load|save|from_numpy|get_device_module)$/;

/** Tensor methods that read metadata on the host: no device work, and the result is not on the device. */
export const METADATA_METHODS = new Set([
  "size", "dim", "numel", "nelement", "stride", "element_size", "is_contiguous", "is_floating_point",
  "get_device", "data_ptr", "storage_offset", "ndimension", "type", "is_complex", "is_pinned", "requires_grad_",
  "register_hook",
]);

/** Tensor attributes read on the host (`x.shape`, `x.device`): not device values. */
export const METADATA_ATTRS = new Set(["shape", "dtype", "device", "ndim", "is_cuda", "is_mps", "layout", "requires_grad", "is_leaf", "names"]);

/** Tensor methods that return a view of the same storage: no kernel is queued. */
export const VIEW_METHODS = new Set([
  "view", "view_as", "unsqueeze", "squeeze", "transpose", "permute", "expand", "expand_as", "narrow",
  "select", "t", "unflatten", "detach", "as_strided", "split", "chunk", "unbind", "movedim", "moveaxis",
  "swapaxes", "swapdims", "diagonal",
]);

/** Tensor methods that move or cast a tensor: a device value, not timed compute. */
export const TRANSFER_METHODS = new Set([
  "to", "cuda", "mps", "xpu", "hpu", "npu", "pin_memory", "contiguous", "half", "float", "bfloat16",
  // The other dtype casts, like half() and float(): `torch.tensor(ids, device=d).long()`.
  "double", "long", "int", "short", "bool", "byte", "char",
]);

/** torch functions that build a tensor from host data: with a device, an upload (a host-to-device copy). */
export const UPLOAD_FUNCTIONS = new Set(["torch.tensor", "torch.as_tensor", "torch.asarray", "torch.from_numpy"]);

/**
 * torch functions that allocate a tensor, empty or filled with a constant: a device value whose
 * fill (if any) is a memset, not compute worth timing. Timing treats them like uploads; the
 * hand-over rule (MPS002) still counts a fill as queued work, since another thread may read the
 * tensor before it is written.
 */
export const ALLOCATION_FUNCTIONS = new Set([
  "torch.empty", "torch.empty_like", "torch.empty_strided", "torch.zeros", "torch.zeros_like", "torch.ones",
  "torch.ones_like", "torch.full", "torch.full_like", "torch.arange",
]);

/** torch callables that wrap a tensor without touching its data: the wrapped value's device, no work. */
export const WRAPPER_FUNCTIONS = new Set(["torch.nn.Parameter", "torch.nn.parameter.Parameter", "torch.nn.Buffer", "torch.nn.parameter.Buffer"]);

/**
 * nn.Module methods that change or read the module's state on the host: switching modes,
 * listing parameters, registering hooks, loading a state dict (a host-to-device copy, like
 * `.to()`). None of them queues device compute.
 */
export const MODULE_STATE_METHODS = new Set([
  "eval", "train", "requires_grad_", "zero_grad", "state_dict", "load_state_dict", "parameters",
  "named_parameters", "buffers", "named_buffers", "modules", "named_modules", "children",
  "named_children", "get_submodule", "get_parameter", "get_buffer", "add_module", "register_module",
  "register_buffer", "register_parameter", "register_forward_hook", "register_forward_pre_hook",
  "register_full_backward_hook", "register_backward_hook", "share_memory",
]);

/**
 * Model entry points whose results are host values or that wait internally on every step:
 * `generate()` loops check stopping criteria on the host each token; pipelines and `predict()`
 * return Python objects. Timing them measures run time, so they are not unsynced work.
 */
export const HOST_RESULT_CALLS = /^(generate|predict|pipe|pipeline|transcribe|chat|complete|completion)$/;

/** Blocks inside which calls are recorded into a CUDA graph, not run: `with torch.cuda.graph(g):`. */
export const GRAPH_CAPTURE = /^torch\.(cuda|xpu)\.(graphs\.)?graph$/;
/** Replaying a captured graph queues all its kernels: device work. */
export const GRAPH_REPLAY = /^torch\.(cuda|xpu)\.(graphs\.)?(CUDAGraph|XPUGraph)\(\)\.replay$/;

/**
 * Methods of torch.Tensor (`dir(torch.Tensor)` of torch 1.13, public callables): a method call on a
 * device value queues work only when it is one of these (or a model's entry point); `batch.to_pb()`
 * on an object that merely holds device tensors does not.
 */
export const TENSOR_METHODS: ReadonlySet<string> = new Set(
  (
  "abs abs_ absolute absolute_ acos acos_ acosh acosh_ add add_ addbmm addbmm_ addcdiv addcdiv_ addcmul " +
  "addcmul_ addmm addmm_ addmv addmv_ addr addr_ adjoint align_as align_to all allclose amax amin " +
  "aminmax angle any apply_ arccos arccos_ arccosh arccosh_ arcsin arcsin_ arcsinh arcsinh_ arctan " +
  "arctan2 arctan2_ arctan_ arctanh arctanh_ argmax argmin argsort argwhere as_strided as_strided_ " +
  "as_strided_scatter as_subclass asin asin_ asinh asinh_ atan atan2 atan2_ atan_ atanh atanh_ backward " +
  "baddbmm baddbmm_ bernoulli bernoulli_ bfloat16 bincount bitwise_and bitwise_and_ bitwise_left_shift " +
  "bitwise_left_shift_ bitwise_not bitwise_not_ bitwise_or bitwise_or_ bitwise_right_shift " +
  "bitwise_right_shift_ bitwise_xor bitwise_xor_ bmm bool broadcast_to byte cauchy_ ccol_indices " +
  "cdouble ceil ceil_ cfloat chalf char cholesky cholesky_inverse cholesky_solve chunk clamp clamp_ " +
  "clamp_max clamp_max_ clamp_min clamp_min_ clip clip_ clone coalesce col_indices conj conj_physical " +
  "conj_physical_ contiguous copy_ copysign copysign_ corrcoef cos cos_ cosh cosh_ count_nonzero cov " +
  "cpu cross crow_indices cuda cummax cummin cumprod cumprod_ cumsum cumsum_ data_ptr deg2rad deg2rad_ " +
  "dense_dim dequantize det detach detach_ diag diag_embed diagflat diagonal diagonal_scatter diff " +
  "digamma digamma_ dim dist div div_ divide divide_ dot double dsplit eig element_size eq eq_ equal " +
  "erf erf_ erfc erfc_ erfinv erfinv_ exp exp2 exp2_ exp_ expand expand_as expm1 expm1_ exponential_ " +
  "fill_ fill_diagonal_ fix fix_ flatten flip fliplr flipud float float_power float_power_ floor floor_ " +
  "floor_divide floor_divide_ fmax fmin fmod fmod_ frac frac_ frexp gather gcd gcd_ ge ge_ geometric_ " +
  "geqrf ger get_device greater greater_ greater_equal greater_equal_ gt gt_ half hardshrink has_names " +
  "heaviside heaviside_ histc histogram hsplit hypot hypot_ i0 i0_ igamma igamma_ igammac igammac_ " +
  "index_add index_add_ index_copy index_copy_ index_fill index_fill_ index_put index_put_ index_reduce " +
  "index_reduce_ index_select indices inner int int_repr inverse ipu is_coalesced is_complex is_conj " +
  "is_contiguous is_distributed is_floating_point is_inference is_neg is_nonzero is_pinned is_same_size " +
  "is_set_to is_shared is_signed isclose isfinite isinf isnan isneginf isposinf isreal istft item kron " +
  "kthvalue lcm lcm_ ldexp ldexp_ le le_ lerp lerp_ less less_ less_equal less_equal_ lgamma lgamma_ " +
  "log log10 log10_ log1p log1p_ log2 log2_ log_ log_normal_ log_softmax logaddexp logaddexp2 " +
  "logcumsumexp logdet logical_and logical_and_ logical_not logical_not_ logical_or logical_or_ " +
  "logical_xor logical_xor_ logit logit_ logsumexp long lstsq lt lt_ lu lu_solve map2_ map_ masked_fill " +
  "masked_fill_ masked_scatter masked_scatter_ masked_select matmul matrix_exp matrix_power max maximum " +
  "mean median min minimum mm mode moveaxis movedim msort mul mul_ multinomial multiply multiply_ mv " +
  "mvlgamma mvlgamma_ nan_to_num nan_to_num_ nanmean nanmedian nanquantile nansum narrow narrow_copy " +
  "ndimension ne ne_ neg neg_ negative negative_ nelement new new_empty new_empty_strided new_full " +
  "new_ones new_tensor new_zeros nextafter nextafter_ nonzero norm normal_ not_equal not_equal_ numel " +
  "numpy orgqr ormqr outer permute pin_memory pinverse polygamma polygamma_ positive pow pow_ prelu " +
  "prod put put_ q_per_channel_axis q_per_channel_scales q_per_channel_zero_points q_scale q_zero_point " +
  "qr qscheme quantile rad2deg rad2deg_ random_ ravel reciprocal reciprocal_ record_stream refine_names " +
  "register_hook reinforce relu relu_ remainder remainder_ rename rename_ renorm renorm_ repeat " +
  "repeat_interleave requires_grad_ reshape reshape_as resize resize_ resize_as resize_as_ " +
  "resize_as_sparse_ resolve_conj resolve_neg retain_grad roll rot90 round round_ row_indices rsqrt " +
  "rsqrt_ scatter scatter_ scatter_add scatter_add_ scatter_reduce scatter_reduce_ select " +
  "select_scatter set_ sgn sgn_ share_memory_ short sigmoid sigmoid_ sign sign_ signbit sin sin_ sinc " +
  "sinc_ sinh sinh_ size slice_scatter slogdet smm softmax solve sort sparse_dim sparse_mask " +
  "sparse_resize_ sparse_resize_and_clear_ split split_with_sizes sqrt sqrt_ square square_ squeeze " +
  "squeeze_ sspaddmm std stft storage storage_offset storage_type stride sub sub_ subtract subtract_ " +
  "sum sum_to_size svd swapaxes swapaxes_ swapdims swapdims_ symeig t t_ take take_along_dim tan tan_ " +
  "tanh tanh_ tensor_split tile to to_dense to_mkldnn to_padded_tensor to_sparse to_sparse_bsc " +
  "to_sparse_bsr to_sparse_coo to_sparse_csc to_sparse_csr tolist topk trace transpose transpose_ " +
  "triangular_solve tril tril_ triu triu_ true_divide true_divide_ trunc trunc_ type type_as unbind " +
  "unflatten unfold uniform_ unique unique_consecutive unsafe_chunk unsafe_split " +
  "unsafe_split_with_sizes unsqueeze unsqueeze_ values var vdot view view_as vsplit where xlogy xlogy_ " +
  "xpu zero_"
  ).split(" "),
);

// ---- loading ---------------------------------------------------------------------------------

/**
 * Reading a checkpoint: `torch.load`, safetensors' loaders, accelerate's checkpoint loaders. This
 * is host work (file I/O, unpickling) that ends with the data in place: a tensor placed on an
 * accelerator while loading (`map_location=device`, `load_state_dict` into device parameters,
 * `param.to(device)`) is a blocking copy from pageable host memory, and ATen makes such a copy
 * wait for the current stream before it returns (`memcpy_and_sync` on CUDA, `copy_and_sync` on
 * MPS). A timing around loading measures loading: it is not a timing of queued compute.
 */
export const LOAD_FUNCTIONS = new Set([
  "torch.load",
  "torch.serialization.load",
  "safetensors.torch.load_file",
  "safetensors.torch.load",
  "safetensors.safe_open",
  "accelerate.load_checkpoint_in_model",
  "accelerate.load_checkpoint_and_dispatch",
  "accelerate.utils.load_checkpoint_in_model",
]);

/**
 * Library constructors that build a model from a checkpoint (`AutoModel.from_pretrained(...)`,
 * diffusers' `from_single_file`): they read and place the weights as above and return the model
 * ready to run. Only calls on a class outside the project count; a project's own
 * `from_pretrained` is judged by its body.
 */
export const LOAD_CONSTRUCTORS = /^(from_pretrained|from_single_file)$/;
/** Classes whose `from_pretrained` reads configuration or vocabulary files, not weights. */
export const NO_WEIGHTS_CLASS = /(Config|Configuration|Tokenizer|TokenizerFast|Processor|FeatureExtractor)$/;

// ---- models -----------------------------------------------------------------------------------

/** Names of things that are models by convention (`model(x)`, `self.net(x)`, `vocoder(mel)`). */
export const MODEL_NAME = /^(model|net|network|module|encoder|decoder|backbone|pipe|pipeline|llm|generator|classifier|detector|transformer|unet|vae|vocoder)$|_(model|net|module|encoder|decoder|vocoder)$|^model_/i;
/**
 * Names like a model that hold something else: a class or factory (`model_cls()`, `Model(...)`
 * constructs), a name, path or configuration.
 */
export const NOT_A_MODEL = /^[A-Z][a-z0-9]|_(cls|class|type|name|names|path|paths|dir|file|id|url|config|cfg|args|kwargs|kind|size)$/;
/** Entry points of a model object. */
export const MODEL_METHODS = new Set(["forward", "generate", "__call__", "predict", "infer", "encode", "decode", "sample"]);

// ---- clocks, threads ----------------------------------------------------------------------------

export const CLOCKS = new Set([
  "time.time",
  "time.perf_counter",
  "time.monotonic",
  "time.time_ns",
  "time.perf_counter_ns",
  "time.monotonic_ns",
  "timeit.default_timer",
]);

/** Calls that hand a value to another thread (or to a shared container). */
export const PUBLISH_METHODS = new Set(["put", "put_nowait", "set_result", "append", "appendleft", "extend", "send"]);

/**
 * Blocking waits for another thread, by method and receiver type: a Future's result, a join, a
 * queue's get, an Event's wait, leaving a `with ThreadPoolExecutor()` block.
 */
export const THREAD_WAITS: Record<string, RegExp> = {
  result: /^concurrent\.futures\.Future$|\.submit$|^concurrent\.futures\.as_completed$/,
  exception: /^concurrent\.futures\.Future$|\.submit$|^concurrent\.futures\.as_completed$/,
  join: /^threading\.Thread$|ThreadPool$|^queue\.\w*Queue$/,
  get: /^queue\.\w*Queue$|ThreadPool\(\)\.(apply_async|map_async)$/,
  wait: /^threading\.(Event|Condition|Barrier)$/,
  map: /ThreadPoolExecutor$|ThreadPool$/,
  shutdown: /ThreadPoolExecutor$/,
  __exit__: /ThreadPoolExecutor$|ThreadPool$/,
};
export const THREAD_WAIT_FUNCTIONS = new Set(["concurrent.futures.wait"]);

/** Locks that serialize device work between threads. */
export const LOCKS = /^threading\.(Lock|RLock|Semaphore|BoundedSemaphore|Condition)$|^multiprocessing\.(Lock|RLock|Semaphore)$/;

// ---- device expressions ---------------------------------------------------------------------------

export function isCpuTarget(e: Expr | undefined): boolean {
  return !!e && e.t === "str" && /^cpu(:\d+)?$/.test(e.value);
}

/** Accelerator device string ("mps", "cuda:0", "xpu"). */
export function isAcceleratorString(e: Expr | undefined): boolean {
  return !!e && e.t === "str" && /^(mps|cuda|xpu|npu|hpu)(:\d+)?$/.test(e.value);
}

/**
 * An expression that names a device by convention: `device`, `dev`, `self.device`,
 * `args.device`, `cfg.device`, `x.device`, `torch.device(...)` of one. Code that places work on
 * such a device is written for an accelerator, whatever a run picks.
 */
export function isDeviceName(e: Expr | undefined): boolean {
  if (!e) return false;
  const name = e.t === "name" ? e.name : e.t === "attr" ? e.attr : null;
  return name !== null && /^(device|dev|_device|\w+_device)$/.test(name);
}
