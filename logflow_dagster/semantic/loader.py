"""Loads model files in Cube's YAML data-model syntax into a :class:`SemanticModel`.

The subset: ``cubes`` with ``name``, ``sql_table`` or ``sql``, ``title``, ``description``,
``public``, ``meta``, ``joins``, ``dimensions``, ``measures``, ``segments`` and
``pre_aggregations`` of type ``rollup``. A feature outside it (``views``, ``extends``,
``rollup_join``, rolling windows, ...) fails with ``unsupported: <feature>``; every error names
``file:line: key.path``. Member-level checks (references, cycles, joins) live in
:mod:`.validate`.

Example:
    >>> load_model_text("views: []")
    Traceback (most recent call last):
    ...
    logflow_dagster.core.errors.exceptions.UsageError: <model>:1: views: unsupported: views
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..core.errors import UsageError
from ..core.identifiers import identifier_problem
from .model import (
    GRANULARITIES,
    RELATIONSHIP_ALIASES,
    Cube,
    Dimension,
    Join,
    Measure,
    MeasureFilter,
    PreAggregation,
    Segment,
    SemanticModel,
)
from .policies import AccessPolicy
from .snippets import parse_snippet
from .yaml_lines import Path as KeyPath
from .yaml_lines import YamlDoc, read_yaml_text

_CUBE_KEYS = {"name", "sql_table", "sql", "title", "description", "public", "shown", "meta",
              "joins", "dimensions", "measures", "segments", "pre_aggregations",
              "refresh_key", "sql_alias", "access_policy"}
_DIM_KEYS = {"name", "sql", "type", "primary_key", "title", "description", "format", "public",
             "shown", "meta", "mask"}
_MEASURE_KEYS = {"name", "sql", "type", "filters", "title", "description", "format", "public",
                 "shown", "meta", "drill_members", "mask"}
_SEGMENT_KEYS = {"name", "sql", "title", "description", "public", "shown", "meta"}
_JOIN_KEYS = {"name", "relationship", "sql"}
_PREAGG_KEYS = {"name", "type", "measures", "dimensions", "segments", "time_dimension",
                "granularity", "partition_granularity", "refresh_key", "scheduled_refresh"}
_DIM_TYPES = {"string", "number", "boolean", "time"}
_MEASURE_TYPES = {"count", "count_distinct", "count_distinct_approx", "sum", "avg", "min",
                  "max", "number"}
_DIM_FORMATS = {"imageUrl", "id", "link", "currency", "percent"}
_MEASURE_FORMATS = {"percent", "currency"}


def model_files(paths: list[str], root: str | os.PathLike[str]) -> list[Path]:
    """The model files of ``semantic.models``: each a ``.yml``/``.yaml`` file or a folder of
    them (sorted), relative to ``root``.

    Raises:
        UsageError: A path that does not exist or is not YAML.
    """
    out: list[Path] = []
    for i, item in enumerate(paths):
        path = Path(root, item)
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml")
                              and p.is_file()))
        elif path.is_file() and path.suffix in (".yml", ".yaml"):
            out.append(path)
        else:
            raise UsageError(f"logflow.yaml: semantic.models.{i}: {item!r} is not a .yml/.yaml "
                             "file or a folder")
    return out


def load_model(paths: list[str], root: str | os.PathLike[str] = ".") -> SemanticModel:
    """Loads and validates every model file of ``paths`` (relative to ``root``).

    Raises:
        UsageError: The first problem, as ``file:line: key.path: message``.
    """
    docs = []
    for file in model_files(paths, root):
        try:
            shown = str(file.relative_to(Path(root)))
        except ValueError:
            shown = str(file)
        docs.append(read_yaml_text(file.read_text(encoding="utf-8"), shown))
    return build_model(docs)


def load_model_text(text: str, file: str = "<model>") -> SemanticModel:
    """Loads one model document from text (tests, examples)."""
    return build_model([read_yaml_text(text, file)])


def build_model(docs: list[YamlDoc]) -> SemanticModel:
    """The validated model of parsed documents."""
    from .validate import validate_model

    model = SemanticModel(files=[d.file for d in docs])
    for doc in docs:
        data = doc.data
        if data is None:
            continue
        if not isinstance(data, dict):
            raise doc.at(()).error("expected a mapping with 'cubes'")
        for key in data:
            if key == "views":
                raise doc.at(("views",)).error("unsupported: views")
            if key != "cubes":
                raise doc.at((key,)).error(f"unsupported: top-level key {key!r}")
        for i, raw in enumerate(_list(doc, ("cubes",), data.get("cubes"))):
            cube = _cube(doc, ("cubes", i), raw)
            if cube.name in model.cubes:
                raise cube.location.error(f"cube {cube.name!r} is defined twice (first at "
                                          f"{model.cubes[cube.name].location})")
            model.cubes[cube.name] = cube
    validate_model(model)
    return model


def _list(doc: YamlDoc, path: KeyPath, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise doc.at(path).error("expected a list")
    return value


def _mapping(doc: YamlDoc, path: KeyPath, value: Any, allowed: set[str],
             what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise doc.at(path).error(f"expected a mapping ({what})")
    for key in value:
        if key not in allowed:
            raise doc.at((*path, key)).error(f"unsupported: {what} key {key!r}")
    return value


def _name(doc: YamlDoc, path: KeyPath, raw: dict[str, Any]) -> str:
    name = raw.get("name")
    if not isinstance(name, str) or identifier_problem(f"x.{name}") is not None:
        raise doc.at((*path, "name")).error(
            f"expected a name of letters, digits and '_' (not starting with a digit), got "
            f"{name!r}")
    return name


def _text(doc: YamlDoc, path: KeyPath, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise doc.at(path).error("expected text")


def _bool(doc: YamlDoc, path: KeyPath, raw: dict[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise doc.at((*path, key)).error("expected true or false")
    return value


def _public(doc: YamlDoc, path: KeyPath, raw: dict[str, Any]) -> bool:
    return _bool(doc, path, raw, "public", _bool(doc, path, raw, "shown", True))


def _cube(doc: YamlDoc, path: KeyPath, raw: Any) -> Cube:
    raw = _mapping(doc, path, raw, _CUBE_KEYS, "cube")
    name = _name(doc, path, raw)
    cube = Cube(name=name, location=doc.at(path), title=_text(doc, (*path, "title"),
                                                             raw.get("title")),
                description=_text(doc, (*path, "description"), raw.get("description")),
                public=_public(doc, path, raw), meta=raw.get("meta") or {})
    table, sql = raw.get("sql_table"), raw.get("sql")
    if (table is None) == (sql is None):
        raise cube.location.error(f"cube {name!r}: give exactly one of sql_table or sql")
    if table is not None:
        problem = identifier_problem(table) if isinstance(table, str) else "not text"
        if problem is not None:
            raise doc.at((*path, "sql_table")).error(
                f"{table!r}: expected a table of the catalog as namespace.table ({problem})")
        cube.sql_table = table
    else:
        from .tables import parse_select

        where = str(doc.at((*path, "sql")))
        cube.sql = _text(doc, (*path, "sql"), sql)
        cube.sql_ast = parse_select(cube.sql or "", where=where)
    for i, item in enumerate(_list(doc, (*path, "joins"), raw.get("joins"))):
        join = _join(doc, (*path, "joins", i), item, name)
        if join.target in cube.joins:
            raise join.location.error(f"a second join to {join.target!r}")
        cube.joins[join.target] = join
    seen: dict[str, str] = {}
    for key, build in (("dimensions", _dimension), ("measures", _measure),
                       ("segments", _segment)):
        for i, item in enumerate(_list(doc, (*path, key), raw.get(key))):
            member = build(doc, (*path, key, i), item, name)
            if member.name in seen:
                raise member.location.error(f"member {member.name!r} is defined twice in cube "
                                            f"{name!r} (also a {seen[member.name]})")
            seen[member.name] = key[:-1]
            getattr(cube, key)[member.name] = member
    for i, item in enumerate(_list(doc, (*path, "access_policy"), raw.get("access_policy"))):
        cube.access_policy.append(_policy(doc, (*path, "access_policy", i), item, name))
    for i, item in enumerate(_list(doc, (*path, "pre_aggregations"),
                                   raw.get("pre_aggregations"))):
        pre = _pre_aggregation(doc, (*path, "pre_aggregations", i), item, name)
        if pre.name in cube.pre_aggregations:
            raise pre.location.error(f"pre-aggregation {pre.name!r} is defined twice")
        cube.pre_aggregations[pre.name] = pre
    return cube


_POLICY_KEYS = {"role", "group", "groups", "member_level", "row_level", "member_masking",
                "conditions"}


def _members_or_all(doc: YamlDoc, path: KeyPath, value: Any, cube: str
                    ) -> frozenset[str] | None:
    """A member list (qualified), or None for ``"*"``."""
    if value == "*" or value == ["*"]:
        return None
    return frozenset(_member_list(doc, path, value, cube, {}))


def _policy(doc: YamlDoc, path: KeyPath, raw: Any, cube: str) -> AccessPolicy:
    raw = _mapping(doc, path, raw, _POLICY_KEYS, "access policy")
    if "conditions" in raw:
        raise doc.at((*path, "conditions")).error("unsupported: access policy conditions")
    given = [k for k in ("role", "group", "groups") if k in raw]
    if len(given) != 1:
        raise doc.at(path).error("an access policy names exactly one of role, group, groups")
    who = raw[given[0]]
    names = who if isinstance(who, list) else [who]
    if not names or not all(isinstance(n, str) and n for n in names):
        raise doc.at((*path, given[0])).error("expected a role name, '*' or a list of them")
    groups = None if "*" in names else frozenset(names)
    out: dict[str, Any] = {"groups": groups}
    if "member_level" in raw:
        lpath = (*path, "member_level")
        level = _mapping(doc, lpath, raw["member_level"], {"includes", "excludes"},
                         "member_level")
        if "includes" in level:
            out["includes"] = _members_or_all(doc, (*lpath, "includes"), level["includes"],
                                              cube)
        if "excludes" in level:
            excl = _members_or_all(doc, (*lpath, "excludes"), level["excludes"], cube)
            out["excludes_all"] = excl is None
            out["excludes"] = excl or frozenset()
    if "member_masking" in raw:
        mpath = (*path, "member_masking")
        masking = _mapping(doc, mpath, raw["member_masking"], {"includes", "excludes"},
                           "member_masking")
        out["masking"] = True
        out["mask_includes"] = _members_or_all(doc, (*mpath, "includes"),
                                               masking.get("includes", "*"), cube)
        out["mask_excludes"] = frozenset(_member_list(
            doc, (*mpath, "excludes"), masking.get("excludes"), cube, {})) \
            if masking.get("excludes") not in (None, "*") else frozenset()
    if "row_level" in raw:
        rpath = (*path, "row_level")
        level = _mapping(doc, rpath, raw["row_level"], {"filters", "allow_all"}, "row_level")
        if "allow_all" in level:
            out["allow_all"] = _bool(doc, rpath, level, "allow_all", True)
        filters = _list(doc, (*rpath, "filters"), level.get("filters"))
        out["row_filters"] = tuple(_qualify_filter(doc, (*rpath, "filters", i), f, cube)
                                   for i, f in enumerate(filters))
    return AccessPolicy(**out)


def _qualify_filter(doc: YamlDoc, path: KeyPath, raw: Any, cube: str) -> dict[str, Any]:
    """A row-level filter with its member names qualified (``country`` -> ``orders.country``)."""
    if isinstance(raw, dict) and len(raw) == 1 and next(iter(raw)) in ("and", "or"):
        kind = next(iter(raw))
        return {kind: [_qualify_filter(doc, (*path, kind, i), f, cube)
                       for i, f in enumerate(_list(doc, (*path, kind), raw[kind]))]}
    raw = _mapping(doc, path, raw, {"member", "dimension", "operator", "values"}, "filter")
    member = raw.get("member", raw.get("dimension"))
    if not isinstance(member, str):
        raise doc.at(path).error("a row filter needs a member")
    out = {"member": _qualify(member, cube), "operator": raw.get("operator")}
    if "values" in raw:
        out["values"] = _list(doc, (*path, "values"), raw["values"])
    return out


def _join(doc: YamlDoc, path: KeyPath, raw: Any, cube: str) -> Join:
    raw = _mapping(doc, path, raw, _JOIN_KEYS, "join")
    target = _name(doc, path, raw)
    rel = raw.get("relationship")
    if rel not in RELATIONSHIP_ALIASES:
        raise doc.at((*path, "relationship")).error(
            f"{rel!r}: expected many_to_one, one_to_many, one_to_one (or belongs_to, has_many, "
            "has_one)")
    where = str(doc.at((*path, "sql")))
    text = _text(doc, (*path, "sql"), raw.get("sql"))
    if not text:
        raise doc.at((*path, "sql")).error("a join needs sql (the ON condition)")
    return Join(cube, target, RELATIONSHIP_ALIASES[rel], text, doc.at(path),  # type: ignore
                parse_snippet(text, where=where, condition=True))


def _common(doc: YamlDoc, path: KeyPath, raw: dict[str, Any], cube: str) -> dict[str, Any]:
    sql = _text(doc, (*path, "sql"), raw.get("sql"))
    return {"name": _name(doc, path, raw), "cube": cube, "sql": sql,
            "title": _text(doc, (*path, "title"), raw.get("title")),
            "description": _text(doc, (*path, "description"), raw.get("description")),
            "public": _public(doc, path, raw), "meta": raw.get("meta") or {},
            "location": doc.at(path), "sql_location": doc.at((*path, "sql")),
            "mask": _mask(doc, (*path, "mask"), raw.get("mask")),
            "snippet": parse_snippet(sql, where=str(doc.at((*path, "sql"))))
            if sql is not None else None}


def _mask(doc: YamlDoc, path: KeyPath, value: Any) -> Any:
    """A member's ``mask``: a literal (number, text, boolean) or ``{sql: ...}`` is refused
    (a mask is a constant here, so nothing of the real value can leak through it)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise doc.at(path).error("unsupported: a mask other than a constant (number, text, "
                             "boolean)")


def _dimension(doc: YamlDoc, path: KeyPath, raw: Any, cube: str) -> Dimension:
    raw = _mapping(doc, path, raw, _DIM_KEYS, "dimension")
    common = _common(doc, path, raw, cube)
    kind = raw.get("type")
    if kind not in _DIM_TYPES:
        feature = f"dimension type {kind!r}" if isinstance(kind, str) else None
        raise doc.at((*path, "type")).error(
            f"unsupported: {feature}" if feature and kind in ("geo", "switch")
            else f"{kind!r}: expected string, number, boolean or time")
    if common["sql"] is None:
        raise doc.at(path).error(f"dimension {common['name']!r} needs sql")
    fmt = raw.get("format")
    if fmt is not None and not (fmt in _DIM_FORMATS or isinstance(fmt, dict)):
        raise doc.at((*path, "format")).error(
            f"{fmt!r}: expected one of {', '.join(sorted(_DIM_FORMATS))}")
    return Dimension(**common, type=kind, format=fmt,
                     primary_key=_bool(doc, path, raw, "primary_key", False))


def _measure(doc: YamlDoc, path: KeyPath, raw: Any, cube: str) -> Measure:
    if isinstance(raw, dict):
        for feature in ("rolling_window", "multi_stage", "time_shift", "reduce_by",
                        "group_by", "add_group_by", "case"):
            if feature in raw:
                raise doc.at((*path, feature)).error(f"unsupported: {feature}")
    raw = _mapping(doc, path, raw, _MEASURE_KEYS, "measure")
    common = _common(doc, path, raw, cube)
    kind = raw.get("type")
    if kind not in _MEASURE_TYPES:
        if kind in ("running_total", "string", "time", "boolean", "number_agg"):
            raise doc.at((*path, "type")).error(f"unsupported: measure type {kind!r}")
        raise doc.at((*path, "type")).error(
            f"{kind!r}: expected one of {', '.join(sorted(_MEASURE_TYPES))}")
    if kind != "count" and common["sql"] is None:
        raise doc.at(path).error(f"a {kind} measure needs sql")
    fmt = raw.get("format")
    if fmt is not None and fmt not in _MEASURE_FORMATS:
        raise doc.at((*path, "format")).error(f"{fmt!r}: expected percent or currency")
    filters = []
    for i, item in enumerate(_list(doc, (*path, "filters"), raw.get("filters"))):
        fpath = (*path, "filters", i)
        item = _mapping(doc, fpath, item, {"sql"}, "measure filter")
        text = _text(doc, (*fpath, "sql"), item.get("sql"))
        if not text:
            raise doc.at(fpath).error("a filter needs sql")
        filters.append(MeasureFilter(text, doc.at(fpath),
                                     parse_snippet(text, where=str(doc.at((*fpath, "sql"))),
                                                   condition=True)))
    if filters and kind == "number":
        raise doc.at((*path, "filters")).error("filters on a number measure: put them on the "
                                               "measures it is computed from")
    return Measure(**common, type=kind, format=fmt, filters=filters)


def _segment(doc: YamlDoc, path: KeyPath, raw: Any, cube: str) -> Segment:
    raw = _mapping(doc, path, raw, _SEGMENT_KEYS, "segment")
    common = _common(doc, path, raw, cube)
    if common["sql"] is None:
        raise doc.at(path).error("a segment needs sql")
    return Segment(**common)


def _member_list(doc: YamlDoc, path: KeyPath, value: Any, cube: str,
                 locations: dict[str, Any]) -> list[str]:
    out = []
    for i, item in enumerate(_list(doc, path, value)):
        if not isinstance(item, str):
            raise doc.at((*path, i)).error("expected a member name")
        out.append(_qualify(item, cube))
        locations.setdefault(out[-1], doc.at((*path, i)))
    return out


def _qualify(name: str, cube: str) -> str:
    parts = name.split(".")
    if len(parts) == 1:
        return f"{cube}.{name}"
    if parts[0] == "CUBE":
        return f"{cube}.{'.'.join(parts[1:])}"
    return name


def _pre_aggregation(doc: YamlDoc, path: KeyPath, raw: Any, cube: str) -> PreAggregation:
    if isinstance(raw, dict):
        kind = raw.get("type", "rollup")
        if kind != "rollup":
            raise doc.at((*path, "type")).error(f"unsupported: pre-aggregation type {kind!r}")
        for key in raw:
            if key not in _PREAGG_KEYS:
                raise doc.at((*path, key)).error(f"unsupported: pre-aggregation key {key!r}")
    raw = _mapping(doc, path, raw, _PREAGG_KEYS, "pre-aggregation")
    where: dict[str, Any] = {}
    pre = PreAggregation(name=_name(doc, path, raw), cube=cube, location=doc.at(path),
                         measures=_member_list(doc, (*path, "measures"), raw.get("measures"),
                                               cube, where),
                         dimensions=_member_list(doc, (*path, "dimensions"),
                                                 raw.get("dimensions"), cube, where),
                         segments=_member_list(doc, (*path, "segments"), raw.get("segments"),
                                               cube, where),
                         refresh_key=raw.get("refresh_key"), member_locations=where)
    td = raw.get("time_dimension")
    if td is not None:
        if not isinstance(td, str):
            raise doc.at((*path, "time_dimension")).error("expected a time dimension name")
        pre.time_dimension = _qualify(td, cube)
        where.setdefault(pre.time_dimension, doc.at((*path, "time_dimension")))
    for key in ("granularity", "partition_granularity"):
        value = raw.get(key)
        if value is not None and value not in GRANULARITIES:
            raise doc.at((*path, key)).error(
                f"{value!r}: expected one of {', '.join(GRANULARITIES)}")
        setattr(pre, key, value)
    if pre.time_dimension and not pre.granularity:
        raise doc.at((*path, "time_dimension")).error("a time_dimension needs a granularity")
    if pre.granularity and not pre.time_dimension:
        raise doc.at((*path, "granularity")).error("a granularity needs a time_dimension")
    if pre.partition_granularity and not pre.time_dimension:
        raise doc.at((*path, "partition_granularity")).error(
            "partition_granularity needs a time_dimension")
    if pre.partition_granularity and pre.granularity and GRANULARITIES.index(
            pre.partition_granularity) < GRANULARITIES.index(pre.granularity):
        raise doc.at((*path, "partition_granularity")).error(
            f"partition_granularity {pre.partition_granularity!r} is finer than the "
            f"granularity {pre.granularity!r}")
    if not (pre.measures or pre.dimensions or pre.time_dimension):
        raise pre.location.error("a rollup needs measures, dimensions or a time_dimension")
    return pre
