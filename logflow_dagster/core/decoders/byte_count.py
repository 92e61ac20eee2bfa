"""Counting byte values in a large buffer, several times faster than ``bytes.count``.

CPython counts a one-byte needle with a plain loop (about 2 GB/s here); numpy compares
256 KiB slices into a reused, cache-sized mask and counts it (about 7 GB/s, 10 GB/s per value
when two values are counted in one sweep). Block splitting counts every newline and every quote
of the input, so this is on the hot path of each text decoder.
"""

from __future__ import annotations

import mmap

import numpy as np

NL = 0x0A
_SLICE = 1 << 18
_SMALL = 1 << 16  # below this bytes.count is as fast and allocates nothing

#: What the counters read: bytes, or a view of a buffer such as a memory-mapped file.
ByteBuffer = bytes | memoryview | mmap.mmap


def count_byte(data: ByteBuffer, value: int, start: int = 0, end: int | None = None) -> int:
    """The number of bytes equal to ``value`` in ``data[start:end]``.

    Example:
        >>> count_byte(b"a\\nb\\nc", ord("\\n")), count_byte(b"a\\nb\\nc", ord("\\n"), 2)
        (2, 1)
    """
    stop = len(data) if end is None else min(end, len(data))
    if stop - start <= _SMALL and isinstance(data, bytes):
        return data.count(bytes((value,)), start, stop)
    return _sweep(data, (value,), start, stop)[0]


def count_pair(data: ByteBuffer, a: int, b: int, start: int = 0,
               end: int | None = None) -> tuple[int, int]:
    """The numbers of bytes equal to ``a`` and to ``b`` in ``data[start:end]``, in one sweep.

    Example:
        >>> count_pair(b'a,"b"\\nc\\n', ord('"'), ord("\\n"))
        (2, 2)
    """
    stop = len(data) if end is None else min(end, len(data))
    count_a, count_b = _sweep(data, (a, b), start, stop)
    return count_a, count_b


def _sweep(data: ByteBuffer, values: tuple[int, ...], start: int, stop: int) -> list[int]:
    """Counts of each of ``values`` in ``data[start:stop]``; each slice is compared with every
    value while it is in cache."""
    totals = [0] * len(values)
    if stop <= start:
        return totals
    view = np.frombuffer(data, dtype=np.uint8, count=stop - start, offset=start)
    mask = np.empty(min(_SLICE, view.size), dtype=bool)
    for pos in range(0, view.size, _SLICE):
        part = view[pos : pos + _SLICE]
        out = mask[: part.size]
        for i, value in enumerate(values):
            np.equal(part, value, out=out)
            totals[i] += int(np.count_nonzero(out))
    return totals
