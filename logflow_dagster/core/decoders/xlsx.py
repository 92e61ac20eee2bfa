"""XLSX (and the other workbooks calamine reads): one sheet as typed Arrow batches.

``python-calamine`` parses a whole sheet at once, so memory is proportional to the sheet's
size (the one documented exception to streaming, with JSON arrays); Python objects are only
built one batch at a time. The sheet is walked twice: once to find the header and count the
cell types of each column, once to build the batches.

Typing follows the cells' native types, not their text. A column takes the type most of its
non-empty cells have: numbers (int64 when every number is whole, since Excel stores all
numbers as floats, else float64), dates/datetimes (date32, or timestamp[us] without time zone
when any cell has a time of day), booleans, times (time64[us]), durations (duration[us]) or
text; ties go to text, which holds any value. A cell of another type (``n/a`` in a numeric
column) makes its row a bad record reported with the row number Excel shows. In a text column,
any cell is kept as text (``7`` rather than ``7.0``, ISO dates).
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ..errors import DataError, LogflowError, RowError, UsageError
from ..schema.cast import cast_overrides, parse_overrides, type_name
from .base import DecodedBatch, Decoder

_GROUPS = ("str", "number", "temporal", "bool", "time", "duration")  # tie order
_MAX_EXACT = 2**53


class _Misfit(Exception):
    """A cell whose type does not fit its column."""


def cell_kind(value: Any) -> str | None:
    """The calamine cell's kind, or ``None`` for an empty cell.

    Example:
        >>> cell_kind(3.0), cell_kind(""), cell_kind(True)
        ('int', None, 'bool')
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int" if abs(value) < _MAX_EXACT else "float"
    if isinstance(value, float):
        return "int" if value.is_integer() and abs(value) < _MAX_EXACT else "float"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    if isinstance(value, dt.timedelta):
        return "duration"
    return "str"


_GROUP_OF = {"int": "number", "float": "number", "datetime": "temporal", "date": "temporal",
             "bool": "bool", "time": "time", "duration": "duration", "str": "str"}


def cell_text(value: Any, utc: bool = False) -> str:
    """A cell as text: whole numbers without ``.0``, ISO dates (``Z`` added when ``utc``).

    Example:
        >>> cell_text(7.0), cell_text(dt.date(2024, 1, 2), utc=True)
        ('7', '2024-01-02T00:00:00Z')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < _MAX_EXACT:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat() + ("Z" if utc else "")
    if isinstance(value, dt.date):
        return (dt.datetime.combine(value, dt.time()).isoformat() + "Z") if utc else (
            value.isoformat())
    if isinstance(value, (dt.time,)):
        return value.isoformat()
    return str(value)


@dataclass
class _Column:
    """How the cells of one column become values."""

    name: str
    type: pa.DataType
    convert: Callable[[Any], Any]


def _numbers(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise _Misfit


def _whole(value: Any) -> int:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    raise _Misfit


def _timestamps(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    raise _Misfit


def _dates(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise _Misfit


def _exactly(kind: type) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, kind):
            return value
        raise _Misfit

    return convert


def _plan(name: str, counts: Counter[str]) -> _Column:
    """Chooses a column's type from the kinds of its cells."""
    groups: Counter[str] = Counter()
    for kind, n in counts.items():
        groups[_GROUP_OF[kind]] += n
    if not groups:
        return _Column(name, pa.string(), cell_text)
    group = max(_GROUPS, key=lambda g: groups[g])  # max keeps the first of equals
    if group == "number":
        if counts["float"]:
            return _Column(name, pa.float64(), _numbers)
        return _Column(name, pa.int64(), _whole)
    if group == "temporal":
        if counts["datetime"]:
            return _Column(name, pa.timestamp("us"), _timestamps)
        return _Column(name, pa.date32(), _dates)
    if group == "bool":
        return _Column(name, pa.bool_(), _exactly(bool))
    if group == "time":
        return _Column(name, pa.time64("us"), _exactly(dt.time))
    if group == "duration":
        return _Column(name, pa.duration("us"), _exactly(dt.timedelta))
    return _Column(name, pa.string(), cell_text)


def column_names(header: list[Any] | None, width: int) -> list[str]:
    """Header cells as unique names: blanks become ``column_N``, repeats ``name_2`` ...

    Example:
        >>> column_names(["id", "", "id", "id_2"], 4)
        ['id', 'column_2', 'id_3', 'id_2']
    """
    raw = [cell_text(v).strip() if header else "" for v in (header or [None] * width)]
    taken = set(raw)
    names: list[str] = []
    for i, cell in enumerate(raw):
        name = cell or f"column_{i + 1}"
        if name in names:
            k = 2
            while f"{name}_{k}" in taken or f"{name}_{k}" in names:
                k += 1
            name = f"{name}_{k}"
        names.append(name)
    return names


def _is_panic(exc: BaseException) -> bool:
    """pyo3 turns a Rust panic into ``PanicException``, which derives from BaseException."""
    return type(exc).__name__ == "PanicException"


class XlsxDecoder(Decoder):
    """Reads one sheet of a workbook as typed Arrow batches (see the module for the rules).

    The sheet is ``options.sheet`` (a name, or a 0-based index) or else the first one. The
    first non-empty row is the header when all its non-empty cells are text and some cell
    below is not; otherwise the columns are named ``column_1`` ... ``column_N``. Fully empty
    rows are skipped. ``options.schema`` overrides read the column's cells as text and cast
    them (so numbers stored as text convert too). ``info["sheet"]`` is the sheet read.

    Example:
        >>> import tempfile, openpyxl
        >>> from logflow_dagster.core.source import Source
        >>> from logflow_dagster.core.detect.result import Detection
        >>> from logflow_dagster.core.decoders import DecodeOptions
        >>> book = openpyxl.Workbook()
        >>> book.active.title = "orders"
        >>> for row in [("id", "qty"), (1, 3), (2, 4)]:
        ...     book.active.append(row)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     book.save(f"{tmp}/book.xlsx")
        ...     dec = XlsxDecoder(Source.open_path(f"{tmp}/book.xlsx"), Detection("xlsx"),
        ...                       DecodeOptions(sheet="orders"))
        ...     [step.batch.to_pylist() for step in dec.batches()]
        [[{'id': 1, 'qty': 3}, {'id': 2, 'qty': 4}]]
    """

    format = "xlsx"

    def batches(self) -> Iterator[DecodedBatch]:
        """Yields the sheet's records in batches of ``options.batch_size`` rows.

        Raises:
            DataError: When the file is not a readable workbook.
            UsageError: When ``options.sheet`` names no sheet of the workbook.
        """
        overrides = parse_overrides(self.options.schema)
        sheet = self._load_sheet()
        try:
            yield from self._decode(sheet, overrides)
        except LogflowError:
            raise
        except BaseException as exc:
            if not (isinstance(exc, Exception) or _is_panic(exc)):
                raise
            raise DataError(f"unreadable sheet: {exc}", source=self.source.path) from exc

    def _load_sheet(self) -> Any:
        from python_calamine import CalamineWorkbook

        path = self.source.path
        book: Any = None
        try:
            if self.source.is_local and self.source.compression is None:
                book = CalamineWorkbook.from_path(path)
            else:
                with self.source.open() as stream:
                    book = CalamineWorkbook.from_filelike(io.BytesIO(stream.read()))
            name = self._sheet_name(list(book.sheet_names))
            self.info["sheet"] = name
            return book.get_sheet_by_name(name)  # the sheet's cells stay after close()
        except LogflowError:
            raise
        except BaseException as exc:
            if not (isinstance(exc, Exception) or _is_panic(exc)):
                raise
            raise DataError(f"not a readable XLSX workbook: {exc}", source=path) from exc
        finally:
            if book is not None:
                book.close()

    def _sheet_name(self, names: list[str]) -> str:
        wanted = self.options.sheet
        if not names:
            raise DataError("the workbook has no sheets", source=self.source.path)
        if wanted is None:
            return names[0]
        if isinstance(wanted, str) and wanted in names:
            return wanted
        index = wanted if isinstance(wanted, int) else (
            int(wanted) if wanted.strip().isdigit() else None)
        if index is not None and 0 <= index < len(names):
            return names[index]
        available = ", ".join(repr(n) for n in names)
        raise UsageError(f"{self.source.path}: no sheet {wanted!r}; available sheets: "
                         f"{available}")

    def _decode(self, sheet: Any, overrides: dict[str, pa.DataType]) -> Iterator[DecodedBatch]:
        # Pass 1: header row, kinds per column, and where iter_rows() starts.
        width = sheet.width
        first: int | None = None
        header: list[Any] = []
        header_kinds: list[str | None] = []
        counts: list[Counter[str]] = [Counter() for _ in range(width)]
        below_all_text = True
        total = 0
        for i, row in enumerate(sheet.iter_rows()):
            total = i + 1
            kinds = [cell_kind(v) for v in row]
            if first is None:
                if any(kinds):
                    first, header, header_kinds = i, list(row), kinds
                continue
            for j, kind in enumerate(kinds):
                if kind is not None:
                    counts[j][kind] += 1
                    below_all_text = below_all_text and kind == "str"
        if first is None:
            return
        has_header = all(k in (None, "str") for k in header_kinds) and not below_all_text
        if not has_header:
            for j, kind in enumerate(header_kinds):
                if kind is not None:
                    counts[j][kind] += 1
        names = column_names(header if has_header else None, width)
        start_row = sheet.start[0] if sheet.start else 0
        offset = start_row - (total - sheet.height)  # 0 when iter_rows() starts at row 1
        columns = [_plan(name, counts[j]) for j, name in enumerate(names)]
        for col in columns:
            target = overrides.get(col.name)
            if target is not None:
                utc = pa.types.is_timestamp(target) and target.tz is not None
                col.type, col.convert = pa.string(), _text(utc)
        schema = pa.schema([pa.field(c.name, c.type) for c in columns])

        # Pass 2: batches.
        data_from = first + 1 if has_header else first
        size = max(1, self.options.batch_size)
        values: list[list[Any]] = [[] for _ in columns]
        kept: list[tuple[int, list[Any]]] = []
        errors: list[RowError] = []
        for i, row in enumerate(sheet.iter_rows()):
            if i < data_from or not any(cell_kind(v) for v in row):
                continue
            line = i + 1 + offset
            converted: list[Any] = []
            for col, value in zip(columns, row, strict=True):
                if value is None or value == "":
                    converted.append(None)
                    continue
                try:
                    converted.append(col.convert(value))
                except _Misfit:
                    errors.append(RowError(
                        f"expected {type_name(col.type)} in column {col.name!r}",
                        line=line,
                        raw=_raw(row),
                        column=col.name,
                        value=cell_text(value),
                    ))
                    break
            else:
                for store, value in zip(values, converted, strict=True):
                    store.append(value)
                kept.append((line, row))
            if len(kept) + len(errors) >= size:
                yield self._flush(schema, values, kept, errors, overrides)
                values, kept, errors = [[] for _ in columns], [], []
        if kept or errors:
            yield self._flush(schema, values, kept, errors, overrides)

    @staticmethod
    def _flush(
        schema: pa.Schema,
        values: list[list[Any]],
        kept: list[tuple[int, list[Any]]],
        errors: list[RowError],
        overrides: dict[str, pa.DataType],
    ) -> DecodedBatch:
        if not kept:
            return DecodedBatch(None, errors)
        arrays = [pa.array(v, type=f.type) for v, f in zip(values, schema, strict=True)]
        batch = pa.RecordBatch.from_arrays(arrays, schema=schema)
        if overrides:
            batch, misses = cast_overrides(batch, overrides)
            seen: set[int] = set()
            for miss in misses:
                if miss.row in seen:
                    continue
                seen.add(miss.row)
                line, row = kept[miss.row]
                errors.append(RowError(
                    f"expected {miss.expected} in column {miss.column!r}",
                    line=line,
                    raw=_raw(row),
                    column=miss.column,
                    value=miss.value,
                ))
            errors.sort(key=lambda e: e.line or 0)
        return DecodedBatch(batch if batch.num_rows else None, errors)


def _text(utc: bool) -> Callable[[Any], str]:
    return lambda value: cell_text(value, utc)


def _raw(row: list[Any]) -> str:
    return "\t".join(cell_text(v) for v in row)


__all__ = ["XlsxDecoder", "cell_kind", "cell_text", "column_names"]
