"""Reading a text input as UTF-8 blocks that end on a record boundary, with line accounting."""

from __future__ import annotations

import mmap
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..detect.encoding import EncodingGuess, transcode_to_utf8
from ..detect.result import Detection
from ..source import Source, release_pages
from .byte_count import NL, count_byte


@dataclass(frozen=True, slots=True)
class TextBlock:
    """A run of whole records of the (decompressed, UTF-8) input.

    Attributes:
        data: The bytes (a view, for a mapped file), ending just after a record terminator
            (or at EOF).
        first_line: 1-based physical line number of ``data[0]``.
        offset: Byte offset of ``data[0]`` in the decompressed UTF-8 stream (equal to the
            file's own offsets when the input is UTF-8 and uncompressed).
    """

    data: bytes | memoryview
    first_line: int
    offset: int


#: Finds the end of the last whole record in ``data`` (index just past its terminator),
#: or -1 when ``data`` holds no complete record. ``final`` is True at EOF. It must be able to
#: tell a record end from ``data`` alone (true where a newline always ends a record): the
#: reader looks in each new chunk before joining it to the bytes left over.
BoundaryFinder = Callable[[bytes, bool], int]


class MappedText:
    """A local UTF-8 file mapped read-only, whose blocks are handed out as views.

    Pages the decoder is done with are dropped from the process with :meth:`release` (they
    stay in the page cache), so resident memory stays a few blocks deep whatever the size.

    Attributes:
        data: The map (for ``rfind`` and the byte counters).
        view: A memoryview of the map (blocks are slices of it).
        start: File offset of the text's first byte (after the BOM).
        size: File size.
    """

    def __init__(self, data: mmap.mmap, start: int,
                 on_read: Callable[[int, int | None], None] | None = None) -> None:
        self.data = data
        self.view = memoryview(data)
        self.start = start
        self.size = len(data)
        self._on_read = on_read
        self._released = 0

    @classmethod
    def open(cls, source: Source, detection: Detection) -> MappedText | None:
        """The input mapped, when it is a local UTF-8 file that can be (see
        :meth:`Source.map`); ``None`` means it is to be streamed.

        Example:
            >>> import tempfile, pathlib
            >>> with tempfile.TemporaryDirectory() as tmp:
            ...     path = pathlib.Path(tmp, "a.csv")
            ...     _ = path.write_bytes(b"id,n\\n1,2\\n")
            ...     text = MappedText.open(Source.open_path(path, mmap=True), Detection("csv"))
            ...     head = bytes(text.view[text.start : text.start + 4])
            ...     text.view.release(); text.data.close()
            >>> head
            b'id,n'
        """
        guess = EncodingGuess(detection.encoding or "utf-8", detection.bom)
        if not guess.is_utf8:
            return None
        data = source.map()
        return None if data is None else cls(data, guess.bom, source.on_read)

    def reached(self, end: int) -> None:
        """Reports progress: the text up to file offset ``end`` has been cut into blocks."""
        if self._on_read is not None:
            self._on_read(end, self.size)

    def release(self, end: int) -> None:
        """Drops the pages before file offset ``end`` from the process."""
        if end > self._released:
            release_pages(self.data, end, self._released)
            self._released = end - end % mmap.PAGESIZE


def last_newline(data: bytes, final: bool) -> int:
    """Boundary finder for formats where every newline ends a record (JSONL, log lines)."""
    if final:
        return len(data)
    pos = data.rfind(b"\n")
    return -1 if pos < 0 else pos + 1


def utf8_blocks(source: Source, detection: Detection, block_size: int) -> Iterator[bytes]:
    """The input's decompressed bytes, transcoded to UTF-8, BOM removed."""
    guess = EncodingGuess(detection.encoding or "utf-8", detection.bom)
    return transcode_to_utf8(source.iter_blocks(block_size), guess)


def iter_text_blocks(
    source: Source,
    detection: Detection,
    block_size: int = 16 << 20,
    boundary: BoundaryFinder = last_newline,
    mapped: MappedText | None = None,
) -> Iterator[TextBlock]:
    """Yields the input as UTF-8 blocks of whole records, counting lines as it goes.

    Args:
        source: The input.
        detection: Supplies the encoding and BOM length.
        block_size: About how many bytes each block holds.
        boundary: Where the last whole record in a buffer ends (see :data:`BoundaryFinder`).
        mapped: The input mapped (:meth:`MappedText.open`), for formats where every newline
            ends a record: blocks are then views of the map, released by the caller.

    Example:
        >>> import tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = pathlib.Path(tmp, "a.jsonl")
        ...     _ = path.write_text('{"a": 1}\\n{"a": 2}\\n')
        ...     blocks = list(iter_text_blocks(Source.open_path(path), Detection("jsonl")))
        >>> [(b.first_line, b.offset) for b in blocks]
        [(1, 0)]
    """
    if mapped is not None:
        yield from _mapped_lines(mapped, block_size)
        return
    pending = b""
    line = 1
    offset = 0
    for block in utf8_blocks(source, detection, block_size):
        # the boundary is looked for in the new block alone (a record end there is one in
        # pending + block, and there is none when it has none), so the block is copied once
        end = boundary(block, False)
        if end <= 0:
            pending += block
            continue
        data = b"".join((pending, memoryview(block)[:end])) if pending else block[:end]
        pending = block[end:]
        yield TextBlock(data, line, offset)
        line += count_byte(data, NL)
        offset += len(data)
    if pending:
        yield TextBlock(pending, line, offset)


def _mapped_lines(text: MappedText, block_size: int) -> Iterator[TextBlock]:
    """Views of whole lines of about ``block_size`` bytes (one longer line: a longer block)."""
    pos, line = text.start, 1
    while pos < text.size:
        end = pos + block_size
        while end < text.size and (nl := text.data.rfind(b"\n", pos, end)) < 0:
            end += block_size
        cut = text.size if end >= text.size else nl + 1
        yield TextBlock(text.view[pos:cut], line, pos - text.start)
        line += count_byte(text.data, NL, pos, cut)
        text.reached(cut)
        pos = cut
