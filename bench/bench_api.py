"""HTTP API overhead: a rollup-served Cube query over REST (`logflow serve` on loopback)
against the same query through the Python API, measured in the same run.

Builds the demo project in a temp folder (`logflow init --samples`, its CSV ingested, its
rollups built), starts `logflow serve` on a free loopback port, then (warm: a few untimed
calls first; the result cache is warm on both sides, so the difference is the HTTP path):

* p50/p95 of ``SemanticLayer.query`` in this process (the reference);
* p50/p95 of ``GET /cubejs-api/v1/load`` with one keep-alive client, and the overhead
  ``REST p50 - Python p50`` (goal < 5 ms) and the ratio ``REST / Python``;
* p50 of a 404 round trip (the HTTP floor on this machine, same client);
* requests/s and p95 with 8 concurrent clients (threads, one keep-alive connection each),
  and the number of errors (goal 0).

    python bench/bench_api.py [--runs 300] [--concurrent-requests 2000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUERY = {"measures": ["sales.revenue", "sales.events"], "dimensions": ["sales.region"],
         "timeDimensions": [{"dimension": "sales.at", "granularity": "month"}]}


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--concurrent-requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    import httpx

    from logflow_dagster.semantic import SemanticLayer
    from tests.api.conftest import make_demo
    from tests.api.server import serve

    with tempfile.TemporaryDirectory() as tmp:
        root = make_demo(Path(tmp) / "demo")
        layer = SemanticLayer.from_project(root)
        result = layer.query(QUERY)
        assert result.source.startswith("rollup:"), result.source
        py = []
        for i in range(args.runs + 20):
            t = time.perf_counter()
            layer.query(QUERY)
            if i >= 20:
                py.append((time.perf_counter() - t) * 1000)
        params = {"query": json.dumps(QUERY)}
        with serve(root) as url:
            load = f"{url}/cubejs-api/v1/load"
            rest = []
            with httpx.Client() as client:
                for i in range(args.runs + 20):
                    t = time.perf_counter()
                    body = client.get(load, params=params).json()
                    if i >= 20:
                        rest.append((time.perf_counter() - t) * 1000)
                assert body["data"] == result.data, "REST and Python answers differ"
                floor = []  # a 404 round trip: HTTP on loopback and nothing else
                for i in range(args.runs + 20):
                    t = time.perf_counter()
                    client.get(f"{url}/no-such-path")
                    if i >= 20:
                        floor.append((time.perf_counter() - t) * 1000)

            per_client = args.concurrent_requests // args.clients

            def worker(_: int) -> tuple[list[float], int]:
                times, errors = [], 0
                with httpx.Client() as c:
                    for _ in range(per_client):
                        t = time.perf_counter()
                        r = c.get(load, params=params)
                        times.append((time.perf_counter() - t) * 1000)
                        if r.status_code != 200 or "data" not in r.json():
                            errors += 1
                return times, errors

            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                done = list(pool.map(worker, range(args.clients)))
            wall = time.perf_counter() - t0
        layer.close()
    conc = [t for times, _ in done for t in times]
    errors = sum(e for _, e in done)
    p50_py, p50_rest = statistics.median(py), statistics.median(rest)
    print(f"rollup-served query ({result.source}), {args.runs} runs, warm")
    print(f"  Python API  p50 {p50_py:7.3f} ms  p95 {pct(py, 0.95):7.3f} ms   (reference)")
    print(f"  REST /load  p50 {p50_rest:7.3f} ms  p95 {pct(rest, 0.95):7.3f} ms   "
          f"overhead p50 {p50_rest - p50_py:6.3f} ms (goal < 5), ratio REST/Python "
          f"{p50_rest / p50_py:5.2f}")
    print(f"  HTTP floor  p50 {statistics.median(floor):7.3f} ms   (a 404 round trip, same "
          "client)")
    print(f"  {args.clients} concurrent clients: {len(conc)} requests in {wall:.2f} s = "
          f"{len(conc) / wall:7.1f} req/s, p50 {statistics.median(conc):.3f} ms, "
          f"p95 {pct(conc, 0.95):.3f} ms, errors {errors}")


if __name__ == "__main__":
    main()
