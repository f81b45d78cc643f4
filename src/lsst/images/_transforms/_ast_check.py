"""A strict check of AST native text before starlink-pyast parses it.

AST's text reader trusts its input: a damaged dump -- a FrameSet whose ``FrmN`` items
name a frame beyond ``Nframe``, say -- can crash the process (a segfault inside AST) or
leave AST's error status set so that an unrelated later call fails.  Files are untrusted,
so every dump read from a file passes through `check_ast_text` first: it parses the
line grammar AST writes (``Begin``/``End`` blocks, ``IsA`` markers, ``key = value`` items
with numeric, quoted or nested values, comments) and the FrameSet bookkeeping that AST
indexes by (frame, node and mapping numbers), and refuses anything else with a
`ValueError` that names the line.  It never rejects text AST itself wrote.
"""

from __future__ import annotations

__all__ = ("check_ast_text",)

import re
from collections.abc import Iterable

#: Deepest nesting of ``Begin`` blocks accepted (real dumps stay below 20).
MAX_DEPTH = 100

#: Most lines accepted in one dump (a large distortion model is a few thousand).
MAX_LINES = 1_000_000

#: Most frames or nodes in one FrameSet.
MAX_FRAMES = 1000

_BLOCK = re.compile(r"(Begin|End|IsA)\s+([A-Za-z][A-Za-z0-9]*)\s*(?:#.*)?$")
_ITEM = re.compile(r"([A-Za-z][A-Za-z0-9_]*(?:\(\d{1,6}\))?)\s*=\s*(.*)$")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eEdD][-+]?\d+)?|<bad>|[-+]?(?:nan|inf|NaN|Inf)")
_INDEXED = re.compile(r"(Frm|Map|Lnk|Inv|Nod)(\d{1,6})$")


class _FrameSetItems:
    """The items of one FrameSet block that AST uses as array indices."""

    def __init__(self, line: int) -> None:
        self.line = line
        self.scalars: dict[str, tuple[int, int]] = {}  # key -> (value, line)
        self.indexed: dict[str, dict[int, tuple[int | None, int]]] = {
            "Frm": {},
            "Map": {},
            "Lnk": {},
            "Inv": {},
            "Nod": {},
        }

    def add(self, key: str, value: float | None, line: int, fail: _Fail) -> None:
        match = _INDEXED.match(key)
        if match is not None:
            items = self.indexed[match.group(1)]
            index = int(match.group(2))
            if index in items:
                fail(line, f"duplicate item {key}")
            items[index] = (None if value is None else _integer(value, key, line, fail), line)
        elif key in ("Nframe", "Nnode", "Base", "Currnt"):
            if value is None:
                fail(line, f"{key} needs a number")
            self.scalars[key] = (_integer(value, key, line, fail), line)

    def check(self, fail: _Fail) -> None:
        frames = self.scalars.get("Nframe", (1, self.line))[0]
        if not 1 <= frames <= MAX_FRAMES:
            fail(self.scalars["Nframe"][1], f"Nframe = {frames} is not between 1 and {MAX_FRAMES}")
        nodes = self.scalars.get("Nnode", (frames, self.line))[0]
        if not frames <= nodes <= MAX_FRAMES:
            fail(self.scalars["Nnode"][1], f"Nnode = {nodes} is not between Nframe and {MAX_FRAMES}")
        got = set(self.indexed["Frm"])
        if got != set(range(1, frames + 1)):
            bad = sorted(got - set(range(1, frames + 1))) or sorted(set(range(1, frames + 1)) - got)
            fail(self.line, f"FrameSet with Nframe = {frames} has frame items {sorted(got)} (bad: {bad})")
        for key in ("Base", "Currnt"):
            if key in self.scalars and not 1 <= self.scalars[key][0] <= frames:
                value, line = self.scalars[key]
                fail(line, f"{key} = {value} is not a frame of this FrameSet (1..{frames})")
        for kind in ("Map", "Lnk", "Inv"):
            for index, (_, line) in self.indexed[kind].items():
                if not 2 <= index <= nodes:
                    fail(line, f"{kind}{index} names no node of this FrameSet (2..{nodes})")
        for index, (value, line) in self.indexed["Lnk"].items():
            if value is None or not 1 <= value <= nodes or value == index:
                fail(line, f"Lnk{index} = {value} is not another node of this FrameSet (1..{nodes})")
        for index, (value, line) in self.indexed["Nod"].items():
            if not 1 <= index <= frames or value is None or not 1 <= value <= nodes:
                fail(line, f"Nod{index} = {value} does not map a frame (1..{frames}) to a node (1..{nodes})")


class _Fail:
    def __call__(self, line: int, message: str) -> None:
        raise ValueError(f"invalid AST text, line {line}: {message}")


def _integer(value: float, key: str, line: int, fail: _Fail) -> int:
    if value != int(value):
        fail(line, f"{key} = {value} is not an integer")
    return int(value)


def _number(text: str) -> float:
    if text == "<bad>":
        return float("nan")
    return float(text.replace("d", "e").replace("D", "e"))


def _value(rest: str, line: int, fail: _Fail) -> tuple[str, str]:
    """Split an item's value from its trailing comment: ``(kind, token)``."""
    rest = rest.strip()
    if not rest or rest.startswith("#"):
        return "nested", ""
    if rest.startswith('"'):
        # AST writes a quote inside a string as two quotes.
        i = 1
        while True:
            j = rest.find('"', i)
            if j < 0:
                fail(line, "unterminated string")
            if rest[j + 1 : j + 2] == '"':
                i = j + 2
                continue
            tail = rest[j + 1 :].strip()
            if tail and not tail.startswith("#"):
                fail(line, f"unexpected text after a string: {tail[:40]!r}")
            return "string", rest[1:j]
    token, _, tail = rest.partition("#")
    token = token.strip()
    if not _NUMBER.fullmatch(token):
        fail(line, f"value {token[:40]!r} is neither a number nor a quoted string")
    return "number", token


def check_ast_text(lines: Iterable[str]) -> None:
    """Refuse AST native text that AST did not write (see the module docstring).

    Parameters
    ----------
    lines
        The dump, one AST line per item (as an AST channel reads it).

    Raises
    ------
    ValueError
        If the text breaks AST's line grammar or a FrameSet's bookkeeping; the message
        gives the (1-based) line and the problem.
    """
    fail = _Fail()
    stack: list[tuple[str, int, _FrameSetItems | None]] = []
    pending_nested: int | None = None  # line of an item whose value is the next Begin block
    seen_object = False
    count = 0
    for count, raw in enumerate(lines, start=1):
        if count > MAX_LINES:
            fail(count, f"more than {MAX_LINES} lines")
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        block = _BLOCK.match(text)
        if block is not None:
            word, name = block.groups()
            if word == "Begin":
                if stack and pending_nested is None:
                    fail(count, f"Begin {name} is not the value of an item")
                if not stack and seen_object:
                    fail(count, "more than one object")
                if len(stack) >= MAX_DEPTH:
                    fail(count, f"objects nested deeper than {MAX_DEPTH}")
                stack.append((name, count, _FrameSetItems(count) if name == "FrameSet" else None))
                pending_nested = None
                seen_object = True
            elif word == "End":
                if pending_nested is not None:
                    fail(pending_nested, "item has no value")
                if not stack or stack[-1][0] != name:
                    opened = stack[-1][0] if stack else "nothing"
                    fail(count, f"End {name} closes {opened}")
                _, _, frame_set = stack.pop()
                if frame_set is not None:
                    frame_set.check(fail)
            elif not stack:
                fail(count, f"IsA {name} outside an object")
            continue
        item = _ITEM.match(text)
        if item is None or not stack:
            fail(count, f"not an AST item: {text[:60]!r}")
        assert item is not None
        if pending_nested is not None:
            fail(pending_nested, "item has no value")
        key, rest = item.groups()
        kind, token = _value(rest, count, fail)
        frame_set = stack[-1][2]
        if kind == "nested":
            pending_nested = count
            if frame_set is not None:
                frame_set.add(key, None, count, fail)
        elif frame_set is not None:
            frame_set.add(key, _number(token) if kind == "number" else None, count, fail)
    if pending_nested is not None:
        fail(pending_nested, "item has no value")
    if stack:
        fail(count, f"Begin {stack[-1][0]} (line {stack[-1][1]}) is never closed")
