"""mps-lint's runtime witness, and its pytest plugin.

    pytest -p mps_lint_trace [--mps-lint-trace FILE] [--mps-lint-trace-device cpu|cuda|mps]

with this folder (native-verify/trace-path, printed by `mps-lint trace --plugin-path`) on
PYTHONPATH. Loaded with -p, or enabled with --mps-lint-trace when the plugin is registered in
the configuration (`-p mps_lint_trace` in addopts, `pytest_plugins`), the plugin traces the test
session in this process and writes its record to FILE (default mps-lint-trace.json in the
folder pytest was started in); `mps-lint trace --from FILE` joins it with the static findings.
Under `mps-lint trace -- pytest ...` the hooks are already installed (sitecustomize) and the
plugin only tells them which test is running.
"""

import os

DEFAULT_FILE = "mps-lint-trace.json"


def pytest_addoption(parser):
    group = parser.getgroup("mps-lint", "mps-lint runtime witness")
    group.addoption("--mps-lint-trace", dest="mps_lint_trace", metavar="FILE", nargs="?",
                    const=DEFAULT_FILE, default=None,
                    help="trace device waits, Events and threads during the tests; write the record "
                         "to FILE (default %s)" % DEFAULT_FILE)
    group.addoption("--mps-lint-trace-device", dest="mps_lint_trace_device", default=None,
                    choices=["auto", "cpu", "cuda", "mps", "xpu"],
                    help="re-target device calls to this device, as mps-lint --verify does")


def _explicitly_loaded(config):
    names = getattr(getattr(config, "known_args_namespace", None), "plugins", None) or []
    return "mps_lint_trace" in names


def pytest_configure(config):
    from . import runtime
    out = config.getoption("mps_lint_trace")
    if out is None and _explicitly_loaded(config):
        out = DEFAULT_FILE
    config._mps_lint_trace_file = None
    if out is not None:
        base = str(getattr(getattr(config, "invocation_params", None), "dir", None) or os.getcwd())
        config._mps_lint_trace_file = os.path.join(base, out)
        runtime.install("pytest", config.getoption("mps_lint_trace_device"))
    config._mps_lint_tracer = runtime.tracer()


def pytest_runtest_logstart(nodeid, location):
    from . import runtime
    tr = runtime.tracer()
    if tr is not None:
        tr.current_test = nodeid


def pytest_runtest_logfinish(nodeid, location):
    from . import runtime
    tr = runtime.tracer()
    if tr is not None:
        tr.current_test = None


def pytest_unconfigure(config):
    path = getattr(config, "_mps_lint_trace_file", None)
    if path:
        from . import runtime
        try:
            runtime.write_file(path)
        except Exception as e:  # the tests' outcome is not ours to change
            import sys
            sys.stderr.write("mps-lint trace: could not write %s: %s\n" % (path, e))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    path = getattr(config, "_mps_lint_trace_file", None)
    if path:
        terminalreporter.write_line("mps-lint trace: record written to %s at the end of the session; "
                                    "join it with `mps-lint trace --from %s`" % (path, path))
