"""Row and member security from Cube's access_policy, on every path of the semantic layer:
tenant A never sees tenant B's rows or a hidden member, masked members read as their mask,
SQL (CTEs, subqueries, joins, UNIONs) reads guarded tables only through the policy, values
from the identity are inert, and the router and cache respect the policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from logflow_dagster.auth.identity import Identity
from logflow_dagster.core.errors import Forbidden, UsageError
from logflow_dagster.lakehouse.catalog import CatalogConfig
from logflow_dagster.lakehouse.ingest import ingest
from logflow_dagster.semantic import SemanticLayer

ORDERS = ("id,tenant,status,email,amount,secret\n"
          "1,acme,paid,a@acme.io,10,s1\n"
          "2,acme,open,b@acme.io,20,s2\n"
          "3,globex,paid,c@globex.io,100,s3\n"
          "4,globex,paid,d@globex.io,200,s4\n"
          "5,globex,open,e@globex.io,400,s5\n")
MODEL = """\
cubes:
  - name: orders
    sql_table: shop.orders
    dimensions:
      - {name: id, sql: id, type: number, primary_key: true}
      - {name: tenant, sql: tenant, type: string, public: false}
      - {name: status, sql: status, type: string}
      - {name: email, sql: email, type: string, mask: "***"}
      - {name: secret, sql: secret, type: string}
      - {name: email_domain, sql: "split_part({email}, '@', 2)", type: string}
      - {name: email_upper, sql: "upper({email})", type: string}
    measures:
      - {name: count, type: count}
      - {name: total, sql: amount, type: sum}
    pre_aggregations:
      - {name: by_status, measures: [count, total], dimensions: [status]}
    access_policy:
      - role: analyst
        member_level: {excludes: [email, secret, email_domain]}
        member_masking: {includes: [email, email_domain]}
        row_level:
          filters:
            - {member: tenant, operator: equals, values: ["{ securityContext.tenant }"]}
      - role: admin
"""

ACME = Identity("ana", tenant="acme", roles=frozenset({"analyst"}))
GLOBEX = Identity("gus", tenant="globex", roles=frozenset({"analyst"}))
ADMIN = Identity("root", roles=frozenset({"admin"}))
NOBODY = Identity("eve", tenant="acme", roles=frozenset({"guest"}))


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("secure")
    (root / "models").mkdir()
    (root / "models" / "m.yml").write_text(MODEL)
    (root / "logflow.yaml").write_text("project: s\nsemantic:\n  models: [models]\n")
    (root / "orders.csv").write_text(ORDERS)
    ingest(root / "orders.csv", "shop.orders", catalog=CatalogConfig.embedded(root),
           project_dir=root, lineage=False)
    with SemanticLayer.from_project(root) as layer:
        layer.build_rollups()
        yield layer


TOTALS = {"measures": ["orders.count", "orders.total"]}


def _one(layer, query, identity):
    (row,) = layer.query(query, identity).data
    return row


def test_each_tenant_sees_its_own_rows(layer) -> None:
    assert _one(layer, TOTALS, ACME) == {"orders.count": "2", "orders.total": "30"}
    assert _one(layer, TOTALS, GLOBEX) == {"orders.count": "3", "orders.total": "700"}
    assert _one(layer, TOTALS, ADMIN) == {"orders.count": "5", "orders.total": "730"}
    assert _one(layer, TOTALS, None) == {"orders.count": "5", "orders.total": "730"}
    with pytest.raises(Forbidden, match="not accessible"):
        layer.query(TOTALS, NOBODY)  # a role no policy names: default deny


def test_the_cache_is_keyed_by_the_identity(layer) -> None:
    q = {"measures": ["orders.total"], "dimensions": ["orders.status"],
         "order": {"orders.status": "asc"}}
    a = layer.query(q, ACME).data
    b = layer.query(q, GLOBEX).data
    again = layer.query(q, ACME)
    assert a == [{"orders.status": "open", "orders.total": "20"},
                 {"orders.status": "paid", "orders.total": "10"}]
    assert b == [{"orders.status": "open", "orders.total": "400"},
                 {"orders.status": "paid", "orders.total": "300"}]
    assert again.cache_hit and again.data == a


def test_a_rollup_without_the_filter_column_is_skipped(layer) -> None:
    q = {"measures": ["orders.total"], "dimensions": ["orders.status"]}
    assert layer.query(q, ADMIN).source == "rollup:orders.by_status"
    plan = layer.plan(q, ACME)
    assert plan.source == "raw"
    assert "orders.tenant" in plan.rejected["orders.by_status"]


def test_hidden_members_are_refused_and_masked_ones_read_as_the_mask(layer) -> None:
    with pytest.raises(Forbidden, match=r"orders\.secret"):
        layer.query({"dimensions": ["orders.secret"]}, ACME)
    with pytest.raises(Forbidden, match=r"orders\.secret"):
        layer.query({**TOTALS, "filters": [{"member": "orders.secret", "operator": "equals",
                                            "values": ["s3"]}]}, ACME)
    data = layer.query({"dimensions": ["orders.email", "orders.email_domain",
                                       "orders.email_upper"],
                        "measures": ["orders.count"]}, ACME).data
    # one group: the masks (NULL where a member has none), never the addresses, nor what a
    # visible member computes from them
    assert data == [{"orders.email": "***", "orders.email_domain": None,
                     "orders.email_upper": "***", "orders.count": "2"}]
    assert {r["orders.email"] for r in layer.query(
        {"dimensions": ["orders.email"]}, ADMIN).data} >= {"a@acme.io", "c@globex.io"}


def test_meta_shows_what_the_identity_may_see(layer) -> None:
    names = {m["name"] for c in layer.meta(ACME)["cubes"] for k in ("dimensions", "measures")
             for m in c[k]}
    assert "orders.secret" not in names and {"orders.email", "orders.count"} <= names
    assert "orders.secret" in {m["name"] for m in layer.meta(ADMIN)["cubes"][0]["dimensions"]}
    assert layer.meta(NOBODY)["cubes"] == []


@pytest.mark.parametrize("sql", [
    "SELECT count(*) AS n FROM shop.orders",
    "WITH o AS (SELECT * FROM shop.orders) SELECT count(*) AS n FROM o",
    "SELECT count(*) AS n FROM (SELECT id FROM shop.orders WHERE amount > 0) t",
    "SELECT count(*) AS n FROM shop.orders a JOIN shop.orders b ON a.id = b.id",
    "SELECT count(*) AS n FROM (SELECT id FROM shop.orders UNION ALL "
    "SELECT id FROM shop.orders WHERE tenant = 'globex') u",
    "SELECT count(*) AS n FROM shop.orders WHERE id IN (SELECT id FROM shop.orders)",
])
def test_sql_reads_only_the_tenants_rows(layer, sql: str) -> None:
    n = layer.sql(sql, ACME).table.column("n").to_pylist()[0]
    expected = {"SELECT count(*) AS n FROM (SELECT id FROM shop.orders UNION ALL "
                "SELECT id FROM shop.orders WHERE tenant = 'globex') u": 2}
    assert n == expected.get(sql, 2)
    assert layer.sql(sql, None).table.column("n").to_pylist()[0] >= 5


def test_sql_hides_and_masks_columns(layer) -> None:
    rows = layer.sql("SELECT * FROM shop.orders ORDER BY id", ACME).table
    assert "secret" not in rows.column_names
    assert rows.column("email").to_pylist() == ["***", "***"]
    assert rows.column("tenant").to_pylist() == ["acme", "acme"]
    with pytest.raises(UsageError):
        layer.sql("SELECT secret FROM shop.orders", ACME)
    with pytest.raises(Forbidden):
        layer.sql("SELECT count(*) FROM shop.orders", NOBODY)


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM iceberg_scan('x')",
    "SELECT * FROM 'orders.csv'",
    "COPY shop.orders TO '/tmp/x.csv'",
    "ATTACH '/tmp/x.db'",
    "SELECT 1; SELECT 2",
])
def test_sql_refuses_files_and_statements(layer, sql: str) -> None:
    with pytest.raises(UsageError, match=r"refused|exactly one"):
        layer.sql(sql, ACME)


def test_injection_through_identity_values_and_members_is_inert(layer) -> None:
    evil = Identity("mal", tenant="acme' OR '1'='1", roles=frozenset({"analyst"}))
    assert _one(layer, TOTALS, evil) == {"orders.count": "0", "orders.total": None}
    assert layer.sql("SELECT count(*) AS n FROM shop.orders", evil).table.column(
        "n").to_pylist() == [0]
    with pytest.raises(UsageError):
        layer.query({"measures": ["orders.count; DROP TABLE x"]}, ACME)
    hostile = {**TOTALS, "filters": [{"member": "orders.status", "operator": "equals",
                                      "values": ["paid' OR '1'='1"]}]}
    assert _one(layer, hostile, ACME) == {"orders.count": "0", "orders.total": None}


def test_missing_identity_attribute_is_refused(layer) -> None:
    with pytest.raises(Forbidden, match=r"securityContext\.tenant"):
        layer.query(TOTALS, Identity("x", roles=frozenset({"analyst"})))


def test_policy_errors_name_file_and_key(tmp_path: Path) -> None:
    from logflow_dagster.semantic.loader import load_model_text

    bad = MODEL.replace("      - role: admin\n", "      - role: admin\n        conditions: []\n")
    with pytest.raises(UsageError, match=r"m\.yml:\d+: .*conditions: unsupported"):
        load_model_text(bad, "m.yml")


def test_every_query_and_refusal_is_audited(layer) -> None:
    import json

    path = layer.audit.path
    before = len(path.read_text().splitlines()) if path.exists() else 0
    layer.query(TOTALS, ACME.with_request(peer="10.9.8.7", purpose="billing"))
    with pytest.raises(Forbidden):
        layer.query(TOTALS, NOBODY)
    layer.sql("SELECT count(*) FROM shop.orders", GLOBEX.with_request(peer="10.9.8.7",
                                                                     purpose="research"))
    lines = [json.loads(x) for x in path.read_text().splitlines()[before:]]
    assert [(x["action"], x["outcome"]) for x in lines] == [
        ("query", "allowed"), ("query", "denied"), ("sql", "allowed")]
    ok, denied, research = lines
    assert ok["identity"] == {"id": "ana", "type": "user", "tenant": "acme",
                              "roles": ["analyst"]}
    assert (ok["peer"], ok["purpose"], ok["resource"], ok["rows"]) == (
        "10.9.8.7", "billing", ["orders"], 1)
    assert set(ok["tables"]) == {"shop.orders"} and ok["source"] == "raw"
    assert denied["identity"]["id"] == "eve" and "not accessible" in denied["reason"]
    # a research purpose: the identity dropped, the address truncated
    assert research["identity"] is None and research["peer"] == "10.9.8.0/24"
    assert research["resource"] == ["shop.orders"]
