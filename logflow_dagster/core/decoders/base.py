"""The decoder contract: every format yields Arrow record batches plus the records it rejected."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pyarrow as pa

from ..detect.result import Detection
from ..errors import RowError
from ..source import Source


@dataclass
class DecodeOptions:
    """Options every decoder understands (each reads the ones that apply to it).

    Attributes:
        batch_size: Target rows per emitted batch (decoders may emit fewer).
        block_size: Bytes read per step by text decoders.
        schema: Column type overrides by name, as Arrow type names (``{"amount": "float64"}``).
        null_values: Strings read as null in text formats (an empty unquoted field always is).
        sheet: Spreadsheet sheet name or 0-based index (XLSX).
        record_tag: XML element that holds one record (default: detected).
        infer_rows: Rows sampled for type inference.
        type_threshold: Share of sampled values that must parse as a type for the column to
            take it; the rest become bad records instead of turning the column into text.
        type_hints: Column kinds to start from instead of inferring (from a schema cache);
            unlike ``schema`` overrides they may still widen.
    """

    batch_size: int = 65_536
    block_size: int = 16 << 20
    schema: dict[str, str] | None = None
    null_values: tuple[str, ...] = ("",)
    sheet: str | int | None = None
    record_tag: str | None = None
    infer_rows: int = 20_000
    type_threshold: float = 0.99
    type_hints: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class DecodedBatch:
    """One step of a decoder's output.

    Attributes:
        batch: The good records (may be ``None`` when a step only rejected records); a table
            when a decoder parsed a block into several chunks (they are not copied into one).
        errors: The records rejected in this step, in input order.
    """

    batch: pa.RecordBatch | pa.Table | None
    errors: list[RowError] = field(default_factory=list)

    @property
    def records(self) -> int:
        """Records consumed by this step: good plus rejected."""
        return (self.batch.num_rows if self.batch is not None else 0) + len(self.errors)


class Decoder(ABC):
    """Base class of the per-format decoders.

    Subclasses set ``format`` (and optionally ``aliases``), read ``self.source`` lazily and
    stream: memory must stay bounded by the batch/block size, not the input size (XLSX and
    JSON arrays without a streaming path are the documented exceptions).

    Attributes:
        info: What the decoder learnt while reading (``encoding``, ``delimiter`` ...), merged
            into the :class:`IngestResult`.

    Example:
        >>> from logflow_dagster.core.decoders import get_decoder
        >>> cls = get_decoder("csv")
        >>> cls.format
        'csv'
    """

    format: ClassVar[str]

    def __init__(self, source: Source, detection: Detection, options: DecodeOptions) -> None:
        self.source = source
        self.detection = detection
        self.options = options
        self.info: dict[str, Any] = {}

    @abstractmethod
    def batches(self) -> Iterator[DecodedBatch]:
        """Yields decoded batches with the rejected records of each step.

        Raises:
            DataError: Only for input that cannot be decoded at all (not for bad records,
                which are reported in ``DecodedBatch.errors``).
        """
