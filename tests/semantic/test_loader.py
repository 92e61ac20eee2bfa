"""Model loading: Cube's YAML subset loads; every error names file:line: key.path."""

from __future__ import annotations

import pytest

from logflow_dagster.core.errors import UsageError
from logflow_dagster.semantic.loader import load_model_text

BASE = """\
cubes:
  - name: orders
    sql_table: raw.orders
    joins:
      - name: customers
        relationship: belongs_to
        sql: "{CUBE}.customer_id = {customers}.id"
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
      - name: status
        sql: status
        type: string
    measures:
      - name: count
        type: count
  - name: customers
    sql_table: raw.customers
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
"""


def test_the_subset_loads() -> None:
    model = load_model_text(BASE)
    assert model.cube("orders").joins["customers"].relationship == "many_to_one"
    assert model.member("orders.count").type == "count"


def _error(text: str) -> str:
    with pytest.raises(UsageError) as info:
        load_model_text(text, "m.yml")
    return str(info.value)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("type: count\n", "type: running_total\n",
     "m.yml:18: cubes.0.measures.0.type: unsupported: measure type 'running_total'"),
    ("        sql: status\n", "        sql: \"{nope}\"\n",
     "m.yml:14: cubes.0.dimensions.1.sql: unknown member 'orders.nope'"),
    ("        sql: status\n", "        sql: \"{status} || 'x'\"\n",
     "m.yml:14: cubes.0.dimensions.1.sql: member references form a cycle: orders.status -> "
     "orders.status"),
    ("relationship: belongs_to", "relationship: sometimes",
     "m.yml:6: cubes.0.joins.0.relationship: 'sometimes': expected many_to_one"),
    ("sql_table: raw.orders", "sql_table: raw.orders.x",
     "m.yml:3: cubes.0.sql_table: 'raw.orders.x'"),
    ("        type: count\n", "        type: count\n        rolling_window: {trailing: 7 day}\n",
     "m.yml:19: cubes.0.measures.0.rolling_window: unsupported: rolling_window"),
    ("        type: count\n", "        type: count\n  - name: x\n",
     "m.yml:19: cubes.1: cube 'x': give exactly one of sql_table or sql"),
])
def test_errors_name_file_line_and_key(old: str, new: str, expected: str) -> None:
    assert old in BASE
    assert _error(BASE.replace(old, new, 1)).startswith(expected)


def test_number_measure_over_undefined_member() -> None:
    text = BASE + "    measures:\n      - {name: ratio, sql: \"{orders.count} / {nothing}\", " \
                  "type: number}\n"
    assert _error(text).startswith("m.yml:27: cubes.1.measures.0.sql: unknown member "
                                   "'customers.nothing'")


def test_views_and_other_pre_aggregation_types_are_unsupported() -> None:
    assert _error(BASE + "views: []\n").startswith("m.yml:26: views: unsupported: views")
    text = BASE.replace("        type: count\n", "        type: count\n    pre_aggregations:\n"
                        "      - {name: j, type: rollup_join}\n", 1)
    assert _error(text).startswith("m.yml:20: cubes.0.pre_aggregations.0.type: unsupported: "
                                   "pre-aggregation type 'rollup_join'")


def test_pre_aggregation_is_parsed_with_full_member_paths() -> None:
    text = BASE.replace("        type: count\n", """        type: count
    pre_aggregations:
      - name: by_status
        measures: [CUBE.count]
        dimensions: [status, customers.id]
        refresh_key: {every: 1 hour}
""", 1)
    pre = load_model_text(text).cube("orders").pre_aggregations["by_status"]
    assert (pre.measures, pre.dimensions, pre.path) == (
        ["orders.count"], ["orders.status", "customers.id"], "orders.by_status")
    bad = text.replace("[status, customers.id]", "[status, customers.nope]")
    assert _error(bad).startswith("m.yml:22: cubes.0.pre_aggregations.0.dimensions.1: unknown "
                                  "member 'customers.nope'")


def test_ambiguous_join_path_is_refused_but_two_way_joins_are_fine() -> None:
    two_way = BASE + """    joins:
      - name: orders
        relationship: has_many
        sql: "{CUBE}.id = {orders}.customer_id"
"""
    load_model_text(two_way)
    diamond = """\
cubes:
  - name: a
    sql_table: raw.a
    joins:
      - {name: b, relationship: belongs_to, sql: "{CUBE}.b = {b}.id"}
      - {name: c, relationship: belongs_to, sql: "{CUBE}.c = {c}.id"}
  - name: b
    sql_table: raw.b
    joins: [{name: d, relationship: belongs_to, sql: "{CUBE}.d = {d}.id"}]
  - name: c
    sql_table: raw.c
    joins: [{name: d, relationship: belongs_to, sql: "{CUBE}.d = {d}.id"}]
  - name: d
    sql_table: raw.d
"""
    assert _error(diamond).startswith("m.yml:2: cubes.0: ambiguous join path from 'a' to 'd'")


def test_cube_sql_is_guarded() -> None:
    text = BASE.replace("sql_table: raw.orders", "sql: \"SELECT * FROM read_csv('/etc/x')\"")
    assert _error(text).startswith("m.yml:3: cubes.0.sql: refused: table function read_csv")
