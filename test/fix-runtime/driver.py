"""Run one fix fixture as __main__ and print what it did, for test/fix-runtime.test.ts.

    python3 driver.py SCRIPT [--stand-in-mps] [--without-torch] [--import]

The test runs every fixtures/fix/<case>.py and its fixed form through this driver and compares
the output: same lines, same exit status, no new exception (a thread's uncaught exception is
printed too, so a worker that dies is seen even when the main thread goes on).

--stand-in-mps: where this torch has no usable MPS backend (Linux, torch 1.13's missing torch.mps),
torch.mps is replaced by a CPU stand-in whose synchronize() and Event only order host work (they
have nothing to wait for: every tensor is on the CPU then). The fixture itself picks its device
(`"mps" if torch.backends.mps.is_available() else "cpu"`), so the stand-in never sees a tensor.
Only fixtures whose code calls torch.mps unguarded use it; fixtures that check the backend first
run on the real torch, so a fix that calls a backend the original never called fails here.

--without-torch: `import torch` raises ImportError, as on a machine without torch.

--import: import the file as a module (its `if __name__ == "__main__":` part does not run) and
print "imported": a test runner or another module importing it (issue 30: a fix that put a helper
above the module's own `import threading` broke exactly this).
"""

import runpy
import sys
import threading
import types


def install_mps_stand_in():
    import torch

    backend = getattr(torch.backends, "mps", None)
    if backend is not None and backend.is_available():
        return  # a real MPS device: nothing to stand in for
    mps = types.ModuleType("torch.mps")

    class Event:
        def __init__(self, enable_timing=False):
            self.recorded = False

        def record(self, stream=None):
            self.recorded = True

        def synchronize(self):
            pass

        def wait(self, stream=None):
            pass

        def query(self):
            return True

    mps.Event = Event
    mps.synchronize = lambda: None
    torch.mps = mps
    sys.modules["torch.mps"] = mps


class NoTorch:
    """A meta path finder that makes `import torch` fail."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch' (blocked by the fix-runtime driver)")
        return None


def main():
    args = sys.argv[1:]
    script = args[0]
    if "--without-torch" in args:
        sys.meta_path.insert(0, NoTorch())
    if "--stand-in-mps" in args:
        install_mps_stand_in()

    def report_thread_exception(hook_args):
        print("THREAD EXCEPTION: %s: %s" % (hook_args.exc_type.__name__, hook_args.exc_value), flush=True)

    threading.excepthook = report_thread_exception
    sys.argv = [script]
    as_module = "--import" in args
    try:
        runpy.run_path(script, run_name="fixture_under_test" if as_module else "__main__")
        if as_module:
            print("imported", flush=True)
    except SystemExit:
        raise
    except BaseException as e:  # the comparison needs the exception as output
        print("EXCEPTION: %s: %s" % (type(e).__name__, e), flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
