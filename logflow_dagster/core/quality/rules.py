"""Quality rules: one object per configured rule, evaluated on the rows of one landed file.

A :class:`Rule` is the single source for a check's name, description, metadata and lineage
assertion. :meth:`Rule.evaluate` pushes it down to DuckDB SQL over :class:`RuleData` (normally
``iceberg_scan(...) WHERE _source_uri = ?``, the rows one file wrote); pandera and Great
Expectations validate those rows as pandas (lineage columns dropped). Row rules (not_null,
unique, accepted_values, range, regex) count failing rows (nulls pass all but not_null; unique
counts every row holding a repeated value) and sample up to 5 distinct failing values
(not_null: rows). Aggregate rules (row_count, null_ratio, distinct_count, entropy, freshness)
fail with ``failing_count`` 1, the observed value as sample. schema counts missing or mistyped
columns, pandera failure cases, great_expectations unsuccessful expectations.
:meth:`Rule.evaluate_profile` answers row_count, not_null, null_ratio, distinct_count and
entropy from an ingest profile when that is exact; Dagster checks use SQL (the committed table).

Example:
    >>> Rule.from_config({"type": "not_null", "column": "case_id"}).name
    'not_null_case_id'
"""

from __future__ import annotations

import importlib
import json
import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from ..errors import UsageError
from ..lineage_columns import LINEAGE_COLUMNS
from ..schema import parse_type, type_label
from .profile import jsonable, quote_ident
from .rule_types import BOUNDED, NEEDS, ROW_RULES, RULE_TYPES

SAMPLE_SIZE = 5


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule found: pass/fail, how many failed, a sample, measured values, a message."""

    passed: bool
    failing_count: int = 0
    sample: list[Any] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    message: str = ""


class RuleData:
    """The rows rules run on: a DuckDB ``relation`` (SQL usable after FROM, e.g.
    ``iceberg_scan(...)``) read through ``con``, only rows whose ``_source_uri`` is ``source_uri``
    (one landed file) when given. Queries read it as ``p``.

    Example:
        >>> import duckdb
        >>> RuleData(duckdb.connect(), "(SELECT 1 AS a)").rows("SELECT count(*) FROM p")
        [(1,)]
    """

    def __init__(self, con: Any, relation: str, source_uri: str | None = None) -> None:
        self.con = con
        where = f" WHERE {quote_ident(LINEAGE_COLUMNS[0])} = ?" if source_uri is not None else ""
        self._cte = f"WITH p AS (SELECT * FROM {relation}{where}) "
        self._params: list[Any] = [] if source_uri is None else [source_uri]

    def rows(self, select: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Runs ``select`` (which reads the relation as ``p``) and returns all rows."""
        return self.con.execute(self._cte + select, [*self._params, *params]).fetchall()

    @cached_property
    def columns(self) -> dict[str, str]:
        """Column name -> type label (``string``, ``int64``, ``timestamptz``...), lineage too."""
        reader = self.con.execute(self._cte + "SELECT * FROM p LIMIT 0", self._params).arrow()
        return {f.name: type_label(f.type) for f in reader.schema}

    @property
    def data_columns(self) -> str:
        """The columns without the lineage columns, as a SQL select list."""
        return ", ".join(quote_ident(c) for c in self.columns if c not in LINEAGE_COLUMNS)

    def frame(self) -> Any:
        """The rows as a pandas DataFrame, lineage columns dropped."""
        return self.con.execute(f"{self._cte}SELECT {self.data_columns} FROM p",
                                self._params).df()


def _bounds(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    return f">= {low:g}" if low is not None else f"<= {high:g}" if high is not None else ""


def _json(values: Iterable[Any]) -> list[Any]:
    return [jsonable(v.item() if hasattr(v, "item") else v) for v in values]


@dataclass(frozen=True)
class Rule:
    """One quality rule, built from a ``RuleConfig`` (or a mapping with the same keys).

    ``type``, ``column``, ``values``, ``min``, ``max``, ``pattern``, ``model``, ``suite`` and
    ``blocking`` are as in ``RuleConfig``; ``name`` is the check name (default
    ``<type>_<column>``, ``row_count``, ``schema``, ``pandera_<Model>``,
    ``great_expectations_<suite file stem>``); ``root`` resolves a relative ``suite`` path.
    Raises :class:`UsageError` for an unknown type or a missing or invalid setting.

    Example:
        >>> Rule.from_config({"type": "range", "column": "amount", "min": 0}).description
        'amount >= 0'
    """

    type: str
    column: str | None = None
    values: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    model: str | None = None
    suite: str | None = None
    blocking: bool = False
    name: str = ""
    root: str = "."

    def __post_init__(self) -> None:
        if self.type not in RULE_TYPES:
            raise UsageError(f"unknown rule type {self.type!r}; use one of {RULE_TYPES}")
        for key, types in NEEDS.items():
            if self.type in types and getattr(self, key) in (None, "", ()):
                raise UsageError(f"rule {self.type}: '{key}' is required")
        if self.type in BOUNDED and self.min is None and self.max is None:
            raise UsageError(f"rule {self.type}: give 'min', 'max' or both")
        for spec in self.values or () if self.type == "schema" else ():
            if ":" in str(spec):
                parse_type(str(spec).split(":", 1)[1])  # UsageError for an unknown type
        if not self.name:
            part = {"pandera": (self.model or "").replace(":", ".").rsplit(".", 1)[-1],
                    "great_expectations": os.path.splitext(os.path.basename(self.suite or ""))[0]
                    }.get(self.type, self.column)
            name = f"{self.type}_{part}" if part else self.type
            object.__setattr__(self, "name", re.sub(r"[^A-Za-z0-9_]", "_", name))

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | Any, *, root: str | os.PathLike[str] = ".",
                    name: str | None = None) -> Rule:
        """Builds a rule from a ``RuleConfig`` or a mapping with its keys (see the class)."""
        data = dict(config.model_dump() if hasattr(config, "model_dump") else config)
        values, data["name"] = data.get("values"), name or data.get("name") or ""
        data["values"] = None if values is None else tuple(values)
        return cls(**data, root=os.fspath(root))

    @property
    def description(self) -> str:
        """One line saying what the rule expects (the check's description)."""
        c, b = self.column, _bounds(self.min, self.max)
        return {
            "not_null": f"{c} is never null", "unique": f"{c} values are unique",
            "accepted_values": f"{c} is one of {list(self.values or ())}", "range": f"{c} {b}",
            "regex": f"{c} fully matches {self.pattern}", "row_count": f"row count {b}",
            "null_ratio": f"null ratio of {c} {b}", "entropy": f"entropy of {c} {b} bits",
            "distinct_count": f"distinct values of {c} {b}",
            "freshness": f"newest {c} at most {self.max:g} s old" if self.max is not None else "",
            "schema": f"columns {', '.join(map(str, self.values or ()))}",
            "pandera": f"pandera model {self.model} validates",
            "great_expectations": f"Great Expectations suite {self.suite} passes",
        }[self.type]

    def to_dict(self) -> dict[str, Any]:
        """The rule's settings without empty ones (check metadata, lineage facets)."""
        keys = ("type", "column", "values", "min", "max", "pattern", "model", "suite", "blocking")
        out = {k: getattr(self, k) for k in keys if getattr(self, k) is not None}
        return out | ({"values": _json(self.values)} if self.values is not None else {})

    def assertion(self, outcome: RuleOutcome) -> dict[str, Any]:
        """An OpenLineage ``dataQualityAssertions`` entry: assertion, success (and column)."""
        entry: dict[str, Any] = {"assertion": self.name, "success": outcome.passed}
        return entry | ({"column": self.column} if self.column else {})

    def evaluate(self, data: RuleData, *, now: float | None = None) -> RuleOutcome:
        """Evaluates the rule on ``data`` (``now``, epoch seconds, is for freshness).

        Example:
            >>> import duckdb
            >>> data = RuleData(duckdb.connect(), "(SELECT * FROM range(3) t(n))")
            >>> Rule("range", column="n", max=1).evaluate(data).sample
            [2]
        """
        if self.type in ("pandera", "great_expectations"):
            return (_pandera if self.type == "pandera" else _gx)(self, data.frame())
        if self.type == "schema":
            return self._schema(data.columns)
        if self.column is not None and self.column not in data.columns:
            raise UsageError(f"no column {self.column!r} (columns: {', '.join(data.columns)})")
        c = quote_ident(self.column or "")
        if self.type in ROW_RULES:
            return self._row_rule(data, c)
        if self.type == "null_ratio":
            nulls, rows = data.rows(f"SELECT count(*) FILTER ({c} IS NULL), count(*) FROM p")[0]
            return self._aggregate(nulls / rows if rows else 0.0, {"nulls": nulls, "rows": rows})
        if self.type == "freshness":
            return self._freshness(data, c, time.time() if now is None else now)
        sql = {"row_count": "count(*)", "distinct_count": f"count(DISTINCT {c})",
               "entropy": f"entropy({c})"}[self.type]
        return self._aggregate(data.rows(f"SELECT {sql} FROM p")[0][0], {})

    def evaluate_profile(self, profile: Mapping[str, Any]) -> RuleOutcome | None:
        """Evaluates from an ingest profile (``IngestResult.profile``) if exact, else None."""
        col = next((c for c in profile.get("columns", []) if c["name"] == self.column), {})
        if self.type == "not_null" and col:
            return self._count(col["nulls"], [], {"rows": col["count"]})
        observed = {"row_count": profile.get("rows"), "null_ratio": col.get("null_ratio"),
                    "distinct_count": col.get("distinct") if col.get("distinct_exact") else None,
                    "entropy": col.get("entropy") if col.get("entropy_exact") else None}
        value = observed.get(self.type)
        return None if value is None else self._aggregate(value, {})

    def _count(self, failing: int, sample: list[Any], metrics: dict[str, Any]) -> RuleOutcome:
        noun = {"schema": "columns", "pandera": "failure cases",
                "great_expectations": "expectations"}.get(self.type, "rows")
        message = f"{failing} {noun} fail: {self.description}" if failing else "ok"
        return RuleOutcome(failing == 0, failing, sample[:SAMPLE_SIZE], metrics, message)

    def _aggregate(self, observed: Any, metrics: dict[str, Any]) -> RuleOutcome:
        value = jsonable(observed)
        low = None if self.type == "freshness" else self.min  # freshness: a max age only
        passed = observed is not None and (low is None or observed >= low) and (
            self.max is None or observed <= self.max)
        message = f"observed {value}" + ("" if passed else f"; expected {self.description}")
        return RuleOutcome(passed, 0 if passed else 1, [] if passed else [value],
                           {**metrics, "observed": value}, message)

    def _row_rule(self, data: RuleData, c: str) -> RuleOutcome:
        params: list[Any] = []
        if self.type == "unique":  # every row holding a value that occurs more than once
            dup = (f", d AS (SELECT {c} AS v, count(*) AS n FROM p WHERE {c} IS NOT NULL "
                   f"GROUP BY {c} HAVING count(*) > 1) ")
            groups, rows = data.rows(f"{dup}SELECT count(*), coalesce(sum(n), 0) FROM d")[0]
            sample = data.rows(f"{dup}SELECT v FROM d ORDER BY n DESC, v LIMIT {SAMPLE_SIZE}")
            return self._count(int(rows), _json(r[0] for r in sample),
                               {"duplicated_values": groups})
        if self.type == "not_null":
            fail = f"{c} IS NULL"
        elif self.type == "accepted_values":
            params = list(self.values or ())
            fail = f"{c} IS NOT NULL AND {c} NOT IN ({', '.join('?' * len(params))})"
        elif self.type == "range":
            bounds = [(op, b) for op, b in (("<", self.min), (">", self.max)) if b is not None]
            fail = f"{c} IS NOT NULL AND ({' OR '.join(f'{c} {op} ?' for op, _ in bounds)})"
            params = [b for _, b in bounds]
        else:
            params = [self.pattern]
            fail = f"{c} IS NOT NULL AND NOT regexp_full_match(CAST({c} AS VARCHAR), ?)"
        failing, total, low, high = data.rows(
            f"SELECT count(*) FILTER ({fail}), count(*), min({c}), max({c}) FROM p", params)[0]
        metrics: dict[str, Any] = {"rows": total}
        if self.type == "range":
            metrics |= {"min": jsonable(low), "max": jsonable(high)}
        if not failing:
            return self._count(0, [], metrics)
        if self.type == "not_null":  # the failing value is always null: show the rows
            names = [n for n in data.columns if n not in LINEAGE_COLUMNS]
            got = data.rows(f"SELECT {data.data_columns} FROM p WHERE {fail} "
                            f"ORDER BY ALL LIMIT {SAMPLE_SIZE}")
            return self._count(failing, [dict(zip(names, _json(r), strict=True)) for r in got],
                               metrics)
        got = data.rows(f"SELECT DISTINCT {c} FROM p WHERE {fail} ORDER BY 1 "
                        f"LIMIT {SAMPLE_SIZE}", params)
        return self._count(failing, _json(r[0] for r in got), metrics)

    def _freshness(self, data: RuleData, c: str, now: float) -> RuleOutcome:
        kind = data.columns[self.column or ""]
        value = c if kind.startswith(("timestamp", "date")) else f"TRY_CAST({c} AS TIMESTAMPTZ)"
        newest, epoch = data.rows(f"SELECT max({value}), epoch(max({value})) FROM p")[0]
        age = None if epoch is None else round(now - float(epoch), 3)
        return self._aggregate(age, {"newest": jsonable(newest), "max_age_s": self.max})

    def _schema(self, actual: dict[str, str]) -> RuleOutcome:
        problems = []
        for spec in map(str, self.values or ()):
            name, _, typ = (p.strip() for p in spec.partition(":"))
            want = type_label(parse_type(typ)) if typ else None
            if name not in actual:
                problems.append(f"{name}: missing")
            elif want and actual[name] != want:
                problems.append(f"{name}: expected {want}, got {actual[name]}")
        return self._count(len(problems), problems, {"columns": {
            k: v for k, v in actual.items() if k not in LINEAGE_COLUMNS}})


def _pandera(rule: Rule, frame: Any) -> RuleOutcome:
    """Validates the frame with the model, lazily (every failure case is collected)."""
    from pandera.errors import SchemaError, SchemaErrors

    module, _, attr = (rule.model or "").replace(":", ".").rpartition(".")
    try:
        model = getattr(_import_from(module, rule.root), attr)
    except (ImportError, AttributeError, ValueError) as err:
        raise UsageError(f"cannot import {rule.model!r}: {err}") from None
    try:
        model.validate(frame, lazy=True)
    except (SchemaErrors, SchemaError) as err:
        cases = err.failure_cases
        if not hasattr(cases, "columns"):
            return rule._count(1, [str(err)], {})
        checks = Counter(map("{}: {}".format, cases["column"], cases["check"]))
        return rule._count(len(cases), _json(cases["failure_case"].head(SAMPLE_SIZE)),
                           {"checks": dict(checks)})
    return rule._count(0, [], {"rows": len(frame)})


def _import_from(module: str, root: str) -> Any:
    """Imports ``module``; one the interpreter cannot find is looked for in the project
    folder ``root`` (models live beside ``logflow.yaml``, e.g. ``quality.models``)."""
    import sys

    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        if not root or not (os.path.isdir(os.path.join(root, top))
                            or os.path.isfile(os.path.join(root, top + ".py"))):
            raise
    if root not in sys.path:
        sys.path.append(root)  # after the interpreter's own: a project file never shadows one
    return importlib.import_module(module)


def _load_suite(path: str) -> tuple[str, list[dict[str, Any]]]:
    """A Great Expectations suite file (JSON/YAML, GX 1.x or 0.x keys): name, expectations."""
    import yaml

    with open(path, encoding="utf-8") as fh:
        data = json.load(fh) if path.endswith(".json") else yaml.safe_load(fh)
    name = data.get("name") or data.get("expectation_suite_name") or os.path.basename(path)
    return str(name), [{"type": e.get("type") or e["expectation_type"],
                        "kwargs": e.get("kwargs", {}), "meta": e.get("meta") or {}}
                       for e in data.get("expectations", [])]


def _gx(rule: Rule, frame: Any) -> RuleOutcome:
    """Runs the suite on the frame in an ephemeral context, progress bars and analytics off."""
    import great_expectations as gx
    import great_expectations.data_context.types.base as gxb

    name, expectations = _load_suite(os.path.join(rule.root, rule.suite or ""))
    config = gxb.DataContextConfig(
        store_backend_defaults=gxb.InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False, progress_bars=gxb.ProgressBarsConfig(globally=False))
    context = gx.get_context(mode="ephemeral", project_config=config)
    asset = context.data_sources.add_pandas("logflow").add_dataframe_asset("partition")
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
        batch_parameters={"dataframe": frame})
    result = batch.validate(gx.ExpectationSuite(name=name, expectations=expectations))
    failed = [(r.expectation_config, r.result) for r in result.results if not r.success]
    unexpected = {f"{e.type}:{e.kwargs.get('column', '')}": res.get("unexpected_count")
                  for e, res in failed}
    return rule._count(len(failed), [e.type for e, _ in failed],
                       {"evaluated": len(result.results), "unexpected": unexpected})


def rules_from_config(configs: Iterable[Mapping[str, Any] | Any], *,
                      root: str | os.PathLike[str] = ".") -> list[Rule]:
    """Rules for one table, names made unique (``range_amount``, ``range_amount_2``...).

    Example:
        >>> [r.name for r in rules_from_config([{"type": "row_count", "min": 1},
        ...                                     {"type": "row_count", "max": 9}])]
        ['row_count', 'row_count_2']
    """
    rules, seen = [Rule.from_config(c, root=root) for c in configs], Counter[str]()
    for i, rule in enumerate(rules):
        seen[rule.name] += 1
        if seen[rule.name] > 1:
            rules[i] = replace(rule, name=f"{rule.name}_{seen[rule.name]}")
    return rules


def evaluate_rules(rules: Iterable[Rule], data: RuleData, *,
                   now: float | None = None) -> dict[str, RuleOutcome]:
    """Evaluates every rule; one that cannot run (no such column, bad import) fails, saying why.

    Example:
        >>> import duckdb
        >>> rules = rules_from_config([{"type": "range", "column": "amount", "min": 0},
        ...                            {"type": "not_null", "column": "id"}])
        >>> rows = "(SELECT * FROM (VALUES (1, 5.0), (2, -1.0)) t(id, amount))"
        >>> data = RuleData(duckdb.connect(), rows)
        >>> {name: (o.passed, o.failing_count) for name, o in evaluate_rules(rules, data).items()}
        {'range_amount': (False, 1), 'not_null_id': (True, 0)}
    """
    outcomes: dict[str, RuleOutcome] = {}
    for rule in rules:
        try:
            outcomes[rule.name] = rule.evaluate(data, now=now)
        except Exception as err:  # a broken rule is a failed check, not a crashed run
            why = f"{type(err).__name__}: {err}"
            outcomes[rule.name] = RuleOutcome(False, 0, [], {"error": why},
                                              f"rule could not be evaluated: {why}")
    return outcomes
