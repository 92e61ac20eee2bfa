"""Cutting delimited text into blocks of whole records and decoding blocks on two threads.

The splitter cuts at the last newline outside quotes by quote *parity* (cheap: one count per
block). The decoder's exact scan can disagree when a quote sits inside an unquoted field; it
then reports how much of the block it used, and the blocks already cut after it are put back
and cut again from there, so a disagreement costs time, never a record.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from .base import DecodedBatch
from .byte_count import NL, count_byte
from .csv_scan import last_record_end

BlockFn = Callable[..., tuple[int, list[DecodedBatch]]]


@dataclass(frozen=True, slots=True)
class Task:
    """One block: bytes of whole records, the physical line and byte offset of its start."""

    data: bytes
    line: int
    offset: int
    final: bool


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
        task = Task(data, self._line, self._offset, final)
        self._line += count_byte(data, NL)
        self._offset += len(data)
        return task

    def restart(self, rest: bytes, later: list[Task], at: Task) -> None:
        """Puts back ``rest`` of block ``at`` and the blocks cut after it."""
        used = len(at.data) - len(rest)
        self._pending = rest + b"".join(t.data for t in later) + self._pending
        self._line = at.line + count_byte(at.data, NL, 0, used)
        self._offset = at.offset + used


def ordered_blocks(fn: BlockFn, splitter: _Splitter, workers: int = 2) -> Iterator[DecodedBatch]:
    """Runs ``fn(data, line, offset, final=...)`` on blocks in a thread pool, in input order.

    At most ``workers + 1`` blocks are in flight, so memory stays bounded.
    """
    inflight: deque[tuple[Task, Future[tuple[int, list[DecodedBatch]]]]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="logflow-block") as pool:
        try:
            while True:
                while len(inflight) <= workers:
                    task = splitter.next()
                    if task is None:
                        break
                    inflight.append((task, pool.submit(fn, task.data, task.line, task.offset,
                                                       final=task.final)))
                if not inflight:
                    return
                task, future = inflight.popleft()
                used, out = future.result()
                yield from out
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
