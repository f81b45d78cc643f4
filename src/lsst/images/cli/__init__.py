"""The ``lsst-images`` command-line tool.

Sub-commands live in small modules of this package (``_info``, ``_cutout``, ...); each
provides ``add_parser(subparsers)`` and ``run(args) -> int``.  Modules are looked up
by name, so adding a command means adding a module and its name to `COMMANDS`.
"""

from __future__ import annotations

__all__ = ("COMMANDS", "main")

import argparse
import importlib
import sys
from collections.abc import Sequence

#: Sub-command modules, in the order ``--help`` lists them.
COMMANDS = ("info", "cutout", "convert")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every available sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="lsst-images",
        description="Inspect and cut Rubin lsst.images FITS files (Image, Mask, MaskedImage, VisitImage).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"{__name__}._{name}")
        except ImportError as err:
            if err.name != f"{__name__}._{name}":
                raise
            continue
        sub = module.add_parser(subparsers)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tool; returns the process exit status (0 on success)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except (OSError, RuntimeError, ValueError, IndexError, TypeError) as err:
        print(f"lsst-images {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
