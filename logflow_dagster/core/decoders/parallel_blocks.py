"""Cutting delimited text into blocks of whole records and decoding blocks on two threads.

The splitters cut at the last newline outside quotes by quote *parity* (cheap: one count per
block). The decoder's exact scan can disagree when a quote sits inside an unquoted field; it
then reports how much of the block it used, and the blocks already cut after it are put back
and cut again from there, so a disagreement costs time, never a record. :class:`_Splitter`
cuts a stream of byte chunks; :class:`MappedSplitter` cuts a memory-mapped file into views.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from ..pipeline_threads import default_threads
from .base import DecodedBatch
from .byte_count import NL, ByteBuffer, count_byte, count_pair
from .csv_quoting import MAX_QUOTED_BYTES
from .csv_scan import last_record_end
from .text_blocks import MappedText

BlockFn = Callable[..., tuple[int, list[DecodedBatch]]]


@dataclass(frozen=True, slots=True)
class Task:
    """One block: bytes of whole records, the physical line and byte offset of its start,
    and its newlines."""

    data: bytes | memoryview
    line: int
    offset: int
    final: bool
    newlines: int = -1


class _Splitter:
    """Cuts the UTF-8 stream into :class:`Task` blocks of about ``block_size`` bytes."""

    def __init__(self, first: bytes, blocks: Iterator[bytes], quote: int, block_size: int) -> None:
        self._blocks = blocks
        self._quote = quote
        self._block_size = block_size
        self._pending = first
        self._line = 1
        self._offset = 0
        self._eof = False

    def next(self) -> Task | None:
        """The next block, or ``None`` at the end."""
        while True:
            if not self._eof and len(self._pending) < self._block_size:
                chunk = next(self._blocks, None)
                if chunk is None:
                    self._eof = True
                    continue
                task = self._cut(chunk)
                if task is not None:
                    return task
                self._pending += chunk
                continue
            if self._eof:
                if not self._pending:
                    return None
                return self._take(len(self._pending), final=True)
            end = last_record_end(self._pending, self._quote, False)
            if end > 0:
                return self._take(end, final=False)
            chunk = next(self._blocks, None)  # one record longer than a block: read on
            if chunk is None:
                self._eof = True
            else:
                self._pending += chunk

    def _cut(self, chunk: bytes) -> Task | None:
        """The block made of the pending bytes and ``chunk`` up to its last record end, built
        with one copy (joining first would copy the chunk twice); None when too short."""
        if len(self._pending) + len(chunk) < self._block_size:
            return None
        parity = self._pending.count(bytes((self._quote,))) & 1
        end = last_record_end(chunk, self._quote, False, parity)
        if end <= 0:
            return None
        data = b"".join((self._pending, memoryview(chunk)[:end]))
        self._pending = chunk[end:]
        return self._task(data, final=False)

    def _take(self, end: int, *, final: bool) -> Task:
        data, self._pending = self._pending[:end], self._pending[end:]
        return self._task(data, final=final and not self._pending)

    def _task(self, data: bytes, *, final: bool) -> Task:
        newlines = count_byte(data, NL)
        task = Task(data, self._line, self._offset, final, newlines)
        self._line += newlines
        self._offset += len(data)
        return task

    def restart(self, rest: ByteBuffer, later: list[Task], at: Task) -> None:
        """Puts back ``rest`` of block ``at`` and the blocks cut after it."""
        used = len(at.data) - len(rest)
        self._pending = bytes(rest) + b"".join(t.data for t in later) + self._pending
        self._line = at.line + count_byte(at.data, NL, 0, used)
        self._offset = at.offset + used

    def done(self, task: Task) -> None:
        """Nothing to release: a streamed block is freed with its last reference."""


class MappedSplitter:
    """Cuts a :class:`MappedText` into :class:`Task` blocks that are views of the map: the
    file is never copied into the process, and :meth:`done` drops the pages of decoded
    blocks again."""

    def __init__(self, text: MappedText, quote: int, block_size: int) -> None:
        self._text = text
        self._quote = quote
        self._block_size = block_size
        self._pos = text.start
        self._line = 1
        self._past = 0  # a cut must end after this file offset (see restart)

    def next(self) -> Task | None:
        """The next block, or ``None`` at the end."""
        pos, size = self._pos, self._text.size
        if pos >= size:
            return None
        end = pos + self._block_size
        while end < size:
            cut, newlines = self._record_end(pos, end)
            if cut > self._past:
                return self._task(pos, cut, newlines, final=False)
            end += self._block_size  # one record longer than a block: look further
        return self._task(pos, size, count_byte(self._text.data, NL, pos, size), final=True)

    def _record_end(self, pos: int, end: int) -> tuple[int, int]:
        """(index past the last newline outside quotes in ``[pos, end)``, newlines up to it);
        (-1, 0) when there is none."""
        data = self._text.data
        nl = data.rfind(b"\n", pos, end)
        if nl < 0:
            return -1, 0
        quotes, newlines = count_pair(data, self._quote, NL, pos, nl)
        parity = quotes & 1
        last, last_newlines = nl, newlines
        while parity:  # that newline is inside a quoted field: step back one line
            prev = data.rfind(b"\n", pos, nl)
            if last - prev > MAX_QUOTED_BYTES:  # a stray quote (see last_record_end)
                return last + 1, last_newlines + 1
            if prev < 0:
                return -1, 0
            parity ^= count_byte(data, self._quote, prev, nl) & 1
            newlines -= 1  # prev itself, the last newline before nl
            nl = prev
        return nl + 1, newlines + 1

    def _task(self, start: int, end: int, newlines: int, *, final: bool) -> Task:
        task = Task(self._text.view[start:end], self._line, start - self._text.start, final,
                    newlines)
        self._line += newlines
        self._pos = end
        self._text.reached(end)
        return task

    def restart(self, rest: ByteBuffer, later: list[Task], at: Task) -> None:
        """Cuts again from where block ``at`` was used up to (``rest`` is the unused tail)."""
        used = len(at.data) - len(rest)
        self._line = at.line + count_byte(at.data, NL, 0, used)
        self._pos = self._text.start + at.offset + used
        # the exact scan found no record end in the rest: the next cut must reach further
        # (the streaming splitter gets there by joining the next chunk to the rest)
        self._past = self._text.start + at.offset + len(at.data)

    def done(self, task: Task) -> None:
        """Releases the pages of the file before ``task`` (decoded, its own pages may still
        be cut again by a restart)."""
        self._text.release(self._text.start + task.offset)


Splitter = _Splitter | MappedSplitter


def ordered_blocks(fn: BlockFn, splitter: Splitter,
                   workers: int | None = None) -> Iterator[DecodedBatch]:
    """Runs ``fn(data, line, offset, final=..., newlines=...)`` on blocks in a thread pool
    (``workers`` threads, default one per core: :func:`..pipeline_threads.default_threads`), in
    input order.

    At most ``workers + 1`` blocks are in flight, so memory stays bounded.
    """
    inflight: deque[tuple[Task, Future[tuple[int, list[DecodedBatch]]]]] = deque()
    workers = default_threads(workers)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="logflow-block") as pool:
        try:
            while True:
                while len(inflight) <= workers:
                    task = splitter.next()
                    if task is None:
                        break
                    inflight.append((task, pool.submit(fn, task.data, task.line, task.offset,
                                                       final=task.final,
                                                       newlines=task.newlines)))
                if not inflight:
                    return
                task, future = inflight.popleft()
                used, out = future.result()
                yield from out
                splitter.done(task)
                if used < len(task.data):  # the exact scan ended the block earlier
                    later = [t for t, f in inflight]
                    for _, f in inflight:
                        f.cancel()
                    for _, f in inflight:
                        if not f.cancelled():
                            f.exception()  # wait; its result is discarded
                    inflight.clear()
                    splitter.restart(task.data[used:], later, task)
        finally:
            for _, f in inflight:
                f.cancel()
