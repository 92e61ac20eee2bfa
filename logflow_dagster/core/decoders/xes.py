"""XES event logs (IEEE 1849): one row per ``event``, streamed with lxml's ``iterparse``.

Columns, as pm4py's ``convert_to_dataframe`` names them:

- each attribute of the event is a column named by its key (``concept:name``,
  ``time:timestamp``, ``lifecycle:transition``, ``org:resource``, any other key);
- each attribute of the enclosing trace is a column named ``case:`` + key
  (``case:concept:name``).
- events directly under ``<log>``, outside any trace (IEEE 1849-2016 allows them: a log holds
  traces and events), belong to no case: their ``case:`` columns are null and the column
  :data:`OUTSIDE_TRACE` (``xes:outside_trace``) is true; it is null for the events of traces
  and exists only when the log has such events. They never take a trace's attributes.

Types follow the XES element: ``string`` and ``id`` -> string, ``int`` -> int64, ``float`` ->
float64, ``boolean`` -> bool (``true``/``false``/``1``/``0``), ``date`` -> timestamp[us, UTC]
(ISO 8601 with or without offset; no offset means UTC). ``list`` and ``container`` attributes
become JSON text in a string column: a container is an object ``{key: value}``, a list an array
of one-entry objects ``[{key: value}, ...]`` (XES list items have keys too); dates inside are
ISO strings in UTC. Meta-attributes nested in a scalar attribute are ignored, as are
``<global>`` defaults and ``<extension>`` declarations. Classifiers are reported in
``info["classifiers"]`` (name -> keys).

A column's type is fixed by the first declaration of its key. Later an ``int`` in a ``float``
column is read as float and a ``float`` in an ``int`` column widens the column to float64
(from that batch on); any other declared type is read as the column's type when its text
parses as one, e.g. ``<string key="n" value="5"/>`` in an int column. An event with a value
that does not parse (``<int key="x" value="abc"/>``, or a string ``"abc"`` in an int column) is
a :class:`RowError` with the event's XML as ``raw`` and its start tag's line; a bad trace
attribute rejects every event of that trace.

Trace attributes normally precede the trace's events; one that follows events is applied to
those of its events not yet emitted in a batch (and ignored if its value is bad). A key given
twice in one event keeps its last value, as in pm4py. Malformed XML and non-XML input are
handled as by :mod:`.xml`: the events before the break are kept, the remainder is one
RowError; a document whose root is not ``<log>`` raises :class:`DataError`.

XES declares its types, so nothing is inferred and ``DecodeOptions.schema`` is not applied here
(``batch_size`` is the only option read).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import pyarrow as pa
from lxml import etree

from ..detect.markup import local_name
from ..errors import DataError, RowError
from .base import DecodedBatch, Decoder
from .xml import MarkupStream, drop_done

#: XES attribute elements whose value is a scalar, with the kind each one gives.
SCALAR_KINDS: dict[str, str] = {
    "string": "string",
    "id": "string",
    "int": "int",
    "float": "float",
    "boolean": "bool",
    "date": "date",
}
_NESTED = frozenset({"list", "container"})
_ATTRIBUTES = frozenset(SCALAR_KINDS) | _NESTED

_ARROW: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.timestamp("us", tz="UTC"),
}

_INT = re.compile(r"^\s*[+-]?\d+\s*$")
_INT64 = (-(1 << 63), (1 << 63) - 1)
_TAGS = ("{*}log", "{*}trace", "{*}event", "{*}classifier")
_SKIP = object()  # not an attribute element

#: Column flagging the events that are direct children of ``<log>``, in no trace.
OUTSIDE_TRACE = "xes:outside_trace"
_local = lru_cache(maxsize=1024)(local_name)


class BadValue(ValueError):
    """A value that does not parse as the type it must have."""

    def __init__(self, column: str, kind: str, value: str) -> None:
        super().__init__(f"expected {kind} in column {column!r}")
        self.column = column
        self.kind = kind
        self.value = value


def parse_scalar(kind: str, text: str) -> Any:
    """Parses an XES value of ``kind`` (see :data:`SCALAR_KINDS`).

    Raises:
        ValueError: When ``text`` is not a value of that kind.

    Example:
        >>> parse_scalar("date", "2011-01-01T00:00:00.000+01:00").isoformat()
        '2010-12-31T23:00:00+00:00'
    """
    if kind == "string":
        return text
    if kind == "int":
        if not _INT.match(text) or not _INT64[0] <= (number := int(text)) <= _INT64[1]:
            raise ValueError(text)
        return number
    if kind == "float":
        if "_" in text:
            raise ValueError(text)
        return float(text)
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise ValueError(text)
    moment = datetime.fromisoformat(text.strip())  # kind == "date"
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _jsonable(element: etree._Element, column: str) -> Any:
    """A list/container/scalar XES attribute element as a JSON-ready value."""
    name = local_name(element.tag)
    if name in _NESTED:
        items = [child for child in element if isinstance(child.tag, str)]
        if name == "list" and len(items) == 1 and local_name(items[0].tag) == "values":
            items = [child for child in items[0] if isinstance(child.tag, str)]
        pairs = [(child.get("key", ""), _jsonable(child, column)) for child in items
                 if local_name(child.tag) in _ATTRIBUTES]
        if name == "container":
            return dict(pairs)
        return [{key: value} for key, value in pairs]
    text = element.get("value")
    if text is None:
        return None
    kind = SCALAR_KINDS[name]
    try:
        value = parse_scalar(kind, text)
    except ValueError:
        raise BadValue(column, kind, text) from None
    return value.isoformat() if isinstance(value, datetime) else value


class XesDecoder(Decoder):
    """Decodes an XES event log into batches with one row per event.

    See the module documentation for the columns and their types.

    Example:
        >>> from logflow_dagster.core.decoders import DecodeOptions, get_decoder
        >>> from logflow_dagster.core.detect.result import Detection
        >>> from logflow_dagster.core.source import Source
        >>> import pathlib, tempfile
        >>> xes = ('<log><trace><string key="concept:name" value="c1"/><event>'
        ...        '<string key="concept:name" value="start"/></event></trace></log>')
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = pathlib.Path(tmp, "log.xes").write_text(xes)
        ...     dec = get_decoder("xes")(Source.open_path(f"{tmp}/log.xes"), Detection("xes"),
        ...                              DecodeOptions())
        ...     next(dec.batches()).batch.to_pylist()
        [{'concept:name': 'start', 'case:concept:name': 'c1'}]
    """

    format = "xes"

    def batches(self) -> Iterator[DecodedBatch]:
        """Yields the events in batches of ``batch_size`` rows, with the rejected ones.

        Raises:
            DataError: When the input is not XML, not an XES log, or cannot be read.
        """
        self._kinds: dict[str, str] = {}
        self._rows: list[dict[str, Any]] = []
        self._errors: list[RowError] = []
        self._case: dict[str, Any] = {}
        self._case_bad: BadValue | None = None
        self._case_start = 0
        self._count = 0
        classifiers: dict[str, str] = {}
        self.info["classifiers"] = classifiers
        stream = MarkupStream(self.source, _TAGS)
        seen_log = False
        current: etree._Element | None = None
        for event, element in stream.events():
            name = _local(element.tag)
            if not seen_log:
                if name != "log":
                    raise DataError(f"not an XES log: <{name}> outside a <log> element",
                                    source=self.source.path, line=element.sourceline)
                seen_log = True
                self.info["xes_version"] = element.get("xes.version")
                continue
            parent = element.getparent()
            scope = _local(parent.tag) if parent is not None else ""
            if name == "event" and scope in ("trace", "log"):
                if event == "start":
                    current = element
                    if scope == "trace":
                        for sibling in reversed(list(element.itersiblings(preceding=True))):
                            self._case_attribute(sibling, backfill=False)
                    continue
                current = None
                self._event(element, in_trace=scope == "trace")
                drop_done(element)
            elif name == "trace" and scope == "log":
                if event == "start":
                    self._case, self._case_bad, self._case_start = {}, None, len(self._rows)
                    continue
                for child in element:
                    self._case_attribute(child, backfill=True)
                self._case, self._case_bad = {}, None
                drop_done(element)
            elif name == "classifier" and event == "end" and scope == "log":
                classifiers[element.get("name", "")] = element.get("keys", "")
            if len(self._rows) + len(self._errors) >= self.options.batch_size:
                yield self._flush()
        if stream.error is not None:
            start = current.sourceline if current is not None else None
            self._errors.append(
                stream.remainder(start, self._count + 1 if current is not None else None))
        elif not seen_log:
            raise DataError("not an XES log: no <log> element", source=self.source.path)
        if self._rows or self._errors:
            yield self._flush()

    def _value(self, element: etree._Element, column: str) -> Any:
        """The value of an attribute element in its column's type (:data:`_SKIP` if none).

        Raises:
            BadValue: When the value does not parse as its declared or its column's type.
        """
        tag = element.tag
        name = _local(tag) if type(tag) is str else ""
        if name not in _ATTRIBUTES:
            return _SKIP
        if name in _NESTED:
            kind, text = "string", json.dumps(_jsonable(element, column), ensure_ascii=False)
            value: Any = text
        else:
            kind, text = SCALAR_KINDS[name], element.get("value")
            if text is None:  # no value: null, in a column of the declared type
                self._kinds.setdefault(column, kind)
                return None
            try:
                value = parse_scalar(kind, text)
            except ValueError:
                raise BadValue(column, kind, text) from None
        fixed = self._kinds.setdefault(column, kind)
        if fixed == kind:
            return value
        if fixed == "float" and kind == "int":
            return float(value)
        if fixed == "int" and kind == "float":
            self._kinds[column] = "float"
            return value
        if fixed == "string":
            return text
        try:
            return parse_scalar(fixed, text)
        except ValueError:
            raise BadValue(column, fixed, text) from None

    def _case_attribute(self, element: etree._Element, *, backfill: bool) -> None:
        key = element.get("key")
        if key is None:
            return
        column = "case:" + key
        try:
            value = self._value(element, column)
        except BadValue as bad:
            if not backfill:  # a late bad trace attribute is dropped: its events may be out
                self._case_bad = self._case_bad or bad
            return
        if value is _SKIP:
            return
        self._case[column] = value
        if backfill:
            for row in self._rows[self._case_start:]:
                row[column] = value

    def _event(self, element: etree._Element, *, in_trace: bool) -> None:
        self._count += 1
        row: dict[str, Any] = {}
        bad = self._case_bad if in_trace else None
        for child in element:
            key = child.get("key") if isinstance(child.tag, str) else None
            if key is None:
                continue
            try:
                value = self._value(child, key)
            except BadValue as err:
                bad = bad or err
                continue
            if value is not _SKIP:
                row[key] = value
        if bad is not None:
            self._errors.append(RowError(
                str(bad), line=element.sourceline, column=bad.column, value=bad.value,
                raw=etree.tostring(element, encoding="unicode", with_tail=False),
                record=self._count))
            return
        if in_trace:
            row.update(self._case)
        else:
            row.pop(OUTSIDE_TRACE, None)
            row[OUTSIDE_TRACE] = True
            self._kinds[OUTSIDE_TRACE] = "bool"
        self._rows.append(row)

    def _flush(self) -> DecodedBatch:
        rows, errors = self._rows, self._errors
        self._rows, self._errors, self._case_start = [], [], 0
        if not rows:
            return DecodedBatch(None, errors)
        names: dict[str, None] = {}
        for row in rows:
            names.update(dict.fromkeys(row))
        arrays = [pa.array([row.get(name) for row in rows],
                           type=_ARROW[self._kinds.get(name, "string")]) for name in names]
        return DecodedBatch(pa.RecordBatch.from_arrays(arrays, names=list(names)), errors)


__all__ = ["OUTSIDE_TRACE", "SCALAR_KINDS", "BadValue", "XesDecoder", "parse_scalar"]
