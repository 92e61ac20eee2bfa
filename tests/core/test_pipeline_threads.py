"""The pipeline's thread helpers: order, bounded look-ahead, errors at their item's turn."""

from __future__ import annotations

import threading
import time

import pytest

from logflow_dagster.core.pipeline_threads import Background, ordered_map, prefetch


def test_ordered_map_keeps_input_order_and_bounds_look_ahead() -> None:
    pulled: list[int] = []

    def items():
        for i in range(20):
            pulled.append(i)
            yield i

    def slow_square(x: int) -> int:
        time.sleep(0.002 * (x % 3))  # later items may finish first
        return x * x

    seen = []
    for item, result in ordered_map(slow_square, items(), workers=2):
        assert len(pulled) - item <= 4  # at most workers + 1 ahead of the consumer (+ 1 pulled)
        seen.append((item, result))
    assert seen == [(i, i * i) for i in range(20)]


def test_ordered_map_raises_at_the_failing_item_and_stops() -> None:
    def fn(x: int) -> int:
        if x == 3:
            raise ValueError("bad item 3")
        return x

    got = []
    with pytest.raises(ValueError, match="bad item 3"):
        for _, r in ordered_map(fn, range(1000), workers=2):
            got.append(r)
    assert got == [0, 1, 2]


def test_prefetch_forwards_errors_and_stops_the_producer_early() -> None:
    produced = []
    stopped = threading.Event()

    def gen():
        try:
            for i in range(10_000):
                produced.append(i)
                yield i
        finally:
            stopped.set()

    for i in prefetch(gen(), depth=2):
        if i == 5:
            break
    assert stopped.wait(5) and len(produced) < 100

    def failing():
        yield 1
        raise RuntimeError("decoder broke")

    with pytest.raises(RuntimeError, match="decoder broke"):
        list(prefetch(failing()))


def test_background_reraises_the_call_error() -> None:
    with pytest.raises(KeyError), Background() as bg:
        bg.submit(lambda: {}["missing"])
        bg.wait()
