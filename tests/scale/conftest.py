"""Session fixtures for the scale-out tests: a real S3 server (SeaweedFS) on loopback, a
fresh PostgreSQL database per test, and helpers to put files on S3.

Tests using them are marked ``services``: without the servers they skip, and under
``LOGFLOW_REQUIRE_SERVICES=1`` (``.ci/run``) they fail instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lakehouse.helpers import fresh_database
from tests.scale.servers import S3Server, seaweedfs


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """SeaweedFS with an S3 gateway and the bucket ``lake``; stopped after the session."""
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture
def s3_prefix(s3: S3Server) -> str:
    """A fresh ``s3://lake/<random>`` prefix for one test."""
    return f"s3://{s3.bucket}/t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database (URL with the psycopg2 driver), dropped afterwards."""
    with fresh_database("lf_scale") as url:
        yield url


def put(s3: S3Server, uri: str, data: bytes | Path) -> None:
    """Writes ``data`` (bytes or a local file's content) to ``uri`` on the test server."""
    body = data.read_bytes() if isinstance(data, Path) else data
    with s3.filesystem().open_output_stream(uri.removeprefix("s3://"), compression=None) as f:
        f.write(body)
