"""``python -m uniq_core``: list the experiments, or run one headless (see :mod:`uniq_core.cli`)."""

import sys

from uniq_core.cli import main

sys.exit(main())
