"""The Cube endpoints, /health, /v1/tables and /v1/sql against the demo project: shapes as
Cube's gateway answers, values equal to the Python API's, errors as {"error": ...}."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pyarrow as pa
import pytest

from logflow_dagster.api import create_app
from logflow_dagster.semantic import SemanticLayer

from .conftest import client_for, make_demo

BY_REGION = {"measures": ["sales.revenue", "sales.events"], "dimensions": ["sales.region"],
             "timeDimensions": [{"dimension": "sales.at", "granularity": "month"}],
             "order": {"sales.region": "asc"}}


@pytest.fixture(scope="module")
def layer(demo: Path):
    with SemanticLayer.from_project(demo) as layer:
        yield layer


def test_load_get_post_and_multi_equal_the_python_api(client, layer) -> None:
    truth = layer.query(BY_REGION)
    assert truth.source.startswith("rollup:")
    got = client.get("/cubejs-api/v1/load", params={"query": json.dumps(BY_REGION)})
    assert got.status_code == 200
    body = got.json()
    assert body["data"] == truth.data and len(body["data"]) > 1
    assert body["annotation"]["measures"]["sales.revenue"]["type"] == "number"
    assert "sales.at.month" in body["annotation"]["timeDimensions"]
    assert body["query"]["measures"] == BY_REGION["measures"]
    assert set(body["usedPreAggregations"]) == {truth.source.split(":", 1)[1]}
    multi = client.post("/cubejs-api/v1/load", json={"query": BY_REGION, "queryType": "multi"})
    out = multi.json()
    assert out["queryType"] == "regularQuery" and out["pivotQuery"]["measures"] == \
        BY_REGION["measures"]
    assert [r["data"] for r in out["results"]] == [truth.data]
    two = client.post("/cubejs-api/v1/load", json={
        "query": [BY_REGION, {"measures": ["sales.events"]}], "queryType": "multi"}).json()
    assert two["queryType"] == "blendingQuery"
    assert two["results"][1]["data"] == layer.query({"measures": ["sales.events"]}).data


@pytest.mark.parametrize(("params", "needle"), [
    ({"query": "{not json"}, "not valid JSON"),
    ({}, "query param is required"),
    ({"query": json.dumps({"measures": ["sales.nope"]})}, "sales.nope"),
    ({"query": json.dumps({"measures": "sales.events"})}, "query.measures"),
    ({"query": json.dumps({"measures": ["sales.events"], "limit": 50_001})}, "maximum"),
    ({"query": json.dumps([{"measures": ["sales.events"]}])}, "queryType=multi"),
    ({"query": "[1]", "queryType": "multi"}, "query[0]"),
    ({"query": json.dumps({"measures": ["sales.events"], "responseFormat": "xml"})},
     "responseFormat"),
])
def test_invalid_queries_are_400_with_an_error(client, params, needle) -> None:
    for endpoint in ("load", "sql", "dry-run"):
        got = client.get(f"/cubejs-api/v1/{endpoint}", params=params)
        assert got.status_code == 400, (endpoint, got.text)
        assert set(got.json()) == {"error"} and needle in got.json()["error"]


def test_bad_bodies_and_unknown_routes_are_json_errors(client) -> None:
    got = client.post("/cubejs-api/v1/load", content=b"{oops",
                      headers={"content-type": "application/json"})
    assert got.status_code == 400 and "not valid JSON" in got.json()["error"]
    assert client.post("/v1/sql", json=["x"]).status_code == 400
    assert client.post("/v1/sql", json={"sql": 3}).json()["error"].startswith("sql:")
    assert client.get("/nope").json() == {"error": "Not Found"}
    assert client.put("/health").status_code == 405


def test_meta_sql_and_dry_run(client, layer) -> None:
    meta = client.get("/cubejs-api/v1/meta").json()
    sales = next(c for c in meta["cubes"] if c["name"] == "sales")
    revenue = next(m for m in sales["measures"] if m["name"] == "sales.revenue")
    assert (revenue["type"], revenue["aggType"]) == ("number", "sum")
    assert {d["name"]: d["type"] for d in sales["dimensions"]}["sales.at"] == "time"
    plan = layer.plan(BY_REGION)
    sql = client.get("/cubejs-api/v1/sql", params={"query": json.dumps(BY_REGION)}).json()
    assert sql["sql"]["sql"] == [plan.sql, []] and sql["sql"]["source"] == plan.source
    dry = client.post("/cubejs-api/v1/dry-run", json={"query": BY_REGION}).json()
    assert dry["queryType"] == "regularQuery"
    assert dry["normalizedQueries"][0]["timeDimensions"] == [
        {"dimension": "sales.at", "granularity": "month"}]
    assert dry["transformedQueries"][0]["source"] == plan.source


def test_arrow_and_csv_formats(client, layer) -> None:
    truth = layer.query(BY_REGION)
    arrow = client.get("/cubejs-api/v1/load", params={"query": json.dumps(BY_REGION)},
                       headers={"accept": "application/vnd.apache.arrow.stream"})
    assert arrow.headers["content-type"] == "application/vnd.apache.arrow.stream"
    table = pa.ipc.open_stream(io.BytesIO(arrow.content)).read_all()
    assert table.equals(truth.table)
    text = client.get("/cubejs-api/v1/load", params={"query": json.dumps(BY_REGION)},
                      headers={"accept": "text/csv"}).text.splitlines()
    assert text[0].split(",") == truth.table.column_names and len(text) == len(truth.data) + 1
    sql = "SELECT region, count(*) AS n FROM raw.orders_csv GROUP BY 1 ORDER BY 1"
    rows = layer.sql(sql).table.to_pylist()
    js = client.post("/v1/sql", json={"sql": sql}).json()
    assert js["columns"] == [{"name": "region", "type": "string"},
                             {"name": "n", "type": "int64"}] and js["data"] == rows
    csv = client.post("/v1/sql", json={"sql": sql}, headers={"accept": "text/csv"}).text
    assert csv.splitlines()[1:] == [f"{r['region']},{r['n']}" for r in rows]
    ipc = client.post("/v1/sql", json={"sql": sql},
                      headers={"accept": "application/vnd.apache.arrow.stream"}).content
    assert pa.ipc.open_stream(io.BytesIO(ipc)).read_all().to_pylist() == rows


def test_sql_is_read_only(client) -> None:
    for text in ("SELECT * FROM read_csv('/etc/passwd')", "COPY raw.orders_csv TO '/tmp/x'",
                 "ATTACH '/tmp/x.db'", "SELECT 1; SELECT 2"):
        got = client.post("/v1/sql", json={"sql": text})
        assert got.status_code == 400 and got.json()["error"], text


def test_health_and_tables(client, demo: Path) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["version"] and health["uptime_s"] >= 0
    tables = client.get("/v1/tables").json()["tables"]
    assert health["tables"] == len(tables) >= 3  # the raw table and the rollups
    raw = next(t for t in tables if t["name"] == "raw.orders_csv")
    import duckdb

    con = duckdb.connect()
    lines = con.execute(f"SELECT count(*) FROM read_csv('{demo}/landing/csv/orders.csv', "
                        "all_varchar=true)").fetchone()[0]
    assert 0 < raw["rows"] <= lines  # the quarantined rows are not in the table
    assert {"name": "region", "type": "string"} in raw["columns"]
    ingest = next(r for r in health["last_runs"] if r["table"] == "raw.orders_csv")
    assert ingest["added_records"] == raw["rows"] and ingest["operation"] == "append"


def test_continue_wait_then_the_retry_gets_the_same_job(demo: Path, layer) -> None:
    query = {"measures": ["sales.orders"], "dimensions": ["sales.activity"]}
    with client_for(create_app(demo, continue_wait_s=0)) as c:
        first = c.get("/cubejs-api/v1/load", params={"query": json.dumps(query)})
        assert first.status_code == 200 and first.json() == {"error": "Continue wait"}
        for _ in range(2000):  # the client's retries; the job runs meanwhile
            again = c.get("/cubejs-api/v1/load", params={"query": json.dumps(query)}).json()
            if again != {"error": "Continue wait"}:
                break
        assert again["data"] == layer.query(query).data
        assert c.app.state.api.jobs.running() == 0


def test_limits_from_the_config(tmp_path: Path) -> None:
    root = make_demo(tmp_path / "p", "api:\n  row_limit: 3\n  max_row_limit: 5\n"
                                      "  max_body_bytes: 2048\n"
                                      "  cors_origins: [http://localhost:3000]\n")
    with client_for(create_app(root)) as c:
        q = {"measures": ["sales.events"], "dimensions": ["sales.case_id"]}
        got = c.get("/cubejs-api/v1/load", params={"query": json.dumps(q)}).json()
        assert len(got["data"]) == 3 and got["query"]["limit"] == 3
        over = c.get("/cubejs-api/v1/load", params={"query": json.dumps({**q, "limit": 6})})
        assert over.status_code == 400 and "maximum of 5" in over.json()["error"]
        sql = c.post("/v1/sql", json={"sql": "SELECT case_id FROM raw.orders_csv"})
        assert len(sql.json()["data"]) == 5 and sql.headers["x-logflow-truncated"] == "true"
        big = c.post("/v1/sql", json={"sql": "SELECT 1 -- " + "x" * 3000})
        assert big.status_code == 413 and "limit" in big.json()["error"]
        pre = c.options("/cubejs-api/v1/load", headers={
            "origin": "http://localhost:3000", "access-control-request-method": "GET",
            "access-control-request-headers": "authorization"})
        assert pre.headers["access-control-allow-origin"] == "http://localhost:3000"
        other = c.get("/health", headers={"origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_a_bug_is_a_logged_json_500_without_traceback(demo: Path, caplog) -> None:
    app = create_app(demo)

    def broken(*_: object) -> dict:
        raise RuntimeError("a bug")

    app.state.api.layer.meta = broken  # an internal failure, not bad input
    with client_for(app) as c, caplog.at_level(logging.ERROR, logger="logflow.api"):
        got = c.get("/cubejs-api/v1/meta")
    assert got.status_code == 500
    assert got.json() == {"error": "internal error (logged on the server)"}
    assert any("a bug" in (r.exc_text or "") for r in caplog.records)


def test_other_peers_are_refused_without_an_authenticator(demo: Path) -> None:
    with client_for(create_app(demo), peer="10.0.0.7") as c:
        got = c.get("/cubejs-api/v1/meta")
        assert got.status_code == 401 and "loopback" in got.json()["error"]
        assert c.post("/v1/sql", json={"sql": "SELECT 1"}).status_code == 401


def test_access_log_is_one_json_line_per_request(client, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="logflow.api.access"):
        client.get("/cubejs-api/v1/load",
                   params={"query": json.dumps({"measures": ["sales.events"]})})
        client.get("/cubejs-api/v1/load", params={"query": "{"})
    lines = [json.loads(r.getMessage()) for r in caplog.records
             if r.name == "logflow.api.access"]
    assert [(x["status"], x["rows"], x["identity"]) for x in lines] == [
        (200, 1, "anonymous"), (400, None, "anonymous")]
    assert all(x["method"] == "GET" and x["path"] == "/cubejs-api/v1/load"
               and x["duration_ms"] > 0 for x in lines)


def test_an_ingest_beside_the_server_is_seen_by_its_next_query(tmp_path: Path) -> None:
    from logflow_dagster.lakehouse.catalog import CatalogConfig
    from logflow_dagster.lakehouse.ingest import ingest

    root = make_demo(tmp_path / "p")
    query = {"query": json.dumps({"measures": ["sales.events"]})}
    with client_for(create_app(root)) as c:
        before = int(c.get("/cubejs-api/v1/load", params=query).json()["data"][0]["sales.events"])
        again = root / "more.csv"  # the same rows in another file: twice the rows
        again.write_bytes((root / "landing" / "csv" / "orders.csv").read_bytes())
        ingest(again, "raw.orders_csv", catalog=CatalogConfig.embedded(root),
               project_dir=root, error_policy="quarantine", lineage=False)
        after = c.get("/cubejs-api/v1/load", params=query).json()
        health = c.get("/health").json()
    assert int(after["data"][0]["sales.events"]) == 2 * before
    assert after["usedPreAggregations"] == {}  # the rollup is stale now: raw data answered
    runs = [r for r in health["last_runs"] if r["table"] == "raw.orders_csv"]
    assert len(runs) == 2 and runs[0]["total_records"] == 2 * runs[1]["total_records"]
