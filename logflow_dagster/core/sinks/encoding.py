"""Which columns of a Parquet file are dictionary-encoded.

Parquet writers try a dictionary for every column and fall back to plain encoding only when
the dictionary page fills up. A column of (nearly) unique values, such as event timestamps,
then pays for hashing every value into a dictionary that saves nothing: on the benchmark's
event log that was 13% of the writer's CPU. The first rows written tell which columns those
are.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

SAMPLE_ROWS = 65_536
MIN_ROWS = 1_000  # too few rows to judge: keep the dictionary
UNIQUE_SHARE = 0.5  # more distinct values than this share of the sampled non-null values


def dictionary_columns(data: pa.Table | pa.RecordBatch) -> bool | list[str]:
    """``use_dictionary`` for a Parquet writer whose first rows are ``data``: ``True`` for all
    columns, or the names of the columns that are not nearly unique in the first rows.

    Nested columns keep Parquet's default (the option names leaf paths, not columns).

    Example:
        >>> t = pa.table({"id": list(range(5000)), "kind": ["a", "b"] * 2500})
        >>> dictionary_columns(t)
        ['kind']
    """
    head = data.slice(0, SAMPLE_ROWS)
    if head.num_rows < MIN_ROWS or any(pa.types.is_nested(f.type) for f in head.schema):
        return True
    keep = []
    for name, column in zip(head.column_names, head.columns, strict=True):
        values = len(column) - column.null_count
        if pa.types.is_dictionary(column.type) or values < MIN_ROWS \
                or pc.count_distinct(column).as_py() <= UNIQUE_SHARE * values:
            keep.append(name)
    return True if len(keep) == head.num_columns else keep
