"""Keeping one output schema while batches arrive with new columns or wider types."""

from __future__ import annotations

import json
import re

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataError

Data = pa.RecordBatch | pa.Table  # decoders may hand over a parsed block as a table


class SchemaAligner:
    """Unifies the schemas of successive batches by column name.

    A batch with the same columns passes through (reordered, missing columns as nulls). A new
    column or a wider type (int64 -> double) grows the schema; ``conform`` then says so, and the
    caller starts a new output segment.

    Example:
        >>> al = SchemaAligner()
        >>> _ = al.conform(pa.record_batch({"a": [1]}))
        >>> b, changed = al.conform(pa.record_batch({"a": [1.5], "b": ["x"]}))
        >>> changed, str(al.schema.field("a").type), b.num_columns
        (True, 'double', 2)
    """

    def __init__(self) -> None:
        self.schema: pa.Schema | None = None
        self.renamed: dict[str, str] = {}  # original -> cleaned column names
        self.int_as_text: set[str] = set()  # int columns a text typer widened to text
        self._int_span: dict[str, int] = {}  # largest |value| of each 64-bit int column

    def conform(self, batch: Data) -> tuple[Data, bool]:
        """Returns the batch in the (possibly grown) schema and whether the schema changed."""
        meta = batch.schema.metadata or {}
        if b"logflow.int_as_text" in meta:  # see TextTyper.mark: ints written back as text
            self.int_as_text.update(json.loads(meta[b"logflow.int_as_text"]))
            batch = batch.replace_schema_metadata(None)
        widened = False
        if self.int_as_text and self.schema is not None:
            batch, grown = _ints_as_text(batch, self.schema, self.int_as_text)
            widened, self.schema = grown is not self.schema, grown
        names = batch.schema.names
        if any(_CONTROL.search(n) for n in names):
            cleaned = clean_names(names)
            self.renamed.update({a: b for a, b in zip(names, cleaned, strict=True) if a != b})
            batch = batch.rename_columns(cleaned)
        self._track_ints(batch)
        if self.schema is None:
            self.schema = batch.schema.remove_metadata()
            return batch, True
        if batch.schema.equals(self.schema, check_metadata=False):
            return batch, widened
        changed = widened
        if not _fits(batch.schema, self.schema):
            try:
                grown = pa.unify_schemas([_to_text(self.schema, batch.schema),
                                          _to_text(batch.schema.remove_metadata(), self.schema)],
                                         promote_options="permissive")
            except (pa.ArrowTypeError, pa.ArrowInvalid) as err:
                raise DataError(f"incompatible column types across records: {err}") from None
            changed = widened or not grown.equals(self.schema)
            self.schema = grown
        self._check_ints_fit(self.schema)
        return conform_batch(batch, self.schema), changed

    def _track_ints(self, batch: Data) -> None:
        """Remembers the largest magnitude of every 64-bit integer column (vectorized)."""
        for f, col in zip(batch.schema, batch.columns, strict=True):
            if f.type in (pa.int64(), pa.uint64()) and len(col) > col.null_count:
                lo, hi = (v.as_py() for v in pc.min_max(col).values())
                self._int_span[f.name] = max(self._int_span.get(f.name, 0), abs(lo), abs(hi))

    def _check_ints_fit(self, schema: pa.Schema) -> None:
        """A column holding integers beyond 2^53 and, elsewhere, fractions has no exact type:
        a double would round the integers. Refused with the override that keeps both."""
        for name, span in self._int_span.items():
            i = schema.get_field_index(name)
            if span > _EXACT_IN_DOUBLE and i >= 0 and pa.types.is_floating(schema.field(i).type):
                raise DataError(
                    f"integers beyond 2^53 (up to {span}) and fractions in one column: a "
                    "double cannot hold both exactly; read it as text or decimal (schema "
                    f"override {{\"{name}\": \"string\"}} or decimal(38,S))", column=name)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Integers of larger magnitude are not all exact as doubles.
_EXACT_IN_DOUBLE = 1 << 53


def clean_names(names: list[str]) -> list[str]:
    r"""Column names without control characters (no SQL engine takes a NUL in a name).

    Example:
        >>> clean_names(["a\x00b", "c"])
        ['a_b', 'c']
    """
    return [_CONTROL.sub("_", n) or f"column_{i}" for i, n in enumerate(names, start=1)]


def _to_text(schema: pa.Schema, other: pa.Schema) -> pa.Schema:
    """``schema`` with a number/boolean column as text where ``other`` has it as text (a JSON
    field holding both: the written numbers are cast to their text)."""
    for i, f in enumerate(schema):
        j = other.get_field_index(f.name)
        if j >= 0 and pa.types.is_string(other.field(j).type) and (
                pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
                or pa.types.is_boolean(f.type)):
            schema = schema.set(i, f.with_type(pa.string()))
    return schema


def _ints_as_text(batch: Data, schema: pa.Schema, names: set[str]) -> tuple[Data, pa.Schema]:
    """Integer columns of ``names`` as text, in ``batch`` and in ``schema`` (where they are
    canonical integers, so their decimal text is the text they were read from)."""
    for name in names:
        i = schema.get_field_index(name)
        if i >= 0 and pa.types.is_integer(schema.field(i).type):
            schema = schema.set(i, schema.field(i).with_type(pa.string()))
        j = batch.schema.get_field_index(name)
        if j >= 0 and pa.types.is_integer(batch.schema.field(j).type):
            col = pc.cast(batch.column(j), pa.string())
            batch = batch.set_column(j, batch.schema.field(j).with_type(pa.string()), col)
    return batch, schema


def _fits(schema: pa.Schema, target: pa.Schema) -> bool:
    for f in schema:
        i = target.get_field_index(f.name)
        if i < 0 or (target.field(i).type != f.type and not pa.types.is_null(f.type)):
            return False
    return True


def conform_batch(batch: Data, schema: pa.Schema) -> Data:
    """Reorders, casts and null-fills ``batch`` (a record batch or a table) to ``schema``."""
    arrays = []
    for f in schema:
        i = batch.schema.get_field_index(f.name)
        if i < 0:
            nulls = pa.nulls(batch.num_rows, f.type)
            arrays.append(pa.chunked_array([nulls]) if isinstance(batch, pa.Table) else nulls)
        else:
            col = batch.column(i)
            arrays.append(col if col.type == f.type else pc.cast(col, f.type))
    if isinstance(batch, pa.Table):
        return pa.Table.from_arrays(arrays, schema=schema)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
