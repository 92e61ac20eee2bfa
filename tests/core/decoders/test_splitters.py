"""The memory-mapped splitter cuts exactly the blocks the streaming splitter cuts, and the
mapped path is taken only where it is safe (local, uncompressed, UTF-8, not switched off)."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logflow_dagster.core.decoders.byte_count import count_byte, count_pair
from logflow_dagster.core.decoders.parallel_blocks import MappedSplitter, Task, _Splitter
from logflow_dagster.core.decoders.text_blocks import MappedText
from logflow_dagster.core.detect.result import Detection
from logflow_dagster.core.source import MMAP_ENV, Source

cell = st.text(alphabet=st.sampled_from(list('ab ,"\n1é')), max_size=8)
rows = st.lists(st.lists(cell, min_size=3, max_size=3), min_size=1, max_size=80)


def _tasks(splitter: _Splitter | MappedSplitter) -> list[tuple[bytes, int, int, bool]]:
    out = []
    while (task := splitter.next()) is not None:
        out.append((bytes(task.data), task.line, task.offset, task.final))
        splitter.done(task)
    return out


def _mapped_file(tmp_path: Path, data: bytes) -> MappedText:
    """``data`` written to a UTF-8 file and mapped."""
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    text = MappedText.open(Source.open_path(path, mmap=True), Detection("csv", encoding="utf-8"))
    assert text is not None
    return text


def _stream(data: bytes, chunk: int) -> list[bytes]:
    return [data[i : i + chunk] for i in range(0, len(data), chunk)]


@given(rows, st.integers(min_value=8, max_value=300), st.booleans())
@settings(max_examples=150, deadline=None)
def test_mapped_blocks_are_whole_records_with_their_lines(records: list[list[str]], block: int,
                                                          bom: bool) -> None:
    """Views of the map that put together give the text, each cut after a newline outside
    quotes (by parity, as the streaming splitter cuts), with the line and offset it starts at."""
    text = "\n".join(",".join(r) for r in records) + "\n"
    prefix = b"\xef\xbb\xbf" if bom else b""
    data = text.encode()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.csv"
        path.write_bytes(prefix + data)
        mapped = MappedText.open(Source.open_path(path, mmap=True),
                                 Detection("csv", encoding="utf-8", bom=len(prefix)))
        assert mapped is not None
        got = _tasks(MappedSplitter(mapped, ord('"'), block))
    assert b"".join(t[0] for t in got) == data
    assert [t[2] for t in got] == [sum(len(t[0]) for t in got[:i]) for i in range(len(got))]
    assert [t[1] for t in got] == [1 + data[: t[2]].count(b"\n") for t in got]
    assert [t[3] for t in got] == [False] * (len(got) - 1) + [True]
    for chunk, _, offset, final in got:
        if not final:
            assert chunk.endswith(b"\n") and data[: offset + len(chunk)].count(b'"') % 2 == 0
    chunks = _stream(data, block)
    streamed = _tasks(_Splitter(chunks[0], iter(chunks[1:]), ord('"'), block))
    assert b"".join(t[0] for t in streamed) == data


def test_restart_cuts_again_from_where_the_block_was_used(tmp_path: Path) -> None:
    data = b"".join(b"%d,x\n" % i for i in range(100))
    text = _mapped_file(tmp_path, data)
    splitter = MappedSplitter(text, ord('"'), 64)
    first = splitter.next()
    assert isinstance(first, Task) and first.line == 1
    used = bytes(first.data).index(b"\n") + 1  # the decoder took one record only
    splitter.restart(first.data[used:], [], first)
    again = splitter.next()
    assert again is not None and (again.line, again.offset) == (2, used)
    assert bytes(again.data).startswith(b"1,x\n")


def test_map_only_where_safe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = tmp_path / "a.csv"
    plain.write_bytes(b"a,b\n1,2\n")
    packed = tmp_path / "a.csv.gz"
    packed.write_bytes(gzip.compress(b"a,b\n1,2\n"))
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    assert Source.open_path(plain, mmap=True).map() is not None
    assert Source.open_path(packed, mmap=True).map() is None
    assert Source.open_path(empty, mmap=True).map() is None
    latin = Detection("csv", encoding="cp1252")
    assert MappedText.open(Source.open_path(plain, mmap=True), latin) is None  # transcoded: streamed
    monkeypatch.setenv(MMAP_ENV, "0")
    assert Source.open_path(plain, mmap=True).map() is None


def test_released_pages_still_read_the_file(tmp_path: Path) -> None:
    """Dropping decoded pages from the process never changes what a view reads."""
    data = b"".join(b"%08d,abcdefgh\n" % i for i in range(20_000))
    text = _mapped_file(tmp_path, data)
    view = text.view[: len(data)]
    text.release(len(data))
    assert bytes(view) == data


@given(st.binary(max_size=3000), st.integers(0, 3000), st.integers(0, 3000))
@settings(max_examples=100, deadline=None)
def test_counters_match_bytes_count(data: bytes, start: int, end: int) -> None:
    view = memoryview(data)
    assert count_byte(view, 10, start, end) == data.count(b"\n", start, end)
    assert count_pair(data, 34, 10, start, end) == (data.count(b'"', start, end),
                                                    data.count(b"\n", start, end))


def test_a_block_with_no_record_end_is_cut_longer_next_time(tmp_path: Path) -> None:
    """When the decoder used none of a block (its exact scan found no record end), the next
    cut reaches past that block instead of cutting the same one forever."""
    text = _mapped_file(tmp_path, b"".join(b"%d,x\n" % i for i in range(100)))
    splitter = MappedSplitter(text, ord('"'), 64)
    first = splitter.next()
    assert first is not None
    splitter.restart(first.data, [], first)
    again = splitter.next()
    assert again is not None and again.offset == 0 and len(again.data) > len(first.data)
