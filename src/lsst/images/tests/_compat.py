"""Let the test helpers be called both as Rubin's 2100 release and as its 4300 release calls them.

In 30.2026.2100 every helper takes the running `unittest.TestCase` first and
reports failures through it (``assert_images_equal(self, a, b)``); in
30.2026.4300 the test case was dropped (``assert_images_equal(a, b)``) and
``*projection*`` became ``*sky_projection*``.  Both forms are unambiguous --
no helper's second-release first argument can be a `unittest.TestCase` -- so
`optional_test_case` accepts either: without a test case, assertions are made
through a plain `unittest.TestCase` instance, which raises `AssertionError`
(and `unittest.SkipTest`) as pytest expects.
"""

from __future__ import annotations

__all__ = ("optional_test_case",)

import functools
import unittest
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

C = TypeVar("C", bound=Callable[..., Any])

#: Assertion provider used when a helper is called without a test case (4300 style).
DEFAULT_TEST_CASE = unittest.TestCase()


def optional_test_case(renamed: Mapping[str, str] | None = None) -> Callable[[C], C]:
    """Decorate a helper whose first parameter is ``tc`` so that ``tc`` may be left out.

    Parameters
    ----------
    renamed
        Keyword arguments renamed by the later release, ``{new_name: name}``
        (e.g. ``{"sky_projection": "projection"}``), accepted as aliases.
    """
    aliases = dict(renamed or {})

    def decorate(func: C) -> C:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for new, old in aliases.items():
                if new in kwargs:
                    if old in kwargs:
                        raise TypeError(f"{func.__name__}() got both {old!r} and its alias {new!r}.")
                    kwargs[old] = kwargs.pop(new)
            if "tc" not in kwargs and not (args and isinstance(args[0], unittest.TestCase)):
                args = (DEFAULT_TEST_CASE, *args)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
