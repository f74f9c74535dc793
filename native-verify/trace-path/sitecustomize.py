# mps-lint trace: put on PYTHONPATH by `mps-lint trace -- <command>`. It installs the runtime
# witness's hooks (mps_lint_trace) when MPS_LINT_TRACE is set, then runs the sitecustomize this
# one shadows (Debian's, a virtual environment's), exactly as site.py would have.
import os as _os
import sys as _sys


def _mps_lint_trace_install():
    if not _os.environ.get("MPS_LINT_TRACE"):
        return
    write = _sys.dont_write_bytecode
    _sys.dont_write_bytecode = True  # our modules leave no __pycache__ behind
    try:
        from mps_lint_trace.runtime import install_from_environment
        install_from_environment()
    except Exception:
        pass  # the program runs untraced rather than differently
    finally:
        _sys.dont_write_bytecode = write


def _mps_lint_trace_chain():
    import importlib.machinery
    import importlib.util
    here = _os.path.dirname(_os.path.abspath(__file__))
    path = [p for p in _sys.path if _os.path.abspath(p or _os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None:
        return
    mod = importlib.util.module_from_spec(spec)
    _sys.modules["sitecustomize"] = mod
    spec.loader.exec_module(mod)  # its errors reach site.py as its own would


_mps_lint_trace_install()
_mps_lint_trace_chain()
