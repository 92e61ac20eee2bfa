"""`logflow serve` as a subprocess on a free loopback port, for the tests that need a real
server (Cube's JS client, the benchmark)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(project: Path, *args: str) -> Iterator[str]:
    """Runs ``logflow serve --project PROJECT ARGS`` until the block ends; yields its URL."""
    port = free_port()
    log = tempfile.TemporaryFile("w+")  # a file, not a pipe: the access log never blocks it
    proc = subprocess.Popen([sys.executable, "-m", "logflow_dagster.cli", "serve", "--project",
                             str(project), "--port", str(port), *args],
                            stdout=log, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "DAGSTER_DISABLE_TELEMETRY": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"logflow serve exited: {log.read()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError("logflow serve did not answer /health within 30 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
