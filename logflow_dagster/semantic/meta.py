"""What Cube's ``/meta`` and the ``annotation`` of ``/load`` say about members.

Titles follow Cube: a member's ``title`` is ``<cube title> <member title>`` (``Orders
Count``), its ``shortTitle`` the member's own (``Count``); untitled names are titleized.
Measures are ``type: number`` with their aggregation in ``aggType``.

Example:
    >>> from logflow_dagster.semantic.loader import load_model_text
    >>> m = load_model_text('''
    ... cubes:
    ...   - name: orders
    ...     sql_table: raw.orders
    ...     measures: [{name: count, type: count}]
    ... ''')
    >>> info = meta(m)["cubes"][0]["measures"][0]
    >>> info["title"], info["shortTitle"], info["type"], info["aggType"]
    ('Orders Count', 'Count', 'number', 'count')
"""

from __future__ import annotations

from typing import Any

from .model import Dimension, Measure, Member, SemanticModel
from .query import Query

_INTERVALS = {g: f"1 {g}" for g in ("second", "minute", "hour", "day", "week", "month",
                                     "quarter", "year")}


def _titles(model: SemanticModel, member: Member) -> dict[str, str]:
    cube = model.cubes[member.cube]
    return {"title": f"{cube.title_or_default()} {member.short_title()}",
            "shortTitle": member.short_title()}


def _measure_info(model: SemanticModel, m: Measure) -> dict[str, Any]:
    info: dict[str, Any] = {"name": m.path, **_titles(model, m), "type": "number",
                            "aggType": m.type, "isVisible": m.public, "public": m.public,
                            "drillMembers": []}
    if m.format:
        info["format"] = m.format
    if m.description:
        info["description"] = m.description
    if m.meta:
        info["meta"] = m.meta
    return info


def _dimension_info(model: SemanticModel, d: Dimension) -> dict[str, Any]:
    info: dict[str, Any] = {"name": d.path, **_titles(model, d), "type": d.type,
                            "isVisible": d.public, "public": d.public,
                            "primaryKey": d.primary_key}
    if d.format:
        info["format"] = d.format
    if d.description:
        info["description"] = d.description
    if d.meta:
        info["meta"] = d.meta
    return info


def meta(model: SemanticModel) -> dict[str, Any]:
    """Cube's ``/meta``: the public cubes with their public measures, dimensions, segments."""
    cubes = []
    for cube in model.cubes.values():
        if not cube.public:
            continue
        item: dict[str, Any] = {
            "name": cube.name, "title": cube.title_or_default(), "type": "cube",
            "isVisible": True, "public": True,
            "measures": [_measure_info(model, m) for m in cube.measures.values() if m.public],
            "dimensions": [_dimension_info(model, d) for d in cube.dimensions.values()
                           if d.public],
            "segments": [{"name": s.path, **_titles(model, s)}
                         for s in cube.segments.values() if s.public],
            "joins": [{"name": j.target, "relationship": j.relationship}
                      for j in cube.joins.values()],
            "preAggregations": [{"name": p.path, "type": p.type}
                                for p in cube.pre_aggregations.values()]}
        if cube.description:
            item["description"] = cube.description
        if cube.meta:
            item["meta"] = cube.meta
        cubes.append(item)
    return {"cubes": cubes}


def annotation(model: SemanticModel, query: Query) -> dict[str, Any]:
    """The ``annotation`` of a ``/load`` result: per member title, shortTitle, type, format;
    time dimensions keyed both with and without their granularity."""
    def short(info: dict[str, Any], *keys: str) -> dict[str, Any]:
        return {k: info[k] for k in ("title", "shortTitle", "type", *keys) if k in info}

    out: dict[str, Any] = {"measures": {}, "dimensions": {}, "segments": {},
                           "timeDimensions": {}}
    for m in query.measures:
        info = _measure_info(model, model.measure(m))
        out["measures"][m] = {**short(info, "format"), "drillMembers": [],
                              "drillMembersGrouped": {"measures": [], "dimensions": []}}
    for d in query.dimensions:
        out["dimensions"][d] = short(_dimension_info(model, model.dimension(d)), "format")
    for s in query.segments:
        out["segments"][s] = {**_titles(model, model.segment(s))}
    for td in query.time_dimensions:
        if not td.granularity:
            continue
        info = short(_dimension_info(model, model.dimension(td.dimension)))
        gran = {"name": td.granularity, "title": td.granularity,
                "interval": _INTERVALS[td.granularity]}
        out["timeDimensions"][f"{td.dimension}.{td.granularity}"] = {**info,
                                                                     "granularity": gran}
        out["timeDimensions"].setdefault(td.dimension, info)
    return out
