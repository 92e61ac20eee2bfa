"""What detection found about an input."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CsvDialect:
    """A delimited-text dialect.

    Attributes:
        delimiter: Field separator (``,`` ``;`` TAB ``|`` ...).
        quotechar: Quote character (``"`` unless detected otherwise); quotes are special only
            at the start of a field, and doubled inside a quoted field.
        header: True when the first record holds column names.
        decimal: ``.`` or ``,`` (decimal comma, common with ``;`` delimiters).
        preamble: Physical lines before the first record (title or comment lines, Excel's
            ``sep=;`` hint), skipped and reported in the detection notes.
        second_table: Line of the sample where another table seems to start (after a blank
            line, with another delimiter or field count), 0 when none.
    """

    delimiter: str = ","
    quotechar: str = '"'
    header: bool = True
    decimal: str = "."
    preamble: int = 0
    second_table: int = 0


@dataclass
class Detection:
    """The result of sniffing an input.

    Attributes:
        format: One of the registered formats (``csv``, ``jsonl``, ``xes`` ...).
        confidence: 0..1, how sure detection is of ``format``.
        compression: Stream compression, or ``None``.
        encoding: Python codec name for text formats, ``None`` for binary ones.
        bom: Bytes of byte-order mark to skip.
        dialect: For delimited text.
        log_grammar: For log lines: ``combined``, ``syslog5424``, ``syslog3164``, ``logfmt``
            or ``line``.
        notes: Human-readable remarks on how the decision was made.
    """

    format: str
    confidence: float = 1.0
    compression: str | None = None
    encoding: str | None = None
    bom: int = 0
    dialect: CsvDialect | None = None
    log_grammar: str | None = None
    notes: list[str] = field(default_factory=list)
