"""Cube's "Continue wait": a query that is not done within the hold is answered
``{"error": "Continue wait"}`` and keeps running; the client's identical retry (same query,
same identity scope) waits on the same job instead of starting another.

Example:
    >>> import asyncio, time
    >>> jobs = QueryJobs(hold_s=0.01, timeout_s=5)
    >>> asyncio.run(jobs.answer("k", lambda: time.sleep(0.2) or 42)) is CONTINUE_WAIT
    True
    >>> time.sleep(0.3); asyncio.run(jobs.answer("k", lambda: 0))  # the first job's answer
    42
    >>> jobs.close()
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

#: Returned by :meth:`QueryJobs.answer` while a job still runs.
CONTINUE_WAIT: Any = object()


class QueryTimeout(Exception):
    """A job ran longer than the query timeout (HTTP 504)."""


@dataclass
class _Job:
    future: Future[Any]
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None


class QueryJobs:
    """Runs blocking queries on a thread pool, keyed so retries join a running job.

    Args:
        hold_s: How long one request waits for its job before answering Continue wait.
        timeout_s: A job still running this long after it started is given up (its
            request is answered :class:`QueryTimeout`; DuckDB finishes it in the
            background).
        workers: Threads (default: 2 per CPU, at most 16).
    """

    def __init__(self, hold_s: float, timeout_s: float, workers: int | None = None) -> None:
        self.hold_s = hold_s
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(workers or min(16, 2 * (os.cpu_count() or 1)),
                                        thread_name_prefix="logflow-api")
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Stops taking jobs (running ones finish)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def running(self) -> int:
        """Jobs started and not yet answered."""
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.finished is None)

    def _job(self, key: str, work: Callable[[], Any]) -> _Job:
        now = time.monotonic()
        with self._lock:
            # forget answers nobody came back for
            for k in [k for k, j in self._jobs.items()
                      if j.finished is not None and now - j.finished > self.timeout_s]:
                del self._jobs[k]
            job = self._jobs.get(key)
            if job is None:
                job = _Job(self._pool.submit(work))
                self._jobs[key] = job

                def done(_: Future[Any], job: _Job = job) -> None:
                    job.finished = time.monotonic()

                job.future.add_done_callback(done)
            return job

    def _forget(self, key: str, job: _Job) -> None:
        with self._lock:
            if self._jobs.get(key) is job:
                del self._jobs[key]

    async def answer(self, key: str, work: Callable[[], Any], *, hold: bool = True) -> Any:
        """The job's result, or :data:`CONTINUE_WAIT` when it is still running after the hold.

        Args:
            key: Equal for requests that may share one job (query and identity scope).
            work: The blocking call (run on the pool unless a job for ``key`` runs).
            hold: False waits until the job ends or times out (no Continue wait).

        Raises:
            QueryTimeout: The job has run longer than the timeout.
            Exception: Whatever ``work`` raised.
        """
        job = self._job(key, work)
        left = job.started + self.timeout_s - time.monotonic()
        wait = min(self.hold_s, left) if hold else left
        if not job.future.done() and wait > 0:
            waiter = asyncio.wrap_future(job.future)
            await asyncio.wait({waiter}, timeout=wait)
        if job.future.done():
            self._forget(key, job)
            return job.future.result()
        if time.monotonic() - job.started >= self.timeout_s:
            self._forget(key, job)
            raise QueryTimeout(f"the query ran longer than {self.timeout_s:g} s")
        return CONTINUE_WAIT
