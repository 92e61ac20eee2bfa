"""Exact value counts of one column across batches, kept by the values' 64-bit hashes.

The profile already has DuckDB's ``hash`` of every value (for the row checksum), so a column
is counted by its hashes: an Arrow hash count over integers is a few times cheaper than one
over the strings themselves, and the distinct hashes seed the HyperLogLog as they are when a
column passes the cap. Two distinct values share a 64-bit hash with a probability of about
``cap**2 / 2**65`` (1e-11 at the default cap), so the counts are exact in practice.

Each batch contributes ``pc.value_counts``; the keys seen so far tell the batch's new ones,
and the parts are summed with a hash group-by only when they are many or read, so a column with
a few hundred distinct values costs a few kernel calls per batch and no Python loop over its
values.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_MAX_PARTS = 32  # consolidate at least this often, so memory stays near the cap


class ValueCounts:
    """Counts of a column's values, given by their hashes, while they number at most ``cap``.

    Example:
        >>> import numpy as np
        >>> vc = ValueCounts(cap=10)
        >>> vc.add(np.array([7, 8, 7], dtype=np.uint64))[0].to_pylist()
        [7, 8]
        >>> vc.add(np.array([8, 9], dtype=np.uint64))[0].to_pylist(), vc.ok
        ([9], True)
        >>> vc.distinct, sorted(vc.counts().tolist())
        (3, [1, 2, 2])
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._keys: list[pa.Array] = []  # parts: the distinct keys of each batch added
        self._counts: list[pa.Array] = []
        self._known = pa.array([], pa.uint64())  # each key seen so far, once

    @property
    def ok(self) -> bool:
        """Whether the column is still within ``cap`` distinct values."""
        return len(self._known) <= self.cap

    def add(self, hashes: np.ndarray) -> tuple[pa.Array, bool]:
        """Counts one batch's (non-null) value hashes; :attr:`ok` says whether the column is
        still within ``cap``.

        Returns:
            The keys not seen before, and whether every key of the batch is one of them.
        """
        vc = pc.value_counts(pa.array(hashes, pa.uint64()))
        keys = vc.field("values")
        fresh = self._extend(keys, vc.field("counts"))
        return fresh, len(fresh) == len(keys)

    def merge(self, other: ValueCounts) -> bool:
        """Adds another column's counts; False when the union passes ``cap``."""
        for keys, counts in zip(other._keys, other._counts, strict=True):
            self._extend(keys, counts)
        return self.ok

    def _extend(self, keys: pa.Array, counts: pa.Array) -> pa.Array:
        """Adds one part (distinct keys and their counts); returns the keys not seen before."""
        fresh = keys
        if len(self._known) and len(keys):
            fresh = keys.filter(pc.invert(pc.is_in(keys, value_set=self._known)))
        if len(keys):
            self._keys.append(keys)
            self._counts.append(counts)
        if len(fresh):
            self._known = pa.concat_arrays([self._known, fresh])
        if len(self._keys) > _MAX_PARTS:
            self._consolidate()
        return fresh

    def _consolidate(self) -> None:
        """Sums the parts into one."""
        if len(self._keys) > 1:
            table = pa.table({"k": pa.concat_arrays(self._keys),
                              "n": pa.concat_arrays(self._counts)})
            summed = table.group_by("k").aggregate([("n", "sum")])
            self._keys = [summed.column("k").combine_chunks()]
            self._counts = [summed.column("n_sum").combine_chunks()]

    @property
    def distinct(self) -> int:
        """The number of distinct keys."""
        return len(self._known)

    def keys(self) -> np.ndarray:
        """The distinct keys (value hashes), as unsigned 64-bit integers."""
        self._consolidate()
        if not self._keys:
            return np.zeros(0, dtype=np.uint64)
        return self._keys[0].to_numpy(zero_copy_only=False)

    def counts(self) -> np.ndarray:
        """The count of each of :meth:`keys`."""
        self._consolidate()
        if not self._counts:
            return np.zeros(0, dtype=np.int64)
        return self._counts[0].to_numpy(zero_copy_only=False)

    def entropy(self) -> float | None:
        """Shannon entropy in bits of the value distribution (None without values)."""
        counts = self.counts().astype(np.float64)
        total = counts.sum()
        if not total:
            return None
        p = counts / total
        return float(-(p * np.log2(p)).sum()) + 0.0
