"""One decoder per format; each yields Arrow record batches plus rejected records.

The registry maps a format name to the module that holds its decoder, so that importing this
package stays cheap and a format's heavy dependencies load only when it is used.
"""

from __future__ import annotations

from importlib import import_module

from ..errors import UsageError
from .base import DecodedBatch, DecodeOptions, Decoder

#: format name -> (module, class)
_REGISTRY: dict[str, tuple[str, str]] = {
    "csv": ("delimited", "DelimitedDecoder"),
    "tsv": ("delimited", "DelimitedDecoder"),
    "json": ("json_array", "JsonArrayDecoder"),
    "jsonl": ("jsonl", "JsonLinesDecoder"),
    "xml": ("xml", "XmlDecoder"),
    "xes": ("xes", "XesDecoder"),
    "parquet": ("parquet", "ParquetDecoder"),
    "avro": ("avro", "AvroDecoder"),
    "xlsx": ("xlsx", "XlsxDecoder"),
    "log": ("log", "LogDecoder"),
}

FORMATS: tuple[str, ...] = tuple(_REGISTRY)


def get_decoder(fmt: str) -> type[Decoder]:
    """Returns the decoder class for a format name.

    Raises:
        UsageError: For an unknown format.

    Example:
        >>> get_decoder("jsonl").__name__
        'JsonLinesDecoder'
    """
    try:
        module, cls = _REGISTRY[fmt]
    except KeyError:
        choices = ", ".join(FORMATS)
        raise UsageError(f"unknown format {fmt!r}; choose one of auto, {choices}") from None
    return getattr(import_module(f"{__name__}.{module}"), cls)


__all__ = ["FORMATS", "DecodeOptions", "DecodedBatch", "Decoder", "get_decoder"]
