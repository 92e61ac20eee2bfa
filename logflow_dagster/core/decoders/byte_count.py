"""Counting one byte value in a large buffer, several times faster than ``bytes.count``.

CPython counts a one-byte needle with a plain loop (about 2.5 GB/s here); numpy compares
256 KiB slices into a reused, cache-sized mask and counts it (about 13 GB/s). Block splitting
counts every newline and every quote of the input, so this is on the hot path of each
text decoder.
"""

from __future__ import annotations

import numpy as np

NL = 0x0A
_SLICE = 1 << 18
_SMALL = 1 << 16  # below this bytes.count is as fast and allocates nothing


def count_byte(data: bytes, value: int, start: int = 0, end: int | None = None) -> int:
    """The number of bytes equal to ``value`` in ``data[start:end]``.

    Example:
        >>> count_byte(b"a\\nb\\nc", ord("\\n")), count_byte(b"a\\nb\\nc", ord("\\n"), 2)
        (2, 1)
    """
    stop = len(data) if end is None else min(end, len(data))
    if stop - start <= _SMALL:
        return data.count(bytes((value,)), start, stop)
    view = np.frombuffer(data, dtype=np.uint8, count=stop - start, offset=start)
    mask = np.empty(_SLICE, dtype=bool)
    total = 0
    for pos in range(0, view.size, _SLICE):
        part = view[pos : pos + _SLICE]
        out = mask[: part.size]
        np.equal(part, value, out=out)
        total += int(np.count_nonzero(out))
    return total
