"""Landing locations, Dagster-free: folders and globs, hidden and in-progress files left out,
keys relative to the project; the cursor takes a file once it held still."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from logflow_dagster.landing import LandingState, list_landing, scan_landing, split_landing
from logflow_dagster.landing.windows import window_bounds, window_key


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for rel in ("in/a.csv", "in/sub/b.csv", "in/sub/c.json", "in/.hidden.csv",
                "in/d.csv.tmp", "other/e.csv"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)
    return tmp_path


@pytest.mark.parametrize(("landing", "keys"), [
    ("in", ["in/a.csv", "in/sub/b.csv", "in/sub/c.json"]),
    ("in/*.csv", ["in/a.csv"]),
    ("in/**/*.csv", ["in/a.csv", "in/sub/b.csv"]),
    ("in/sub/*.json", ["in/sub/c.json"]),
    ("in/a.csv", ["in/a.csv"]),
    ("nope", []),
])
def test_folders_globs_and_single_files(root: Path, landing: str, keys: list[str]) -> None:
    files = list_landing(str(root), landing)
    assert [f.key for f in files] == keys
    for f in files:
        assert Path(f.path).read_text() == f.key
        assert f.size == len(f.key) and f.mtime_ns == os.stat(f.path).st_mtime_ns


def test_absolute_landing(root: Path) -> None:
    files = list_landing("/elsewhere", str(root / "other"))
    assert [Path(f.path).name for f in files] == ["e.csv"]


def test_split_landing_for_object_storage() -> None:
    assert split_landing("/p", "s3://bucket/in/**/*.csv") == ("s3://bucket/in", "**/*.csv")


def test_a_file_is_taken_once_it_held_still_and_again_when_changed(root: Path) -> None:
    state = LandingState()
    assert scan_landing(str(root), "in/*.csv", state) == []
    ready = scan_landing(str(root), "in/*.csv", state)
    assert [(f.key, len(h)) for f, h in ready] == [("in/a.csv", 32)]
    state = LandingState.load(state.dump())  # the cursor survives a round trip
    assert scan_landing(str(root), "in/*.csv", state) == []
    (root / "in" / "a.csv").write_text("changed")
    assert scan_landing(str(root), "in/*.csv", state) == []  # settling
    assert [f.key for f, _ in scan_landing(str(root), "in/*.csv", state)] == ["in/a.csv"]


def test_window_keys_and_bounds() -> None:
    ns = 1_709_283_600 * 10**9  # 2024-03-01T09:00Z
    assert window_key("daily", ns) == "2024-03-01"
    lo, hi = window_bounds("hourly", window_key("hourly", ns))
    assert lo <= ns < hi and hi - lo == 3600 * 10**9
