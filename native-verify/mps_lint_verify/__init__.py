"""mps-lint native verify runner.

Runs a target Python program under instrumentation in the user's own interpreter and reports,
as JSON, what its synchronization costs. Depends only on the standard library and torch.
"""

SCHEMA = "mps-lint-verify/2"
__version__ = "0.1.0"
