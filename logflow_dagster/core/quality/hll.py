"""HyperLogLog registers updated from 64-bit hashes, vectorized with numpy.

Apache DataSketches (the maintained HLL we would reach for) updates one Python value per call:
about 20 million calls for the benchmark's 5M-row file, seconds of pure interpreter time. The
profile already has a 64-bit hash per value (DuckDB's ``hash``), so the registers are kept here
with numpy over those hashes. The estimator is Flajolet et al.'s with linear counting for small
cardinalities; the relative error is about 1.04/sqrt(2^p) (0.8% at p = 14).
"""

from __future__ import annotations

import numpy as np


class HyperLogLog:
    """Approximate distinct count from 64-bit hashes.

    Args:
        p: Register index bits (2^p registers).

    Example:
        >>> import numpy as np
        >>> h = HyperLogLog()
        >>> rng = np.random.default_rng(0)
        >>> h.update(rng.integers(0, 2**63, 50_000, dtype=np.uint64) * np.uint64(2))
        >>> abs(h.estimate() - 50_000) / 50_000 < 0.03
        True
    """

    def __init__(self, p: int = 14) -> None:
        self.p = p
        self.registers = np.zeros(1 << p, dtype=np.uint8)

    def update(self, hashes: np.ndarray) -> None:
        """Adds values given by their unsigned 64-bit hashes."""
        if hashes.size == 0:
            return
        h = hashes.astype(np.uint64, copy=False)
        index = (h >> np.uint64(64 - self.p)).astype(np.intp)
        rest = h & np.uint64((1 << (64 - self.p)) - 1)
        # bit length of `rest` from the float exponent; rank = leading zeros in 64-p bits + 1
        _, exponent = np.frexp(rest.astype(np.float64))
        rank = (64 - self.p) - exponent + 1
        np.maximum.at(self.registers, index, rank.astype(np.uint8))

    def merge(self, other: HyperLogLog) -> None:
        """Unions another sketch with the same ``p`` into this one."""
        np.maximum(self.registers, other.registers, out=self.registers)

    def estimate(self) -> float:
        """The estimated number of distinct values."""
        m = float(self.registers.size)
        alpha = 0.7213 / (1 + 1.079 / m)
        raw = alpha * m * m / float(np.sum(np.ldexp(1.0, -self.registers.astype(np.int64))))
        zeros = int(np.count_nonzero(self.registers == 0))
        if raw <= 2.5 * m and zeros:
            return m * float(np.log(m / zeros))
        return raw
