"""``python -m lsst.images``: the ``lsst-images`` command."""

import sys

from .cli import main

sys.exit(main())
