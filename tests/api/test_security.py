"""Tenant isolation through every interface with real credentials: REST with JWTs and API
keys, Cube's own JS client with a JWT, and the CLI with --token. Tenant A never sees tenant
B's rows, a hidden member, or an unmasked masked member; unauthenticated callers get 401,
refused members 403, as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest

from logflow_dagster.api import create_app
from logflow_dagster.auth import KeyStore
from logflow_dagster.lakehouse.catalog import CatalogConfig
from logflow_dagster.lakehouse.ingest import ingest
from tests.semantic.test_policies import MODEL, ORDERS

from .conftest import client_for
from .server import serve
from .test_cube_client import JS, _node

SECRET = "test-secret-0123456789abcdef0123456789"
TOTALS = {"measures": ["orders.count", "orders.total"]}


def _token(sub: str, tenant: str | None, roles: list[str]) -> str:
    return jwt.encode({"sub": sub, "tenant": tenant, "roles": roles,
                       "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")


ACME = _token("ana", "acme", ["analyst"])
GLOBEX = _token("gus", "globex", ["analyst"])


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("secured")
    (root / "models").mkdir()
    (root / "models" / "m.yml").write_text(MODEL)
    (root / "logflow.yaml").write_text(
        "project: s\nsemantic:\n  models: [models]\n"
        f"auth:\n  keys_file: keys.json\n  jwt:\n    secret: {SECRET}\n")
    (root / "orders.csv").write_text(ORDERS)
    ingest(root / "orders.csv", "shop.orders", catalog=CatalogConfig.embedded(root),
           project_dir=root, lineage=False)
    return root


def test_rest_tenants_keys_and_refusals(secured: Path) -> None:
    key = KeyStore(secured / "keys.json").add("globex-etl", tenant="globex", roles=["analyst"])
    with client_for(create_app(secured), peer="10.2.3.4") as c:
        def load(token: str | None, query: dict) -> tuple[int, dict]:
            headers = {"Authorization": token} if token is not None else {}
            got = c.post("/cubejs-api/v1/load", json={"query": query}, headers=headers)
            return got.status_code, got.json()

        status, body = load(ACME, TOTALS)
        assert status == 200 and body["data"] == [{"orders.count": "2", "orders.total": "30"}]
        status, body = load(f"Bearer {GLOBEX}", TOTALS)
        assert body["data"] == [{"orders.count": "3", "orders.total": "700"}]
        status, body = load(key, TOTALS)  # an API key of the same tenant
        assert body["data"] == [{"orders.count": "3", "orders.total": "700"}]
        for bad in (None, "undefined", "Bearer nope", _token("x", "acme", ["analyst"])[:-3]):
            status, body = load(bad, TOTALS)
            assert status == 401 and set(body) == {"error"}
        status, body = load(ACME, {"dimensions": ["orders.secret"]})
        assert status == 403 and "orders.secret" in body["error"]
        status, body = load(ACME, {"dimensions": ["orders.email"]})
        assert {r["orders.email"] for r in body["data"]} == {"***"}
        sql = c.post("/v1/sql", json={"sql": "SELECT email, amount FROM shop.orders "
                                             "UNION ALL SELECT email, amount FROM shop.orders"},
                     headers={"Authorization": ACME})
        assert sql.status_code == 200
        assert sorted(r["amount"] for r in sql.json()["data"]) == [10, 10, 20, 20]
        assert {r["email"] for r in sql.json()["data"]} == {"***"}
        meta = c.get("/cubejs-api/v1/meta", headers={"Authorization": ACME}).json()
        names = {m["name"] for cube in meta["cubes"] for m in cube["dimensions"]}
        assert "orders.secret" not in names and "orders.email" in names
        tables = c.get("/v1/tables", headers={"Authorization": ACME}).json()["tables"]
        assert [t["name"] for t in tables] == ["shop.orders"]
        nobody = _token("eve", "acme", ["guest"])
        assert c.get("/v1/tables", headers={"Authorization": nobody}).json()["tables"] == []
        assert c.post("/v1/sql", json={"sql": "SELECT 1 FROM shop.orders"},
                      headers={"Authorization": nobody}).status_code == 403


def test_cubes_client_with_a_token_reads_only_its_tenant(secured: Path) -> None:
    node = _node()
    query = {"measures": ["orders.count", "orders.total"], "dimensions": ["orders.status"],
             "order": {"orders.status": "asc"}}
    with serve(secured) as url:
        runs = {name: subprocess.run([node, str(JS / "cube_tenant.mjs"),
                                      f"{url}/cubejs-api/v1", token, json.dumps(query)],
                                     capture_output=True, text=True, timeout=120)
                for name, token in (("acme", ACME), ("globex", GLOBEX))}
    for run in runs.values():
        assert run.returncode == 0, run.stderr
    acme, globex = (json.loads(runs[n].stdout) for n in ("acme", "globex"))
    assert acme["rows"] == [
        {"orders.status": "open", "orders.count": "1", "orders.total": "20"},
        {"orders.status": "paid", "orders.count": "1", "orders.total": "10"}]
    assert globex["rows"] == [
        {"orders.status": "open", "orders.count": "1", "orders.total": "400"},
        {"orders.status": "paid", "orders.count": "2", "orders.total": "300"}]
    assert "orders.secret" not in acme["members"]
    assert acme["secret"]["status"] == 403


def test_cli_token(secured: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "logflow_dagster.cli", *args,
                               "--project", str(secured)], capture_output=True, text=True,
                              timeout=120)

    got = cli("query", json.dumps(TOTALS), "--json", "--token", ACME)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["data"] == [{"orders.count": "2", "orders.total": "30"}]
    trusted = cli("query", json.dumps(TOTALS), "--json")  # the local user: no policy
    assert json.loads(trusted.stdout)["data"] == [{"orders.count": "5", "orders.total": "730"}]
    sql = cli("sql", "SELECT count(*) AS n FROM shop.orders", "--json", "--token", GLOBEX)
    assert [json.loads(x) for x in sql.stdout.splitlines()] == [{"n": 3}]
    refused = cli("query", json.dumps({"dimensions": ["orders.secret"]}), "--token", ACME)
    assert refused.returncode == 77 and "orders.secret" in refused.stderr
    bad = cli("query", json.dumps(TOTALS), "--token", "nope")
    assert bad.returncode == 77 and "Traceback" not in bad.stderr
