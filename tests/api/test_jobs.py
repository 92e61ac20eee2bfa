"""Continue-wait jobs: identical requests share one running job; a job past the timeout is
answered QueryTimeout; a failed job's error reaches the request that collects it."""

from __future__ import annotations

import asyncio
import threading

import pytest

from logflow_dagster.api.jobs import CONTINUE_WAIT, QueryJobs, QueryTimeout


def test_identical_requests_share_one_job() -> None:
    release = threading.Event()
    calls = []

    def work() -> str:
        calls.append(1)
        release.wait(5)
        return "answer"

    async def scenario() -> list:
        jobs = QueryJobs(hold_s=0.05, timeout_s=10)
        first = await asyncio.gather(*(jobs.answer("q", work) for _ in range(4)))
        assert jobs.running() == 1
        release.set()
        done = await jobs.answer("q", work, hold=False)
        other = await jobs.answer("other", lambda: "b")
        jobs.close()
        return [*first, done, other]

    out = asyncio.run(scenario())
    assert out[:4] == [CONTINUE_WAIT] * 4 and out[4:] == ["answer", "b"]
    assert len(calls) == 1


def test_a_job_past_the_timeout_is_given_up() -> None:
    stop = threading.Event()

    async def scenario() -> None:
        jobs = QueryJobs(hold_s=0.01, timeout_s=0.2)
        assert await jobs.answer("slow", lambda: stop.wait(5)) is CONTINUE_WAIT
        with pytest.raises(QueryTimeout, match=r"longer than 0\.2 s"):
            await jobs.answer("slow", lambda: None, hold=False)
        stop.set()
        jobs.close()

    asyncio.run(scenario())


def test_an_error_reaches_the_caller_and_the_job_is_forgotten() -> None:
    def boom() -> None:
        raise ValueError("bad member")

    async def scenario() -> None:
        jobs = QueryJobs(hold_s=1, timeout_s=5)
        with pytest.raises(ValueError, match="bad member"):
            await jobs.answer("k", boom)
        assert await jobs.answer("k", lambda: "fresh") == "fresh"
        jobs.close()

    asyncio.run(scenario())
