"""Generic XML: one row per record element, streamed with lxml's ``iterparse``.

Which element is a record: ``DecodeOptions.record_tag`` (a local name such as ``"order"``,
matched in any namespace, or a Clark name ``"{urn:x}order"``), else the most frequent direct
child of the root in the input's head (see :func:`~..detect.markup.sniff_markup`). When the
head shows none, every direct child of the root is a record. A record nested in another
record is part of the outer one.

How a record becomes a row (all names are local names, namespaces stripped):

- each attribute of the record element is a column named as the attribute (``id``);
- the record's own text, when not blank, is a column named as the record tag (as pandas
  ``read_xml`` does);
- each child element's text is a column named as the child (``qty``); its attributes are
  ``child@attr``; grandchildren are flattened with dots (``address.city``,
  ``address.city@zip``) at any depth; a child that has children gets a column for its own
  text only when that text is not blank;
- a name that repeats within a record (a repeated child tag, or a child named like an
  attribute) is numbered from its second occurrence on: ``author``, ``author[2]``,
  ``author[3]``; nothing is dropped and every column keeps one value per row;
- text is stripped of surrounding whitespace (attribute values are kept as they are);
  values listed in ``DecodeOptions.null_values`` (by default the empty string, hence also
  empty elements) are null.

Every value is text, then typed by :class:`~..schema.infer.TextTyper` (inferred from the first
``infer_rows`` records of the first batch that has the column, ``DecodeOptions.schema``
overrides, ``type_threshold``). A record with a value that does not fit its column's type is
a :class:`RowError` (its XML text as ``raw``, the line of its start tag as ``line``).
Batches hold the columns their records have; a record without a column's value has null.

Memory stays bounded: each record element is cleared once read, and the elements before it
(and before its ancestors) are deleted from the partial tree.

Malformed XML part-way (a truncated file, a broken tag) ends decoding: the records before it
are kept and the rest of the input becomes one :class:`RowError` whose ``line`` is where the
broken record starts (else where the parser failed) and whose ``raw`` is the text from that
line to the end (at most 1 MiB, then a note). Input with no XML element at all raises
:class:`DataError`.

Limitation: lxml reports the line on which a start tag *ends*, so a record whose start tag
spans several lines is reported on the last of them.
"""

from __future__ import annotations

import io
import lzma
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa
from lxml import etree

from ..detect.markup import local_name, scan_head, sniff_markup, xml_encoding
from ..errors import DataError, RowError
from ..schema.infer import TextTyper
from ..source import Source
from .base import DecodedBatch, Decoder

#: At most this many bytes of a malformed remainder go into its RowError's ``raw``.
RAW_CAP = 1 << 20

_READ_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)


def read_head(source: Source) -> bytes:
    """The input's head (decompressed), a :class:`DataError` when it cannot be read.

    Example:
        >>> import pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = pathlib.Path(tmp, "orders.xml").write_text('<?xml version="1.0"?><orders/>')
        ...     read_head(Source.open_path(f"{tmp}/orders.xml"))[:5]
        b'<?xml'
    """
    try:
        return source.head()
    except _READ_ERRORS as err:
        raise DataError(f"cannot read the input: {err}", source=source.path) from err


def read_tail(source: Source, line: int, cap: int = RAW_CAP) -> str:
    """Returns the input's text from the start of 1-based ``line`` to the end, capped.

    The text is decoded with the document's encoding (byte-order mark or XML declaration);
    bytes that do not decode become U+FFFD. Beyond ``cap`` UTF-8 bytes the text is cut and a
    note appended.

    Example:
        >>> import pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = pathlib.Path(tmp, "broken.xml")
        ...     _ = path.write_text('<orders>\\n<row id="1"/>\\n<row id="2"><qty>4</qt\\n')
        ...     read_tail(Source.open_path(path), 3)
        '<row id="2"><qty>4</qt\\n'
    """
    encoding = xml_encoding(read_head(source))
    parts: list[str] = []
    size = 0
    current = 1
    try:
        with io.TextIOWrapper(source.open(), encoding=encoding, errors="replace",
                              newline="") as text:
            while size <= cap:
                chunk = text.read(1 << 16)
                if not chunk:
                    break
                pos = 0
                while current < line:
                    found = chunk.find("\n", pos)
                    if found < 0:
                        break
                    current += 1
                    pos = found + 1
                if current < line:
                    continue
                parts.append(chunk[pos:])
                size += len(parts[-1])
    except (*_READ_ERRORS, ValueError):
        pass  # keep what could be read: the input is broken anyway
    tail = "".join(parts)
    data = tail.encode("utf-8")
    if len(data) > cap:
        tail = data[:cap].decode("utf-8", errors="ignore")
        tail += f"\n[... cut: only the first {cap} bytes of the malformed remainder are kept]"
    return tail


def tag_matcher(record_tag: str) -> str:
    """The iterparse tag filter for a record tag: any namespace unless one is given.

    Example:
        >>> tag_matcher("order"), tag_matcher("ns:order"), tag_matcher("{urn:x}order")
        ('{*}order', '{*}order', '{urn:x}order')
    """
    if record_tag.startswith("{"):
        return record_tag
    return "{*}" + record_tag.rpartition(":")[2]


def drop_done(element: etree._Element) -> None:
    """Clears ``element`` and deletes what precedes it and its ancestors in the partial tree.

    Example:
        >>> root = etree.fromstring("<r><a/><b/><c/></r>")
        >>> drop_done(root[2]); len(root)
        1
    """
    element.clear(keep_tail=False)
    node: etree._Element | None = element
    while node is not None:
        parent = node.getparent()
        if parent is None:
            break
        while node.getprevious() is not None:
            del parent[0]
        node = parent


@dataclass
class MarkupStream:
    """Streams iterparse events of an input and remembers a syntax error instead of raising.

    Args:
        source: The input.
        tags: The iterparse tag filter (``None`` for every element).

    Attributes:
        error: The syntax error that ended the stream, if one did.

    Example:
        >>> import pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = pathlib.Path(tmp, "a.xml")
        ...     _ = path.write_text('<t>\\n<row id="1"/>\\n<row id="2">\\n</t>')
        ...     stream = MarkupStream(Source.open_path(path), "{*}row")
        ...     ends = [el.get("id") for event, el in stream.events() if event == "end"]
        >>> ends, stream.error.lineno
        (['1'], 4)
    """

    source: Source
    tags: str | tuple[str, ...] | None
    error: etree.XMLSyntaxError | None = field(default=None, init=False)

    def events(self) -> Iterator[tuple[str, etree._Element]]:
        """Yields ``("start" | "end", element)``; stops (setting ``error``) on bad XML.

        Raises:
            DataError: When the input cannot be read or decompressed.
        """
        stream = self.source.open()
        try:
            parser = etree.iterparse(
                stream,
                events=("start", "end"),
                tag=self.tags,
                no_network=True,
                load_dtd=False,
                resolve_entities="internal",
                remove_comments=True,
                remove_pis=True,
            )
            yield from parser
        except etree.XMLSyntaxError as err:
            self.error = err
        except _READ_ERRORS as err:
            raise DataError(f"cannot read the input: {err}", source=self.source.path) from err
        finally:
            stream.close()

    def remainder(self, start_line: int | None, record: int | None) -> RowError:
        """The RowError for everything from the broken record (or the error) to the end.

        Raises:
            DataError: When the input has no XML element at all (it is not XML).
        """
        err = self.error
        assert err is not None
        message = str(err.msg or err).strip()
        err_line = err.lineno if err.lineno and err.lineno > 0 else None
        if start_line is None and scan_head(read_head(self.source)).root is None:
            raise DataError(f"not XML: {message}", source=self.source.path, line=err_line)
        line = start_line or err_line or 1
        return RowError(f"malformed XML: {message}", line=line,
                        raw=read_tail(self.source, line), record=record)


@dataclass
class _Pending:
    """The records of the batch being built."""

    rows: list[dict[str, str | None]] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)
    raws: list[str] = field(default_factory=list)
    records: list[int] = field(default_factory=list)


class XmlDecoder(Decoder):
    """Decodes generic XML into batches of typed columns, one row per record element.

    See the module documentation for how records become rows.

    Example:
        >>> from logflow_dagster.core.decoders import DecodeOptions, get_decoder
        >>> from logflow_dagster.core.detect.result import Detection
        >>> import pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = pathlib.Path(tmp, "orders.xml")
        ...     _ = path.write_text('<orders><row id="1"><qty>3</qty></row><row id="2"/></orders>')
        ...     dec = get_decoder("xml")(Source.open_path(path), Detection("xml"), DecodeOptions())
        ...     [b.batch.to_pylist() for b in dec.batches()]
        [[{'id': 1, 'qty': 3}, {'id': 2, 'qty': None}]]
    """

    format = "xml"

    def batches(self) -> Iterator[DecodedBatch]:
        """Yields the records in batches of ``batch_size`` rows, with the rejected ones.

        Raises:
            DataError: When the input is not XML at all or cannot be read.
        """
        opts = self.options
        record_tag = opts.record_tag or sniff_markup(read_head(self.source))[2]
        self.info["record_tag"] = record_tag
        typer = TextTyper(opts.schema, threshold=opts.type_threshold)
        stream = MarkupStream(self.source, tag_matcher(record_tag) if record_tag else None)
        flatten = _Flattener(frozenset(opts.null_values))
        pending = _Pending()
        current: etree._Element | None = None
        count = 0
        for event, element in stream.events():
            if event == "start":
                if current is None and (record_tag or _is_root_child(element)):
                    current = element
                continue
            if element is not current:
                if current is None and not record_tag:
                    drop_done(element)  # the root, or text of it outside any record
                continue
            current = None
            count += 1
            pending.rows.append(flatten.row(element))
            pending.lines.append(element.sourceline)
            pending.raws.append(etree.tostring(element, encoding="unicode", with_tail=False))
            pending.records.append(count)
            drop_done(element)
            if len(pending.rows) >= opts.batch_size:
                yield self._flush(pending, typer)
                pending = _Pending()
        if stream.error is None:
            if pending.rows:
                yield self._flush(pending, typer)
            return
        start = current.sourceline if current is not None else None
        broken = stream.remainder(start, count + 1 if current is not None else None)
        out = self._flush(pending, typer) if pending.rows else DecodedBatch(None)
        out.errors.append(broken)
        yield out

    def _flush(self, pending: _Pending, typer: TextTyper) -> DecodedBatch:
        names: dict[str, None] = {}
        for row in pending.rows:
            names.update(dict.fromkeys(row))
        if not names:  # records without any value: rows of nulls of the columns known so far
            names = dict.fromkeys(typer.plans)
            if not names:  # none yet: nothing to write them to, and never dropped
                return DecodedBatch(None, [
                    RowError("XML record without values: no column to write it to yet",
                             line=line, raw=raw, record=record)
                    for line, raw, record in zip(pending.lines, pending.raws, pending.records,
                                                 strict=True)])
        arrays = [pa.array([row.get(name) for row in pending.rows], type=pa.string())
                  for name in names]
        batch = pa.RecordBatch.from_arrays(arrays, names=list(names))
        typer.infer(batch.slice(0, self.options.infer_rows))
        typed, failures = typer.apply(batch)
        errors: dict[int, RowError] = {}
        for failure in failures:
            for row, value in zip(failure.rows.tolist(), failure.values, strict=True):
                if row in errors:
                    continue
                errors[row] = RowError(
                    f"expected {failure.expected} in column {failure.column!r}",
                    line=pending.lines[row],
                    raw=pending.raws[row],
                    column=failure.column,
                    value=value,
                    record=pending.records[row],
                )
        return DecodedBatch(typed, [errors[row] for row in sorted(errors)])


def _is_root_child(element: etree._Element) -> bool:
    parent = element.getparent()
    return parent is not None and parent.getparent() is None


class _Flattener:
    """Turns record elements into ``{column: text}`` (see the module documentation)."""

    def __init__(self, nulls: frozenset[str]) -> None:
        self.nulls = nulls
        self.names: dict[str, str] = {}  # tag or attribute name -> local name

    def local(self, tag: str) -> str:
        name = self.names.get(tag)
        if name is None:
            name = self.names[tag] = local_name(tag)
        return name

    def row(self, record: etree._Element) -> dict[str, str | None]:
        row: dict[str, str | None] = {}
        self._walk(record, "", row, self.local(record.tag))
        return row

    def _put(self, row: dict[str, str | None], name: str, value: str) -> None:
        key, n = name, 1
        while key in row:
            n += 1
            key = f"{name}[{n}]"
        row[key] = None if value in self.nulls else value

    def _walk(self, element: etree._Element, prefix: str, row: dict[str, str | None],
              record_name: str) -> None:
        for key, value in element.items():
            name = self.local(key)
            self._put(row, f"{prefix}@{name}" if prefix else name, value)
        text = element.text or ""
        has_children = False
        seen: dict[str, int] = {}
        for child in element:
            tag = child.tag
            if type(tag) is not str:  # an entity reference left unresolved
                continue
            has_children = True
            if child.tail:
                text += child.tail
            name = self.local(tag)
            n = seen[name] = seen.get(name, 0) + 1
            segment = name if n == 1 else f"{name}[{n}]"
            path = f"{prefix}.{segment}" if prefix else segment
            if len(child) or len(child.attrib):
                self._walk(child, path, row, record_name)
            else:  # a plain leaf, the common case
                self._put(row, path, (child.text or "").strip())
        text = text.strip()
        if text or (prefix and not has_children):
            self._put(row, prefix or record_name, text)


__all__ = ["RAW_CAP", "MarkupStream", "XmlDecoder", "drop_done", "read_head", "read_tail",
           "tag_matcher"]
