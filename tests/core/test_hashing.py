"""The content hash is xxh3-128 of the stored bytes, whether the file is mapped or read."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import xxhash

from logflow_dagster.core.hashing import content_hash
from logflow_dagster.core.source import MMAP_ENV, Source


@pytest.mark.parametrize("mapped", [True, False])
def test_hash_of_the_stored_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  mapped: bool) -> None:
    data = b"".join(b"%d,row\n" % i for i in range(300_000))  # spans several windows
    plain, packed = tmp_path / "a.csv", tmp_path / "a.csv.gz"
    plain.write_bytes(data)
    packed.write_bytes(gzip.compress(data))
    monkeypatch.setenv(MMAP_ENV, "1" if mapped else "0")
    assert content_hash(Source.open_path(plain), block=1 << 16) == xxhash.xxh3_128(data).hexdigest()
    assert content_hash(Source.open_path(packed)) == \
        xxhash.xxh3_128(packed.read_bytes()).hexdigest()
