"""Damaged copies of FITS files, for fuzz tests of the readers.

Each mutator takes the bytes of a valid file, the file's HDU layout (`hdu_spans`) and a
`random.Random`, and returns a damaged copy of the kind files suffer in practice:
truncation, bit rot in headers and data, hand-edited or garbage card values, absurd
structural sizes, lost or duplicated 2880-byte blocks, runs of zeros, and same-length
edits inside the JSON tree.  They are deterministic for a given generator state, so a
failing case can be replayed from its seed; `mutate` picks one at random.

Nothing here imports a test framework: the hypothesis tests draw the seeds, the
benchmark runner (``benchmarks/fuzz_readers.py``) loops over them.
"""

from __future__ import annotations

__all__ = ("MUTATORS", "HduSpan", "hdu_spans", "mutate")

import dataclasses
import random
import re
from collections.abc import Callable

BLOCK = 2880


@dataclasses.dataclass(frozen=True)
class HduSpan:
    """Where one HDU of a file lies: header ``[start, data)``, data ``[data, stop)``."""

    start: int
    data: int
    stop: int
    keywords: dict[str, int]  # keyword -> byte offset of its card


def hdu_spans(raw: bytes) -> list[HduSpan]:
    """The HDUs of a (valid) FITS file, found by walking headers and data sizes."""
    spans = []
    offset = 0
    while offset + BLOCK <= len(raw):
        if not raw.startswith((b"SIMPLE  =", b"XTENSION="), offset):
            break
        keywords: dict[str, int] = {}
        values: dict[str, str] = {}
        end = None
        for card in range(offset, len(raw) - 79, 80):
            key = raw[card : card + 8].decode("ascii", "replace").strip()
            if key == "END":
                end = card + 80
                break
            keywords.setdefault(key, card)
            if raw[card + 8 : card + 10] == b"= ":
                values[key] = raw[card + 10 : card + 80].decode("ascii", "replace").split("/")[0].strip()
        if end is None:
            break
        data = -(-end // BLOCK) * BLOCK
        try:
            naxis = int(values.get("NAXIS", "0"))
            count = 1 if naxis else 0
            for i in range(1, naxis + 1):
                count *= int(values[f"NAXIS{i}"])
            size = abs(int(values["BITPIX"])) // 8 * (count + int(values.get("PCOUNT", "0")))
        except (KeyError, ValueError):
            break
        stop = data + -(-size // BLOCK) * BLOCK
        spans.append(HduSpan(offset, data, min(stop, len(raw)), keywords))
        offset = stop
    return spans


def _pick_hdu(spans: list[HduSpan], rng: random.Random, with_data: bool = False) -> HduSpan:
    choices = [s for s in spans if s.stop > s.data] if with_data else spans
    return rng.choice(choices or spans)


def truncate(raw: bytes, spans: list[HduSpan], rng: random.Random) -> bytes:
    """Cut the file at a random offset (sometimes at a block boundary)."""
    cut = rng.randrange(0, len(raw))
    if rng.random() < 0.3:
        cut -= cut % BLOCK
    return raw[:cut]


def flip_header_bits(raw: bytes, spans: list[HduSpan], rng: random.Random) -> bytes:
    """Flip 1-3 random bits inside header cards (before END)."""
    out = bytearray(raw)
    hdu = _pick_hdu(spans, rng)
    last = max(hdu.keywords.values(), default=hdu.start) + 80
    for _ in range(rng.randint(1, 3)):
        out[rng.randrange(hdu.start, last)] ^= 1 << rng.randrange(8)
    return bytes(out)


def flip_data_bits(raw: bytes, spans: list[HduSpan], rng: random.Random) -> bytes:
    """Flip 1-3 random bits inside one HDU's data part."""
    out = bytearray(raw)
    hdu = _pick_hdu(spans, rng, with_data=True)
    if hdu.stop <= hdu.data:
        return flip_header_bits(raw, spans, rng)
    for _ in range(rng.randint(1, 3)):
        out[rng.randrange(hdu.data, hdu.stop)] ^= 1 << rng.randrange(8)
    return bytes(out)


_GARBAGE = [
    "'garbage'",
    "-1",
    "0",
    "1.5E+300",
    "NaN",
    "T",
    "''",
    "'",
    "99999999999999999999",
    "-2147483649",
    "1e9",
    "(1, 2)",
    "\x00\x01\xff",
    "'é'",
]


def _set_value(out: bytearray, card: int, value: str) -> None:
    text = value.encode("latin-1", "replace")[:70].ljust(70)
    out[card + 10 : card + 80] = text


def garbage_card_value(raw: bytes, spans: list[HduSpan], rng: random.Random) -> bytes:
    """Replace the value of a random valued card with garbage (non-ASCII too)."""
    out = bytearray(raw)
    hdu = _pick_hdu(spans, rng)
    valued = [c for c in hdu.keywords.values() if raw[c + 8 : c + 10] == b"= "]
    if not valued:
        return flip_header_bits(raw, spans, rng)
    _set_value(out, rng.choice(valued), rng.choice(_GARBAGE))
    return bytes(out)


_STRUCTURAL = re.compile(
    r"^(NAXIS\d?|ZNAXIS\d?|PCOUNT|THEAP|TFORM\d+|ZTILE\d|TFIELDS|BITPIX|ZBITPIX|GCOUNT)$"
)
_ABSURD = ["0", "-1", "1", "7", "1000000000", "999999999999", "2147483647", "-2147483648", "4", "3"]
_ABSURD_TFORM = ["'1PB(0)'", "'1QB(99999999999)'", "'9999999J'", "'1PE'", "'X'", "'1PB(-5)'", "'0A'"]


def absurd_structure(raw: bytes, spans: list[HduSpan], rng: random.Random) -> bytes:
    """Set a structural card (NAXISn, ZNAXISn, PCOUNT, THEAP, TFORMn, ZTILEn, ...) to an absurd value."""
    out = bytearray(raw)
    cards = [(hdu, k, c) for hdu in spans for k, c in hdu.keywords.items() if _STRUCTURAL.match(k)]
    if not cards:
        return garbage_card_value(raw, spans, rng)
    _, key, card = rng.choice(cards)
    value = rng.choice(_ABSURD_TFORM if key.startswith("TFORM") else _ABSURD)
    if rng.random() < 0.3 and not key.startswith("TFORM"):
        value = str(
            int(float(raw[card + 10 : card + 30].split(b"/")[0] or b"0") or 1) * rng.choice([2, 10, 1000])
        )
    _set_value(out, card, value)
    return bytes(out)


def delete_block(raw: bytes, spans: list[HduSpan], rng: random.Random) -> bytes:
    """Remove one 2880-byte block."""
    n = len(raw) // BLOCK
    k = rng.randrange(n)
    return raw[: k * BLOCK] + raw[(k + 1) * BLOCK :]


def duplicate_block(raw: bytes, spans: list[HduSpan], rng: random.Random) -> bytes:
    """Insert a copy of one 2880-byte block after itself."""
    n = len(raw) // BLOCK
    k = rng.randrange(n)
    return raw[: (k + 1) * BLOCK] + raw[k * BLOCK : (k + 1) * BLOCK] + raw[(k + 1) * BLOCK :]


def zero_run(raw: bytes, spans: list[HduSpan], rng: random.Random) -> bytes:
    """Overwrite a run of 1 byte .. 2 blocks with zeros."""
    length = rng.choice([1, 4, 8, 80, 512, BLOCK, 2 * BLOCK])
    start = rng.randrange(0, max(1, len(raw) - length))
    return raw[:start] + b"\0" * min(length, len(raw) - start) + raw[start + length :]


_JSON_TOKEN = re.compile(rb'-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|"[A-Za-z_][A-Za-z0-9_]*"|[\[\]{}]')
_BRACKETS = {b"[": b"{", b"{": b"[", b"]": b"}", b"}": b"]"}


def edit_json(raw: bytes, spans: list[HduSpan], rng: random.Random) -> bytes:
    """A same-length edit of a token of the JSON tree: a number, a name or a bracket."""
    json_hdus = [s for s in spans if b"'JSON    '" in raw[s.start : s.data]]
    if not json_hdus:
        return flip_data_bits(raw, spans, rng)
    hdu = json_hdus[0]
    matches = list(_JSON_TOKEN.finditer(raw, hdu.data, hdu.stop))
    if not matches:
        return flip_data_bits(raw, spans, rng)
    match = rng.choice(matches)
    token = match.group()
    if token in _BRACKETS:
        new = _BRACKETS[token] if rng.random() < 0.5 else rng.choice([b"[", b"]", b"{", b"}", b",", b'"'])
    elif token.startswith(b'"'):
        letters = bytearray(token)
        i = rng.randrange(1, len(token) - 1)
        letters[i] = rng.choice(b"abcdefghijklmnopqrstuvwxyzXYZ_0")
        new = bytes(letters)
    else:
        digits = bytearray(token)
        positions = [i for i, c in enumerate(digits) if chr(c).isdigit()]
        i = rng.choice(positions)
        digits[i] = rng.choice(b"0123456789")
        if rng.random() < 0.2:
            digits[0:1] = b"-" if digits[0:1] != b"-" else b"9"
        new = bytes(digits)
    out = bytearray(raw)
    out[match.start() : match.end()] = new[: len(token)].ljust(len(token), b" ")
    return bytes(out)


#: Name -> mutator, in the order of the issue's list.
MUTATORS: dict[str, Callable[[bytes, list[HduSpan], random.Random], bytes]] = {
    "truncate": truncate,
    "flip_header_bits": flip_header_bits,
    "flip_data_bits": flip_data_bits,
    "garbage_card_value": garbage_card_value,
    "absurd_structure": absurd_structure,
    "delete_block": delete_block,
    "duplicate_block": duplicate_block,
    "zero_run": zero_run,
    "edit_json": edit_json,
}


def mutate(
    raw: bytes, seed: int, kind: str | None = None, spans: list[HduSpan] | None = None
) -> tuple[str, bytes]:
    """A damaged copy of ``raw`` made by mutator ``kind`` (random if None) with ``seed``."""
    rng = random.Random(seed)
    name = kind if kind is not None else rng.choice(list(MUTATORS))
    layout = spans if spans is not None else hdu_spans(raw)
    if not layout:
        return "truncate", truncate(raw, layout, rng)
    return name, MUTATORS[name](raw, layout, rng)
