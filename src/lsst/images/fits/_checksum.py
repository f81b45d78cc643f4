"""The FITS checksum convention: ``DATASUM`` and ``CHECKSUM`` cards, computed and verified.

An HDU's checksum is the 32-bit ones-complement sum of its bytes read as big-endian
32-bit words.  ``DATASUM`` holds the sum of the data part (as an unsigned decimal
string); ``CHECKSUM`` is a 16-character ASCII encoding chosen so that the sum over the
whole HDU -- header, with the ``CHECKSUM`` card itself, plus data -- is negative zero
(``0xFFFFFFFF``).  That is what astropy (``checksum=True``), fitsio and CFITSIO write
and verify.

Ones-complement addition with end-around carry is addition modulo ``2**32 - 1``, which
makes the sum linear: a buffer that starts ``k`` bytes into a word contributes its own
word-aligned sum times ``256**-k``.  Pieces of a data part can therefore be summed
separately (in any thread, in any order) and combined, and every sum is one vectorized
numpy reduction -- no Python loop over words.  Compressed HDUs are covered like any
other BINTABLE (the ``DATASUM`` covers the tile table and its heap, i.e. exactly the
bytes on disk), which is also how CFITSIO checksums a compressed image's table.
"""

from __future__ import annotations

__all__ = (
    "MODULUS",
    "ChecksumMismatchError",
    "SumAccumulator",
    "card_values",
    "checksum_cards",
    "checksum_string",
    "combine",
    "data_sum",
    "header_with_checksum",
    "ones_sum",
    "parse_datasum",
    "sealed_header_bytes",
    "sealed_header_bytes_for_sum",
    "verify_data",
    "verify_header",
)

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from ._common import InvalidFitsArchiveError

if TYPE_CHECKING:
    import astropy.io.fits

#: Ones-complement arithmetic on 32-bit words is arithmetic modulo this number.
MODULUS = 0xFFFFFFFF

#: Bytes summed by one numpy reduction; bounds the uint64 accumulator far below overflow.
_REDUCE_MAX = 1 << 30

#: Small pieces are copied into a scratch buffer of this size and summed together, so
#: that thousands of tile payloads cost a few reductions instead of one each.
_SCRATCH = 1 << 20

#: Characters the encoding avoids (punctuation between the digits and the letters).
_EXCLUDED = frozenset(range(0x3A, 0x41)) | frozenset(range(0x5B, 0x61))

#: Placeholder value written before the real CHECKSUM is known (same width).
_PLACEHOLDER = "0" * 16


class ChecksumMismatchError(InvalidFitsArchiveError):
    """An HDU's bytes do not add up to its ``DATASUM``/``CHECKSUM`` cards (corrupted file)."""


def ones_sum(buffer: Any, offset: int = 0) -> int:
    """Ones-complement sum (modulo ``2**32 - 1``) of ``buffer`` placed at byte ``offset``.

    Parameters
    ----------
    buffer
        Any contiguous buffer (bytes, memoryview, numpy array).
    offset
        Position of the buffer's first byte in the HDU part being summed; only
        ``offset % 4`` matters.

    Returns
    -------
    int
        The contribution of these bytes to the part's sum, in ``[0, 2**32 - 2]``.
    """
    data = np.frombuffer(buffer, dtype=np.uint8) if not isinstance(buffer, np.ndarray) else buffer
    data = data.reshape(-1).view(np.uint8)
    total = 0
    n = len(data)
    whole = n - n % 4
    for start in range(0, whole, _REDUCE_MAX):
        stop = min(whole, start + _REDUCE_MAX)
        total += int(data[start:stop].view(">u4").sum(dtype=np.uint64))
    if whole < n:
        tail = bytes(data[whole:]) + b"\0" * (4 - (n - whole))
        total += int.from_bytes(tail, "big")
    return _shift(total % MODULUS, offset)


def _shift(value: int, offset: int) -> int:
    """Move a word-aligned sum to start ``offset`` bytes into a word (a rotation right)."""
    k = offset % 4
    if k == 0:
        return value
    return (value * pow(256, 4 - k, MODULUS)) % MODULUS


def combine(values: Iterable[int]) -> int:
    """Add ones-complement sums (modulo ``2**32 - 1``)."""
    return sum(values) % MODULUS


class SumAccumulator:
    """Sum of consecutive buffers (one HDU's data part, written as many pieces).

    Pieces smaller than the scratch buffer are copied into it and reduced together; big
    pieces are reduced in place.  ``position`` is the number of bytes added so far.
    """

    def __init__(self) -> None:
        self.position = 0
        self._value = 0
        self._scratch = bytearray(_SCRATCH)
        self._filled = 0
        self._scratch_start = 0

    def add(self, buffer: Any) -> None:
        """Append ``buffer`` to the summed byte stream."""
        view = memoryview(buffer).cast("B")
        n = len(view)
        if n == 0:
            return
        if n >= _SCRATCH // 4:
            self._flush()
            self._value += ones_sum(view, self.position)
            self.position += n
            self._scratch_start = self.position
            return
        if self._filled + n > _SCRATCH:
            self._flush()
        self._scratch[self._filled : self._filled + n] = view
        self._filled += n
        self.position += n

    def _flush(self) -> None:
        if self._filled:
            self._value += ones_sum(memoryview(self._scratch)[: self._filled], self._scratch_start)
        self._filled = 0
        self._scratch_start = self.position

    @property
    def value(self) -> int:
        """The ones-complement sum of everything added (modulo ``2**32 - 1``)."""
        self._flush()
        self._value %= MODULUS
        return self._value


def data_sum(parts: Iterable[Any]) -> int:
    """Ones-complement sum of the concatenation of ``parts``."""
    acc = SumAccumulator()
    for part in parts:
        acc.add(part)
    return acc.value


def checksum_string(value: int) -> str:
    """The 16-character ``CHECKSUM`` encoding of the complement of ``value``.

    Each byte of the complemented sum is spread over four characters (a quarter each,
    the remainder on the first), starting from ``'0'``, with pairs nudged up/down to
    avoid punctuation; the result is rotated by one character because the value of a
    ``CHECKSUM`` card starts at byte 11 of the card (an odd word position).
    """
    value = (~value) & 0xFFFFFFFF
    chars = bytearray(16)
    for i in range(4):
        byte = (value >> (24 - 8 * i)) & 0xFF
        quotient, remainder = divmod(byte, 4)
        ch = [quotient + 0x30] * 4
        ch[0] += remainder
        changed = True
        while changed:
            changed = False
            for j in (0, 2):
                if ch[j] in _EXCLUDED or ch[j + 1] in _EXCLUDED:
                    ch[j] += 1
                    ch[j + 1] -= 1
                    changed = True
        for j in range(4):
            chars[4 * j + i] = ch[j]
    return (chars[15:] + chars[:15]).decode("ascii")


def header_with_checksum(header_bytes: bytes, datasum: int) -> bytes:
    """Fill in the ``CHECKSUM`` placeholder of serialized header bytes.

    ``header_bytes`` must hold a ``CHECKSUM = '0000000000000000'`` card and a
    ``DATASUM`` card for ``datasum`` (see `checksum_cards`); the placeholder is replaced
    in place, so the header keeps its length.
    """
    position = _card_position(header_bytes, b"CHECKSUM")
    if position is None:
        raise ValueError("header has no CHECKSUM card to fill in")
    start = position + 11
    if header_bytes[start : start + 16] != _PLACEHOLDER.encode():
        raise ValueError("the CHECKSUM card does not hold the placeholder value")
    total = combine([ones_sum(header_bytes), datasum])
    encoded = checksum_string(total).encode("ascii")
    return header_bytes[:start] + encoded + header_bytes[start + 16 :]


def checksum_cards(datasum: int) -> list[tuple[str, str, str]]:
    """``CHECKSUM`` (placeholder) and ``DATASUM`` cards to append before serializing."""
    return [
        ("CHECKSUM", _PLACEHOLDER, "HDU checksum (FITS checksum convention)"),
        ("DATASUM", str(datasum), "data unit checksum"),
    ]


def sealed_header_bytes(header: astropy.io.fits.Header, parts: Iterable[Any]) -> bytes:
    """Serialize ``header`` with ``DATASUM``/``CHECKSUM`` cards for the data ``parts``.

    The cards are set on ``header`` (replacing any stale ones), the header is formatted
    once with a placeholder and the placeholder is then filled in.
    """
    return sealed_header_bytes_for_sum(header, data_sum(parts))


def sealed_header_bytes_for_sum(header: astropy.io.fits.Header, datasum: int) -> bytes:
    """`sealed_header_bytes` for a data part whose sum is already known (streamed writes)."""
    from ._headers import header_to_bytes

    for keyword, value, comment in checksum_cards(datasum):
        header[keyword] = (value, comment)
    return header_with_checksum(header_to_bytes(header), int(header["DATASUM"]))


def _card_position(header_bytes: bytes, keyword: bytes) -> int | None:
    """Byte offset of the first card with ``keyword`` (before END), or None."""
    key = keyword.ljust(8)
    for offset in range(0, len(header_bytes) - 79, 80):
        card = header_bytes[offset : offset + 8]
        if card == key:
            return offset
        if card == b"END     ":
            return None
    return None


def card_values(header_bytes: bytes) -> tuple[str | None, str | None]:
    """The raw ``(CHECKSUM, DATASUM)`` string values of a header, None where absent."""
    found: dict[bytes, str] = {}
    for name in (b"CHECKSUM", b"DATASUM"):
        position = _card_position(header_bytes, name)
        if position is None or header_bytes[position + 8 : position + 10] != b"= ":
            continue
        text = header_bytes[position + 10 : position + 80].decode("ascii", "replace").strip()
        if text.startswith("'"):
            end = text.find("'", 1)
            text = text[1:end] if end > 0 else text[1:]
        else:
            text = text.split("/", 1)[0]
        found[name] = text.strip()
    return found.get(b"CHECKSUM"), found.get(b"DATASUM")


def parse_datasum(text: str, where: str) -> int:
    """The integer value of a ``DATASUM`` card; a garbled value is a corrupted file."""
    try:
        value = int(text)
    except ValueError:
        raise ChecksumMismatchError(f"{where}: DATASUM card value {text!r} is not an integer") from None
    if not 0 <= value <= MODULUS:
        raise ChecksumMismatchError(f"{where}: DATASUM card value {text!r} is out of range")
    return value


def verify_header(header_bytes: bytes, datasum: int, where: str) -> None:
    """Check that header and data sums add up to negative zero, as ``CHECKSUM`` promises.

    ``datasum`` is the data part's sum -- the one recorded in ``DATASUM`` when the data
    were not read (that still proves the header intact), or the one computed from the
    bytes read.
    """
    total = combine([ones_sum(header_bytes), datasum])
    if total != 0:
        raise ChecksumMismatchError(
            f"{where}: CHECKSUM mismatch (header and data sum to {total:#010x}, not -0); "
            "the HDU was corrupted or edited after it was written"
        )


def verify_data(recorded: int, computed: int, where: str) -> None:
    """Check a data part's computed sum against its ``DATASUM``."""
    if recorded % MODULUS != computed % MODULUS:
        raise ChecksumMismatchError(
            f"{where}: DATASUM mismatch (card {recorded}, data sum to {computed}); "
            "the data were corrupted after they were written"
        )


class SummingReader:
    """A range reader that sums every byte it returns from one HDU's data part.

    The tile engine reads the tile table and the payloads it needs; wrapping its reader
    in this class lets a decode verify ``DATASUM`` from the bytes it fetched anyway, in
    the worker threads that fetched them (one reduction per merged block, not per
    tile).  `missing_ranges` tells which parts of the data were never read, so a full
    read (or a small HDU's cut-out) can fetch just those to complete the sum.

    Parameters
    ----------
    reader
        The underlying range reader.
    start, size
        File offset and length of the HDU's data part (padding included).
    """

    def __init__(self, reader: Any, start: int, size: int) -> None:
        self._reader = reader
        self.start = start
        self.stop = start + size
        self.name = reader.name
        self.size = reader.size
        self.remote = getattr(reader, "remote", True)
        self._pieces: list[tuple[int, int, int]] = []  # (offset, length, sum)
        if hasattr(reader, "read_into"):
            # Local files: the tile engine then keeps reading into its reusable buffers
            # instead of fresh memory.
            self.read_into = self._read_into

    def read_ranges(self, ranges: Any) -> list[bytes]:
        """Read like the wrapped reader, recording the sum of every range read."""
        return [bytes(v) if not isinstance(v, bytes) else v for v in self.read_views(ranges)]

    def read_views(self, ranges: Any) -> list[Any]:
        """Read ``ranges`` (coalesced into blocks), summing each block once."""
        from ._io import coalesce_ranges

        ranges = [(int(o), int(n)) for o, n in ranges]
        if not ranges:
            return []
        merged, placement = coalesce_ranges(ranges, _gap_limit(ranges))
        blocks = self._reader.read_ranges(merged)
        for (offset, length), block in zip(merged, blocks, strict=True):
            self._record(offset, length, block)
        views = [memoryview(b) for b in blocks]
        return [blocks[k] if (b - a) == len(blocks[k]) else views[k][a:b] for k, a, b in placement]

    def _read_into(self, offset: int, buffer: Any) -> None:
        """Fill ``buffer`` from ``offset`` like the wrapped reader, recording its sum."""
        self._reader.read_into(offset, buffer)
        view = memoryview(buffer).cast("B")
        self._record(offset, len(view), view)

    def _record(self, offset: int, length: int, block: Any) -> None:
        lo, hi = max(offset, self.start), min(offset + length, self.stop)
        if hi > lo:
            part = memoryview(block)[lo - offset : hi - offset]
            self._pieces.append((lo, hi - lo, ones_sum(part, lo - self.start)))

    def missing_ranges(self) -> list[tuple[int, int]] | None:
        """File ranges of the data part not read yet; None if reads overlapped."""
        pieces = sorted(self._pieces)
        gaps = []
        position = self.start
        for offset, length, _ in pieces:
            if offset < position:
                return None
            if offset > position:
                gaps.append((position, offset - position))
            position = offset + length
        if position < self.stop:
            gaps.append((position, self.stop - position))
        return gaps

    def complete_sum(self) -> int:
        """The data part's sum: the bytes read plus the ones not read yet (fetched now)."""
        gaps = self.missing_ranges()
        if gaps is None:
            # Overlapping reads (tiles sharing heap bytes): sum the whole part afresh.
            self._pieces = []
            gaps = [(self.start, self.stop - self.start)]
        if gaps:
            for (offset, length), block in zip(gaps, self._reader.read_ranges(gaps), strict=True):
                self._record(offset, length, block)
        return combine(s for _, _, s in self._pieces)


def _gap_limit(ranges: list[tuple[int, int]]) -> int:
    from ._io import _gap_limit as limit

    return limit(ranges)


#: Data parts up to this size are verified whole even by a cut-out that reads a few of
#: their tiles: completing the sum costs one read of at most this many bytes.
SMALL_DATA = 1 << 20


class HduVerifier:
    """Checksum verification policy of one file being read.

    Headers are verified once each (``CHECKSUM`` against the recorded ``DATASUM``, which
    needs no data); data parts are verified when all of their bytes pass through the
    reader anyway (full reads, whole tables) or cheaply can (parts up to `SMALL_DATA`).
    A file whose primary header carries ``CHECKSUM`` was written with checksums on: an
    HDU of it with only one of the two cards is then reported as damaged rather than
    read unchecked (an HDU without both was edited by a tool that drops them).

    Parameters
    ----------
    name
        File name, for messages.
    enabled
        False turns every check off (``verify=False``).
    primary
        The raw primary header (through its END block).
    """

    def __init__(self, name: str, enabled: bool, primary: bytes) -> None:
        self.name = name
        self.enabled = enabled
        self.required = enabled and card_values(primary)[0] is not None
        #: Cut-outs of data parts up to this size complete (and verify) their sum.
        self.small_data = SMALL_DATA
        self._headers: dict[str, int | None] = {}
        if enabled:
            self.check_whole("PRIMARY", primary, b"")

    def _where(self, hdu: str) -> str:
        return f"{self.name}: HDU {hdu!r}"

    def check_header(self, hdu: str, header: bytes) -> int | None:
        """Verify a header against its recorded ``DATASUM``; return that sum (None: no cards)."""
        if not self.enabled:
            return None
        if hdu in self._headers:
            return self._headers[hdu]
        checksum, datasum = card_values(header)
        where = self._where(hdu)
        recorded = None
        if (checksum is None) != (datasum is None) and self.required:
            # Tools that edit a header either update both cards or drop both; one of
            # them alone is a damaged card (a flipped bit in its keyword, say).
            raise ChecksumMismatchError(
                f"{where}: the file carries checksums but this HDU has no "
                f"{'CHECKSUM' if checksum is None else 'DATASUM'} card (damaged header)"
            )
        if datasum is not None:
            recorded = parse_datasum(datasum, where)
            if checksum is not None:
                verify_header(header, recorded, where)
        self._headers[hdu] = recorded
        return recorded

    def check_whole(self, hdu: str, header: bytes, data: Any) -> None:
        """Verify an HDU whose header and whole data part are in memory."""
        if not self.enabled:
            return
        recorded = self.check_header(hdu, header)
        if recorded is not None:
            verify_data(recorded, ones_sum(data), self._where(hdu))

    def reader_for(self, reader: Any, hdu: str, header: bytes, start: int, size: int) -> SummingReader | None:
        """A summing wrapper of ``reader`` for decoding HDU ``hdu``, or None if nothing to verify."""
        if self.check_header(hdu, header) is None:
            return None
        return SummingReader(reader, start, size)

    def finish(
        self, summing: SummingReader | None, hdu: str, header: bytes, full: bool, remote: bool = False
    ) -> None:
        """Complete and compare the data sum of a decode done through `reader_for`.

        ``full`` says the whole image was decoded; a cut-out of a local file completes the
        sum only for small data parts (see `SMALL_DATA`), larger ones keep the header check
        and, for gzip tiles, the CRC-32 every inflated tile carries.  A cut-out of a
        ``remote`` file never completes the sum: the missing bytes would cost a fetch, and
        remote cut-outs promise to read little more than the tiles they need.
        """
        if summing is None:
            return
        if not full and (remote or summing.stop - summing.start > self.small_data):
            return
        recorded = self._headers[hdu]
        assert recorded is not None
        verify_data(recorded, summing.complete_sum(), self._where(hdu))
