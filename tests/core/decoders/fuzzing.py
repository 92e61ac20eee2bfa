"""Hypothesis pieces shared by the decoder fuzz tests."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Bytes that start like a compressed stream (gzip, bz2, zstd) or like nothing at all.
COMPRESSED_MAGIC = [b"", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", b"BZh9", b"\x28\xb5\x2f\xfd"]

#: Settings of the binary-format fuzz tests.
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Short garbage behind a compression magic (gzip, bz2, xz): never a valid stream.
compressed_garbage = st.builds(
    bytes.__add__, st.sampled_from([b"\x1f\x8b", b"\x1f\x8b\x08\x00", b"BZh9", b"\xfd7zXZ\x00"]),
    st.binary(max_size=60),
)


def magic_then_garbage() -> st.SearchStrategy[bytes]:
    """Random bytes, some behind a compression magic."""
    return st.builds(bytes.__add__, st.sampled_from(COMPRESSED_MAGIC), st.binary(max_size=2000))


def flipped_or_cut(valid: bytes) -> st.SearchStrategy[bytes]:
    """A valid file with up to 8 bytes XOR-ed, and truncated half of the time."""

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        flips = draw(st.lists(st.tuples(st.integers(0, len(valid) - 1), st.integers(1, 255)),
                              min_size=1, max_size=8))
        cut = draw(st.integers(0, len(valid)))
        data = bytearray(valid)
        for pos, mask in flips:
            data[pos] ^= mask
        return bytes(data[:cut]) if cut % 2 else bytes(data)

    return build()
