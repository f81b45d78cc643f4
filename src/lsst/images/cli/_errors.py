"""How the command-line tool reports failures: one line on stderr and an exit status.

Exit status 2 means the command line was wrong (argparse's own convention,
extended to arguments that are well-formed but do not fit the file, such as a
box outside the image); 1 means the file could not be read.  Python tracebacks
are shown only with ``--debug``.
"""

from __future__ import annotations

__all__ = ("FILE_PROBLEM", "USAGE", "UsageError", "describe_error", "exit_status")

import re

#: Exit status for command-line mistakes.
USAGE = 2
#: Exit status for files that cannot be read or written.
FILE_PROBLEM = 1


class UsageError(ValueError):
    """The arguments are wrong (exit status 2)."""


#: Python keyword advice from the library (``pass visit= explicitly``) and the option that supplies it.
_KEYWORD_ADVICE = re.compile(r"pass (\w+)= explicitly")
#: How the readers' content guard frames an error: the exception type before, a verdict after.
_WRAPPED = re.compile(r"^\w+Error: |\s*\(damaged or unsupported file\)$")


def exit_status(err: BaseException) -> int:
    """Exit status for an exception raised by a command."""
    return USAGE if isinstance(err, UsageError) or _KEYWORD_ADVICE.search(str(err)) else FILE_PROBLEM


def describe_error(err: BaseException) -> str:
    """One-line description of an exception, in terms of command-line options.

    Library messages that tell a Python caller to pass ``visit=`` are rewritten
    to name the option (``--visit``); files the system cannot open (missing,
    a folder, no permission) are reported by name.
    """
    if isinstance(err, OSError) and err.filename is not None:
        # The OS's "No such file or directory" is shortened; our own reasons are kept.
        reason = err.strerror or "cannot be opened"
        if isinstance(err, FileNotFoundError) and not reason.startswith("no such"):
            reason = "no such file"
        text = f"{err.filename}: {reason[:1].lower()}{reason[1:]}"
    else:
        text = str(err) or type(err).__name__
    if _KEYWORD_ADVICE.search(text):
        # A value the file lacks, not a damaged file: drop the wrapper's framing.
        text = _WRAPPED.sub("", text)
    text = _KEYWORD_ADVICE.sub(lambda m: f"pass --{m.group(1).replace('_', '-')}", text)
    return " ".join(text.split())
