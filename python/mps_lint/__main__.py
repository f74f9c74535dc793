"""``python -m mps_lint``: the same as the ``mps-lint`` command."""

import sys

from ._run import main

sys.exit(main())
