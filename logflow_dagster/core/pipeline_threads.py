"""Overlapping the pipeline's stages on threads (decode | write | profile).

Arrow's CSV/JSON readers, its Parquet writer and DuckDB release the GIL, so on a 2-core machine
running them side by side roughly halves the wall time of a conversion. Queues are bounded:
memory stays a few batches deep whatever the input size.
"""

from __future__ import annotations

import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
_DONE = object()


def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Iterates ``items`` on a background thread, ``depth`` items ahead.

    Exceptions raised by the producer are re-raised in the consumer; when the consumer stops
    early (an exception, a ``break``), the producer is told to stop.

    Example:
        >>> list(prefetch(range(5)))
        [0, 1, 2, 3, 4]
    """
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as err:  # forwarded to the consumer
            put(_Failure(err))

    thread = threading.Thread(target=produce, name="logflow-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join(timeout=30)


#: Caps the decode threads (and the blocks in flight, each up to 16 MiB) on large machines.
MAX_THREADS = 8


def default_threads(requested: int | None = None) -> int:
    """Decode threads: ``requested`` when given, else one per core, at most
    :data:`MAX_THREADS`.

    Example:
        >>> default_threads(3), 1 <= default_threads() <= MAX_THREADS
        (3, True)
    """
    if requested is not None:
        return max(1, requested)
    try:
        cores = len(os.sched_getaffinity(0))  # the cores this process may run on (containers)
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_THREADS))


def ordered_map(
    fn: Callable[[T], R], items: Iterable[T], workers: int | None = None
) -> Iterator[tuple[T, R]]:
    """Yields ``(item, fn(item))`` in input order, computing up to ``workers`` at a time
    (default: :func:`default_threads`).

    For the GIL-releasing parse of independent blocks; at most ``workers + 1`` items are in
    flight, so memory stays bounded. An exception of ``fn`` is raised at its item's turn.

    Example:
        >>> [r for _, r in ordered_map(lambda x: x * x, range(5))]
        [0, 1, 4, 9, 16]
    """
    workers = default_threads(workers)
    pending: deque[tuple[T, Future[R]]] = deque()
    source = iter(items)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="logflow-map") as pool:
        try:
            while True:
                while len(pending) <= workers:
                    item = next(source, _DONE)
                    if item is _DONE:
                        break
                    pending.append((item, pool.submit(fn, item)))  # type: ignore[arg-type]
                if not pending:
                    return
                item, future = pending.popleft()
                yield item, future.result()
        finally:
            for _, future in pending:
                future.cancel()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Background:
    """Runs calls one at a time on a worker thread, at most one call behind the caller.

    Example:
        >>> out = []
        >>> with Background() as bg:
        ...     bg.submit(out.append, 1)
        >>> out
        [1]
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="logflow-profile")
        self._pending: Future[Any] | None = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Waits for the previous call (re-raising its error), then starts this one."""
        self.wait()
        self._pending = self._pool.submit(fn, *args)

    def wait(self) -> None:
        """Waits for the running call, re-raising its exception."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def __enter__(self) -> Background:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self.wait()
        finally:
            self._pool.shutdown(wait=True)
