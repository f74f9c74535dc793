"""Device selection and environment description, shared by the verify harness and the bench."""

import os
import platform
import sys

ACCELERATORS = ("mps", "cuda", "xpu")

CPU_NOTE = (
    "CPU run: measures mechanics only (which threads sync, how often); a CPU has no "
    "accelerator queue, so blocked times and the slowdown say nothing about MPS/CUDA cost"
)


def accelerator_available(torch, kind):
    try:
        if kind == "mps":
            b = getattr(torch.backends, "mps", None)
            return bool(b is not None and b.is_available())
        if kind == "cuda":
            return bool(torch.cuda.is_available())
        if kind == "xpu":
            x = getattr(torch, "xpu", None)
            return bool(x is not None and x.is_available())
    except Exception:
        return False
    return False


def pick_device(torch, requested=None):
    """`requested` in (None, 'auto', 'mps', 'cuda', 'xpu', 'cpu'). Raises ValueError if the
    requested accelerator is not available."""
    if requested and requested != "auto":
        if requested != "cpu" and not accelerator_available(torch, requested):
            raise ValueError("device %r requested but not available in this torch (%s)"
                             % (requested, torch.__version__))
        return requested
    for kind in ("mps", "cuda"):
        if accelerator_available(torch, kind):
            return kind
    return "cpu"


def torch_build(torch):
    v = getattr(torch, "version", None)
    parts = []
    if v is not None and getattr(v, "cuda", None):
        parts.append("CUDA " + str(v.cuda))
    if v is not None and getattr(v, "hip", None):
        parts.append("ROCm " + str(v.hip))
    try:
        if torch.backends.mps.is_built():
            parts.append("MPS")
    except Exception:
        pass
    try:
        if hasattr(torch, "xpu") and torch.xpu.is_available():
            parts.append("XPU")
    except Exception:
        pass
    return ", ".join(parts) if parts else "CPU-only"


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "CPU"


def device_name(torch, device):
    try:
        if device == "cuda":
            return torch.cuda.get_device_name(torch.cuda.current_device())
        if device == "mps":
            return "Apple GPU (MPS, %s)" % (platform.machine() or "arm64")
        if device == "xpu":
            return torch.xpu.get_device_name(0)
    except Exception:
        pass
    if device == "cpu":
        return cpu_name()
    return device


def environment(torch, device):
    env = {
        "python": sys.executable,
        "python_version": platform.python_version(),
        "torch": str(torch.__version__),
        "torch_build": torch_build(torch),
        "device": device,
        "device_name": device_name(torch, device),
        "accelerator": device != "cpu",
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
    }
    if device == "cpu":
        env["note"] = CPU_NOTE
    return env


def device_synchronize(torch, device):
    """The un-instrumented device-wide sync for `device` (no-op on CPU)."""
    if device == "cuda":
        torch.cuda.synchronize()
    elif device == "mps":
        torch.mps.synchronize()
    elif device == "xpu":
        torch.xpu.synchronize()
