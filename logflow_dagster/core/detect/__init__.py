"""Detection from content: format, compression, encoding, CSV dialect, log grammar.

Magic bytes decide binary formats; text is decoded and looked at (markup, JSON, log grammars,
then delimited dialects). A format the caller names wins over detection, and so do the
per-option overrides (delimiter, header, encoding).
"""

from __future__ import annotations

import os

from ..errors import UsageError
from ..source import Source
from .dialect import aligned, sniff_dialect
from .encoding import EncodingGuess, detect_encoding
from .result import CsvDialect, Detection

_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PAR1", "parquet"),
    (b"PARE", "parquet"),  # encrypted footer: the decoder refuses it by name
    (b"Obj\x01", "avro"),
    (b"PK\x03\x04", "xlsx"),
)
_TEXT_FORMATS = {"csv", "tsv", "json", "jsonl", "xml", "xes", "log"}
_EXT_HINTS = {".tsv": "tsv", ".tab": "tsv", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
              ".json": "json", ".xml": "xml", ".xes": "xes", ".log": "log", ".parquet": "parquet",
              ".avro": "avro", ".xlsx": "xlsx"}


def detect(
    source: Source,
    *,
    format: str = "auto",
    encoding: str | None = None,
    delimiter: str | None = None,
    quote: str | None = None,
    header: bool | None = None,
    decimal: str | None = None,
    log_grammar: str | None = None,
) -> Detection:
    """Finds out what an input is.

    Args:
        source: The opened input.
        format: ``auto`` or a format name that skips format detection.
        encoding, delimiter, quote, header, decimal, log_grammar: Overrides of what
            detection finds. A delimiter or quote given for an input of no detected format
            makes it delimited text (it would otherwise be read as log lines).

    Example:
        >>> import gzip, pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = pathlib.Path(tmp, "events.csv.gz")
        ...     _ = path.write_bytes(gzip.compress(b"id;name\\n1;ada\\n2;bob\\n"))
        ...     d = detect(Source.open_path(path))
        >>> d.format, d.compression, d.dialect.delimiter
        ('csv', 'gzip', ';')
    """
    head = source.head()
    complete = source.size is not None and source.compression is None and len(head) < 1 << 16
    det = Detection(format="?", compression=source.compression)
    fmt = format.lower()
    if fmt == "auto":
        fmt, det.confidence = _sniff_binary(head)
    if fmt in ("parquet", "avro", "xlsx"):
        det.format = fmt
        return det
    if fmt not in _TEXT_FORMATS and fmt != "?":
        from ..decoders import get_decoder

        get_decoder(fmt)  # raises UsageError with the list of formats
    guess = EncodingGuess(encoding, 0) if encoding else detect_encoding(head, complete=complete)
    if encoding:
        _check_codec(encoding)
    det.encoding, det.bom = guess.encoding, guess.bom
    text = _decode_head(head[guess.bom :], guess.encoding)
    if fmt == "?":
        fmt, det.confidence, notes = _sniff_text(text, source)
        if fmt == "log" and (delimiter or quote):
            fmt, notes = "csv", ["delimited: a delimiter or quote was given"]
        det.notes.extend(notes)
    det.format = fmt
    if fmt in ("csv", "tsv"):
        dialect, share = sniff_dialect(text, delimiter="\t" if fmt == "tsv" else delimiter,
                                       quote=quote)
        if dialect.second_table:
            det.notes.append(
                f"ambiguous: several tables in one file: the first is read; records from line "
                f"{dialect.second_table} on (another table) are bad records: split the file")
        if header is not None:
            dialect.header = header
        if decimal:
            dialect.decimal = decimal
        det.dialect = dialect
        if format == "auto":
            det.confidence = min(det.confidence, share) if det.confidence else share
            det.format = "tsv" if dialect.delimiter == "\t" else "csv"
    elif fmt == "log":
        det.log_grammar = log_grammar or _sniff_log(text)[0]
    elif fmt in ("xml", "xes"):
        det.notes.append(f"record tag: {_sniff_markup(head)[2]}")
    return det


def _check_codec(name: str) -> None:
    import codecs

    try:
        codecs.lookup(name)
    except LookupError:
        raise UsageError(f"unknown encoding {name!r}") from None


def _decode_head(head: bytes, encoding: str) -> str:
    return head.decode(encoding, errors="replace")


def _sniff_binary(head: bytes) -> tuple[str, float]:
    if head[:3] == b"Obj" and len(head) > 4 and head[3] < 0x10 and b"avro." in head[:4096]:
        return "avro", 0.9  # an Avro container of another version: the decoder names it
    for magic, fmt in _BINARY_MAGIC:
        if head.startswith(magic):
            if fmt == "xlsx" and b"xl/" not in head and b"[Content_Types]" not in head:
                continue
            return fmt, 1.0
    return "?", 0.0


def _sniff_text(text: str, source: Source) -> tuple[str, float, list[str]]:
    stripped = text.lstrip()
    hint = _EXT_HINTS.get(os.path.splitext(source.name)[1].lower())
    if not stripped:
        return hint or "csv", 0.0, ["empty input"]
    grammar, share = _sniff_log(text)
    if stripped[0] == "<":
        fmt, confidence, _ = _sniff_markup(source.head())  # raw bytes: the XML declaration
                                                         # names their encoding
        if confidence < 0.5 and grammar != "line" and share >= 0.6:  # <34>1 2003-10-11...
            return "log", share, [f"log grammar {grammar}"]
        notes = []
        if confidence < 0.9 and fmt == "xes":
            notes.append(f"ambiguous: xes ({confidence:.2f}) or xml: <log> holds other elements")
        return fmt, confidence, notes
    if hint in ("json", "jsonl") and _is_json_scalar(stripped):
        # the JSON decoder names it (a single value is no records) rather than a log reading
        return "json", 0.5, ["a single JSON value, not records"]
    # Log lines first: application logs are full of commas, brackets and braces
    if grammar != "line" and share >= 0.6:
        return "log", share, [f"log grammar {grammar}"]
    if stripped[0] in "[{" and (hint in ("json", "jsonl") or _json_prefix(stripped)):
        # a .json/.jsonl name with a JSON start is JSON even when broken: its decoder
        # rejects the bad records with their lines instead of reading the text as lines
        return _sniff_json(stripped, hint)
    dialect, confidence = sniff_dialect(text)
    if confidence >= 0.6:
        notes = []
        if share >= 0.5 and confidence - share < 0.1:
            notes.append(f"ambiguous: {'tsv' if dialect.delimiter == chr(9) else 'csv'} "
                         f"({confidence:.2f}) or log lines, grammar {grammar} ({share:.2f})")
        return ("tsv" if dialect.delimiter == "\t" else "csv"), confidence, notes
    notes = []
    if aligned(text):
        notes.append("ambiguous: columns aligned with runs of spaces; to split them, squeeze "
                      "the runs to one space (tr -s ' ') and pass --delimiter ' '")
    if hint in ("csv", "tsv"):
        return hint, confidence, ["delimited by file name", *notes]
    return "log", 1.0 - confidence, ["no structure found: one line per record", *notes]


def _json_prefix(text: str) -> bool:
    """True when ``text`` starts with a JSON value, maybe cut at the end of the sample."""
    import json

    stripped = text.rstrip()
    try:
        value, end = json.JSONDecoder().raw_decode(stripped)
    except RecursionError:  # nested deeper than Python's JSON parser goes: the decoder bounds it
        return True
    except json.JSONDecodeError as err:
        if err.pos >= len(stripped) - 5:  # cut in the middle of the value
            return True
        # a string cut by the end of the sample: JSON strings hold no raw line break
        return err.msg.startswith("Unterminated string") and "\n" not in stripped[err.pos:]
    del value
    rest = stripped[end:].lstrip()
    return not rest or rest[0] in "[{"  # a document, or JSON Lines


def _sniff_json(text: str, hint: str | None) -> tuple[str, float, list[str]]:
    import json

    if text[0] == "[":
        return "json", 0.95, []
    lines = [ln for ln in text.splitlines()[:20] if ln.strip()]
    if len(lines) == 1 and hint != "jsonl":
        return "json", 0.6, ["one JSON value on one line: read as a JSON document"]
    parsed = 0
    for ln in lines[:-1] if len(lines) > 1 else lines:
        try:
            if isinstance(json.loads(ln), dict):
                parsed += 1
        except ValueError:
            pass
    checked = max(1, len(lines) - 1)
    if parsed and (parsed >= 0.5 * checked or hint == "jsonl"):
        return "jsonl", parsed / checked, []
    return "json", 0.8, []


def _is_json_scalar(text: str) -> bool:
    import json

    if text[:1] in ("[", "{"):  # a container, however deep, is no scalar
        return False
    try:
        return not isinstance(json.loads(text), dict | list)
    except (ValueError, RecursionError):
        return False


def _sniff_markup(head: bytes) -> tuple[str, float, str | None]:
    from .markup import sniff_markup

    return sniff_markup(head)


def _sniff_log(text: str) -> tuple[str, float]:
    from .log_grammar import sniff_log_grammar

    lines = text.splitlines()
    if len(lines) > 1 and not text.endswith("\n"):
        lines = lines[:-1]  # the sample's last line may be cut
    return sniff_log_grammar(lines[:200])


__all__ = ["CsvDialect", "Detection", "detect"]
