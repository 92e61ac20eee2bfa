"""The formats the engine reads, in one place (no imports: the CLI builds its choices from it).

Example:
    >>> "jsonl" in FORMATS and DECODERS["csv"] == ("delimited", "DelimitedDecoder")
    True
"""

from __future__ import annotations

#: format name -> (module under ``core.decoders``, decoder class)
DECODERS: dict[str, tuple[str, str]] = {
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

FORMATS: tuple[str, ...] = tuple(DECODERS)
#: What ``format`` options accept: a format name or ``auto`` (detect from content).
FORMAT_CHOICES: tuple[str, ...] = ("auto", *FORMATS)
