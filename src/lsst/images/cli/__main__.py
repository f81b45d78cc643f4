"""Allow ``python -m lsst.images.cli``."""

import sys

from . import main

sys.exit(main())
