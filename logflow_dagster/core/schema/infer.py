"""Type inference for text columns, and vectorized casting that finds the bad values.

Every decoder that reads text (CSV, XML, log lines) produces string columns and hands them to a
:class:`TextTyper`. The typer infers a type per column from a sample, then casts each batch;
values that do not fit are reported per row so that the record becomes a bad record (a stray
``"n/a"`` in a numeric column never turns the column into text). When a later value needs a
wider type (``3.5`` in an integer column, a time in a date column) the column is widened, never
rounded.

A number with more significant digits than a double keeps (``9007199254740993``,
``0.1000000000000000055``) is not the number a double would hold: such a value in the sample
makes a ``float`` column (or an ``int`` column whose value is past int64) ``string``; met later
in a ``float`` column, its record is bad (the doubles typed before cannot turn back into their
text). A number written as a code (a leading zero as in ``08123`` or ``-007``, a leading ``+``,
``-0``) does not survive a round trip through a number type, so it is text: such a value in the
sample makes the column ``string``; met later in an ``int`` column, it widens the column to
``string`` (the integers already typed are canonical, so their text is exactly what the source
said). A ``float`` column keeps numbers, not their spelling (``1.50`` reads back as ``1.5``): a
later ``+1.5`` or ``007.5`` there is read as its number, like ``1.50``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .cast import failing_rows, numeric_codes
from .types import parse_type

# Patterns for the inferable kinds, narrowest first. Applied with pyarrow's vectorized regex.
_BOOL = r"^(?i:true|false)$"
_INT = r"^[+-]?\d{1,18}$"
_FLOAT = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^(?i:nan|[+-]?inf(inity)?)$"
_STARTS = r"^(?i:[-+.\d]|t|f|n|i)"  # how every value of a non-string kind starts
_CODE = r"^(\+|-?0\d|-0$)"  # see numeric_codes
_FLOAT_COMMA = r"^[+-]?\d+(,\d+)?([eE][+-]?\d+)?$"
_YMD = r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
_HMS = r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?"
_DATE = rf"^{_YMD}$"
_TS = rf"^{_YMD}[T ]{_HMS}$"
_TSTZ = rf"^{_YMD}[T ]{_HMS}(Z|[+-]\d{{2}}(:?\d{{2}})?)$"

_ZONE_HHMM = r"(:\d{2}(?:\.\d{1,9})?)([+-]\d{2})(\d{2})$"
_ZONE_HH = r"(:\d{2}(?:\.\d{1,9})?)([+-]\d{2})$"

TS_UNIT = "us"
#: Schema metadata key listing int columns widened to text (see :meth:`TextTyper.mark`).
INT_AS_TEXT = b"logflow.int_as_text"
T = TypeVar("T", pa.RecordBatch, pa.Table)


@dataclass
class ColumnPlan:
    """How one text column is typed.

    Attributes:
        name: Column name.
        kind: ``string``, ``bool``, ``int``, ``float``, ``date``, ``timestamp``,
            ``timestamptz`` or ``override``.
        type: The Arrow type the column is cast to.
        decimal_comma: Numbers use ``,`` as the decimal mark.
    """

    name: str
    kind: str
    type: pa.DataType
    decimal_comma: bool = False


@dataclass
class CastFailure:
    """Rows of a batch whose value in ``column`` could not be cast."""

    column: str
    rows: np.ndarray  # int64 row indices within the batch
    values: list[str]
    expected: str


_KIND_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "bool": pa.bool_(),
    "int": pa.int64(),
    "float": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp(TS_UNIT),
    "timestamptz": pa.timestamp(TS_UNIT, tz="UTC"),
}

# What a kind may widen to when a later value needs it (to string only for an int column that
# meets a code, see the module docstring: a value that fits no type is a bad value).
_WIDER: dict[str, tuple[str, ...]] = {
    "int": ("float",),
    "date": ("timestamp", "timestamptz"),
    "timestamp": ("timestamptz",),
}


def _pattern(kind: str, decimal_comma: bool) -> str:
    if kind in ("float", "int") and decimal_comma:
        return _FLOAT_COMMA if kind == "float" else _INT
    return {
        "string": r"",
        "override": r"",
        "native": r"",
        "bool": _BOOL,
        "int": _INT,
        "float": _FLOAT,
        "date": _DATE,
        "timestamp": _TS,
        "timestamptz": _TSTZ,
    }[kind]


def _accepted(kind: str) -> str:
    """What a column of ``kind`` accepts after :meth:`TextTyper._prepare` (dates widen)."""
    if kind == "timestamp":
        return f"{_TS}|{_DATE}"
    if kind == "timestamptz":
        return f"{_TSTZ}|{_TS}|{_DATE}"
    return _pattern(kind, False)


#: An integer of 16+ digits, or any number of 18+ significant digits: values a double may not
#: hold (15 digits always survive a double; 16-17 with a fraction are how doubles print).
_LONG_NUMBER = (r"^\s*[+-]?0*[1-9][0-9]{15,}\s*$|"
                r"^\s*[+-]?[0.]*[1-9](\.?[0-9]){17,}")
_INT64 = (-(1 << 63), (1 << 63) - 1)


def inexact_as_double(values: pa.Array) -> np.ndarray:
    """Rows whose number a double cannot hold: an integer of 16+ digits that is not exactly a
    double, or a number of 18+ significant digits whose value differs from the nearest
    double's shortest form (``Decimal(text) != Decimal(repr(float(text)))``). A fraction of 16
    or 17 digits is how a double prints (``0.10000000000000001``) and reads back as that same
    double. Candidates are found with one vectorized pass and checked one by one.

    Example:
        >>> inexact_as_double(pa.array(["2.50", "9007199254740993", "9007199254740992", None,
        ...                              "0.10000000000000001", "0.1000000000000000055511"]))
        array([1, 5])
    """
    long = pc.fill_null(pc.match_substring_regex(values, _LONG_NUMBER), False)
    rows = np.flatnonzero(long.to_numpy(zero_copy_only=False))
    out = []
    for row, text in zip(rows.tolist(), values.take(pa.array(rows)).to_pylist(), strict=True):
        try:
            number = Decimal(text.strip())
            if number != Decimal(repr(float(number))):
                out.append(row)
        except (InvalidOperation, ValueError, OverflowError):
            continue  # not a number: the cast reports it
    return np.array(out, dtype=np.int64)


def _any_long(column: pa.Array | pa.ChunkedArray) -> bool:
    """Whether a string column holds a value of 16 bytes or more (the only ones that can have
    16 significant digits), from its offsets alone."""
    longest = pc.max(pc.binary_length(column)).as_py()
    return longest is not None and longest >= 16


def infer_kind(values: pa.Array, *, threshold: float = 0.99, decimal_comma: bool = False) -> str:
    """Picks the narrowest kind that at least ``threshold`` of the non-null values fit.

    Example:
        >>> infer_kind(pa.array(["1", "2", "3.5"]))
        'float'
        >>> infer_kind(pa.array(["2024-01-02T03:04:05+02:00", None]))
        'timestamptz'
    """
    present = pc.drop_null(values)
    n = len(present)
    if n == 0:
        return "string"
    need = max(1, int(np.ceil(n * threshold)))
    # every inferable value starts with a digit, a sign, a point or the first letter of
    # true/false/nan/inf: one cheap anchored pass settles free-text columns
    if (pc.sum(pc.match_substring_regex(present, _STARTS)).as_py() or 0) < need:
        return "string"
    counts = {
        kind: pc.sum(pc.match_substring_regex(present, _pattern(kind, decimal_comma))).as_py() or 0
        for kind in ("bool", "int", "float", "date", "timestamp", "timestamptz")
    }
    if counts["bool"] >= need:
        return "bool"
    if counts["float"] and pc.any(pc.match_substring_regex(present, _CODE)).as_py():
        return "string"  # a number written as a code: text (see the module docstring)
    inexact = inexact_as_double(present) if not decimal_comma and (
        counts["int"] >= need or counts["float"] >= need) else np.array([], dtype=np.int64)
    if counts["int"] >= need:
        if any(not _INT64[0] <= int(Decimal(t)) <= _INT64[1]
               for t in present.take(pa.array(inexact)).to_pylist()):
            return "string"  # past int64 it would be widened to an inexact double
        return "int"
    if counts["float"] >= need:  # _FLOAT also matches integers
        return "string" if inexact.size else "float"
    if counts["date"] >= need:
        return "date"
    if counts["timestamptz"] >= need:
        return "timestamptz"
    if counts["timestamp"] >= need:
        return "timestamp"
    if counts["date"] + counts["timestamp"] >= need:
        return "timestamp"
    if counts["date"] + counts["timestamp"] + counts["timestamptz"] >= need:
        return "timestamptz"
    return "string"


class TextTyper:
    """Infers and applies a type plan to batches of string columns.

    Args:
        overrides: Column name -> type name, from the user; these columns are not inferred.
        threshold: See :func:`infer_kind`.
        decimal_comma: Numbers are written with a decimal comma.

    Example:
        >>> typer = TextTyper()
        >>> batch = pa.record_batch({"n": [str(i) for i in range(200)] + ["x"]})
        >>> typer.infer(batch)
        >>> typed, failures = typer.apply(batch)
        >>> typed.num_rows, failures[0].rows.tolist(), failures[0].values
        (200, [200], ['x'])
    """

    def __init__(
        self,
        overrides: dict[str, str] | None = None,
        *,
        threshold: float = 0.99,
        decimal_comma: bool = False,
        hints: dict[str, str] | None = None,
    ) -> None:
        """See the class docstring; ``hints`` are kinds to start from (a schema cache's)."""
        self.overrides = {k: parse_type(v) for k, v in (overrides or {}).items()}
        self.hints = {k: v for k, v in (hints or {}).items() if v in _KIND_TYPES}
        self.threshold = threshold
        self.decimal_comma = decimal_comma
        self.plans: dict[str, ColumnPlan] = {}
        #: int columns widened to text by a code met after the sample (see the module doc)
        self.int_as_text: set[str] = set()

    @property
    def schema(self) -> pa.Schema:
        """The current output schema (changes when a column widens)."""
        return pa.schema([pa.field(p.name, p.type) for p in self.plans.values()])

    def infer(self, sample: pa.RecordBatch | pa.Table) -> None:
        """Plans each column of ``sample`` (string columns) not planned yet."""
        for name, column in zip(sample.column_names, sample.columns, strict=True):
            if name in self.plans:
                continue
            if name in self.overrides:
                self.plans[name] = ColumnPlan(name, "override", self.overrides[name])
                continue
            if isinstance(column, pa.ChunkedArray):
                column = column.combine_chunks()
            if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
                self.plans[name] = ColumnPlan(name, "native", column.type)
                continue
            kind = self.hints.get(name) or infer_kind(
                column, threshold=self.threshold, decimal_comma=self.decimal_comma)
            self.plans[name] = ColumnPlan(name, kind, _KIND_TYPES[kind], self.decimal_comma)

    def kinds(self) -> dict[str, str]:
        """The inferred kind per text column (what a schema cache remembers as hints)."""
        return {p.name: p.kind for p in self.plans.values() if p.kind in _KIND_TYPES}

    def arrow_types(self) -> dict[str, pa.DataType]:
        """The planned type per column, for readers that convert while parsing."""
        return {p.name: p.type for p in self.plans.values()}

    def apply(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, list[CastFailure]]:
        """Casts a batch of string columns to the plan.

        Returns:
            The typed batch without the rows that failed, and the failures (row indices refer
            to the input batch). Columns seen for the first time are inferred from this batch.
        """
        self.infer(batch)
        arrays: list[pa.Array] = []
        failures: list[CastFailure] = []
        bad_rows = np.zeros(batch.num_rows, dtype=bool)
        for name, column in zip(batch.column_names, batch.columns, strict=True):
            plan = self.plans[name]
            typed, failure = self._cast(plan, column)
            if failure is not None:
                failures.append(failure)
                bad_rows[failure.rows] = True
            arrays.append(typed)
        typed_batch = self.mark(pa.RecordBatch.from_arrays(arrays, names=batch.column_names))
        if bad_rows.any():
            typed_batch = typed_batch.filter(pa.array(~bad_rows))
        return typed_batch, failures

    def mark(self, data: T) -> T:
        """``data`` (a batch or table of this typer's output) with the names of the int columns
        widened to text in its schema metadata, which the schema aligner reads (it then writes
        the integers typed before as text, see :class:`~.align.SchemaAligner`)."""
        if not self.int_as_text:
            return data
        meta = dict(data.schema.metadata or {})
        meta[INT_AS_TEXT] = json.dumps(sorted(self.int_as_text)).encode()
        return data.replace_schema_metadata(meta)

    def number_text(self, name: str, column: pa.ChunkedArray) -> pa.ChunkedArray | None:
        """Casts the text of an ``int`` or ``float`` column read by a fast reader, or ``None``
        when a value needs more (an int code, a number a double cannot hold, a value that does
        not cast: the slow path decides)."""
        plan = self.plans[name]
        text = self._prepare(plan, column)  # a decimal comma as a point: checked as a number
        if plan.kind == "float":
            if _any_long(text) and inexact_as_double(text).size:
                return None
        elif numeric_codes(column).any():
            return None
        try:
            return pc.cast(text, plan.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None

    def _cast(self, plan: ColumnPlan, column: pa.Array) -> tuple[pa.Array, CastFailure | None]:
        """One vectorized cast; only when it fails, work on the failing values alone:
        normalize them (zones such as +0100, dates in timestamp columns, naive times in zoned
        columns), widen the column if a wider kind takes them, else report them."""
        if plan.kind in ("string", "native") or column.type == plan.type:
            return column, None
        codes = numeric_codes(column) if plan.kind == "int" else None
        if codes is not None and codes.any():
            self.int_as_text.add(plan.name)
            self.plans[plan.name] = ColumnPlan(plan.name, "string", pa.string())
            return column, None
        base = self._prepare(plan, column)
        if plan.kind == "float":
            inexact = inexact_as_double(base)
            if inexact.size:  # bad records: a double would not hold what the source says
                mask = np.zeros(len(column), dtype=bool)
                mask[inexact] = True
                typed, failure = self._cast(plan, pc.if_else(
                    pa.array(mask), pa.scalar(None, column.type), column))
                rows = np.union1d(inexact, failure.rows if failure else inexact[:0])
                texts = [str(v) for v in column.take(pa.array(rows)).to_pylist()]
                return typed, CastFailure(plan.name, rows.astype(np.int64), texts,
                                          "float (exact as a double)")
        try:
            return pc.cast(base, plan.type), None
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        bad, cast_rest = self._find_bad(plan, base)
        fixed = self._normalize(plan, base.take(pa.array(bad)))
        still = failing_rows(fixed, plan.type) if len(fixed) else bad[:0]
        recovered = np.ones(len(bad), dtype=bool)
        recovered[still] = False
        leftover = fixed.take(pa.array(still))
        for wider in _WIDER.get(plan.kind, ()):
            if pc.any(pc.match_substring_regex(leftover, _accepted(wider))).as_py():
                # a new plan object, swapped in whole: blocks typed on other threads see
                # either the old plan or the new one, never half of each
                plan = ColumnPlan(plan.name, wider, _KIND_TYPES[wider], plan.decimal_comma)
                self.plans[plan.name] = plan
                return self._cast(plan, column)
        if cast_rest is not None:  # the good values were already cast while finding the bad
            typed = cast_rest
        else:
            mask = np.zeros(len(column), dtype=bool)
            mask[bad] = True
            typed = pc.cast(pc.if_else(pa.array(mask), pa.scalar(None, base.type), base),
                            plan.type)
        if recovered.any():
            put = np.zeros(len(column), dtype=bool)
            put[bad[recovered]] = True
            values = pc.cast(fixed.filter(pa.array(recovered)), plan.type)
            typed = pc.replace_with_mask(typed, pa.array(put), values)
        rows = bad[still]
        if rows.size == 0:
            return typed, None
        texts = [str(v) for v in column.take(pa.array(rows)).to_pylist()]
        expected = plan.kind if plan.kind != "override" else str(plan.type)
        return typed, CastFailure(plan.name, rows.astype(np.int64), texts, expected)

    @staticmethod
    def _find_bad(plan: ColumnPlan, base: pa.Array) -> tuple[np.ndarray, pa.Array | None]:
        """Rows whose value the cast refuses: the kind's pattern finds most in one vectorized
        pass, bisection finds the rest (a 30th of February matches the pattern).

        Returns:
            The bad rows, and the cast of every other value (nulls at the bad rows) when that
            cast came for free, else ``None``.
        """
        pattern = _accepted(plan.kind)
        if not pattern:
            return failing_rows(base, plan.type), None
        miss = pc.and_(pc.is_valid(base),
                       pc.invert(pc.fill_null(pc.match_substring_regex(base, pattern), False)))
        by_pattern = np.flatnonzero(miss.to_numpy(zero_copy_only=False))
        rest = pc.if_else(miss, pa.scalar(None, base.type), base) if by_pattern.size else base
        try:
            return by_pattern, pc.cast(rest, plan.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return np.union1d(by_pattern, failing_rows(rest, plan.type)), None

    @staticmethod
    def _prepare(plan: ColumnPlan, column: pa.Array) -> pa.Array:
        """Cheap, whole-column spelling fixes (case of booleans, decimal commas)."""
        if plan.kind == "bool":
            return pc.utf8_lower(column)
        if plan.decimal_comma and plan.kind == "float":
            return pc.replace_substring(column, ",", ".")
        return column

    @staticmethod
    def _normalize(plan: ColumnPlan, values: pa.Array) -> pa.Array:
        """Regex fixes, applied only to values the plain cast refused."""
        if plan.kind in ("timestamp", "timestamptz"):
            values = pc.replace_substring_regex(values, _DATE, r"\0T00:00:00")  # a date: midnight
        if plan.kind == "timestamptz":
            # Arrow's ISO parser wants "+HH:MM" or "Z"; "+HHMM" and "+HH" are valid ISO too,
            # and a naive value in a zoned column is taken as UTC.
            values = pc.replace_substring_regex(values, _ZONE_HHMM, r"\1\2:\3")
            values = pc.replace_substring_regex(values, _ZONE_HH, r"\1\2:00")
            values = pc.replace_substring_regex(values, _TS, r"\0Z")
        return values
