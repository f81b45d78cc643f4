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
COMMANDS = ("info", "describe", "show", "cutout", "convert")


def _version() -> str:
    from ..version import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every available sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="lsst-images",
        description="Inspect and cut Rubin lsst.images FITS files (Image, Mask, MaskedImage, VisitImage).",
    )
    parser.add_argument("--version", action="version", version=f"lsst-images {_version()}")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks on errors")
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
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tool; returns the process exit status (0 on success).

    Errors are one line on stderr: status 2 for usage errors (argparse's and
    `UsageError`), 1 for files that cannot be read; ``--debug`` re-raises
    them with their traceback instead.
    """
    from ._errors import describe_error, exit_status

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print(f"lsst-images {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``lsst-images describe FILE | head``): stop quietly, as
        # Unix tools do, and keep Python from reporting it again when it flushes stdout.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as err:
        if args.debug:
            raise
        print(f"lsst-images {args.command}: error: {describe_error(err)}", file=sys.stderr)
        return exit_status(err)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
