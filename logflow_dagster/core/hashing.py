"""The content hash of an input: what "the same file" means for idempotent re-ingest and for
the landing sensors' cursors (one function for both).

Example:
    >>> import tempfile, xxhash
    >>> with tempfile.NamedTemporaryFile(suffix=".csv") as f:
    ...     _ = f.write(b"a,b\\n1,2\\n"); f.flush()
    ...     content_hash(Source.open_path(f.name)) == xxhash.xxh3_128(b"a,b\\n1,2\\n").hexdigest()
    True
"""

from __future__ import annotations

import xxhash

from .source import Source, release_pages


def content_hash(source: Source, block: int = 8 << 20) -> str:
    """xxh3-128 of the stored bytes (compressed files are hashed as stored).

    A local file opened with ``mmap=True`` is hashed through a memory map, window by window,
    each window's pages dropped from the process after it (no copy into the process: 0.6 s ->
    0.1 s for the benchmark's 850 MB); anything else is read in ``block``-sized chunks.
    """
    h = xxhash.xxh3_128()
    mapped = source.map()
    if mapped is None:
        with source.open_raw() as f:
            while chunk := f.read(block):
                h.update(chunk)
        return h.hexdigest()
    with mapped, memoryview(mapped) as view:
        for start in range(0, len(mapped), block):
            with view[start : start + block] as window:
                h.update(window)
            release_pages(mapped, start + block, start)
    return h.hexdigest()
