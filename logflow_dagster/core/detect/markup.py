"""Sniffing XML inputs: XES event log or generic XML, and which element holds one record.

Only the head of the input is looked at (usually the first 64 KiB), so the document is
normally cut in the middle of an element. The head is fed to lxml's incremental parser,
which reports the elements it has seen before the cut (or before any syntax error); nothing
here raises on garbage.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from dataclasses import dataclass, field

from lxml import etree

#: The XES namespace (IEEE 1849); XES files may also use no namespace at all.
XES_NAMESPACE = "http://www.xes-standard.org/"

_DECL_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_DECL_ENCODING_ATTR = re.compile(rb"""(?<=<\?xml)([^>]*?)\s+encoding\s*=\s*["'][^"']*["']""")

_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def local_name(tag: str) -> str:
    """Returns an element or attribute name without its ``{namespace}`` part.

    Example:
        >>> local_name("{http://www.xes-standard.org/}trace")
        'trace'
    """
    return tag.rpartition("}")[2] if tag.startswith("{") else tag


@dataclass
class HeadScan:
    """What the head of an XML document shows.

    Attributes:
        root: Local name of the root element, or ``None`` when no element was seen.
        namespace: Namespace URI of the root element (``""`` for none).
        root_attributes: The root element's attributes, by local name.
        children: Local names of the root's direct children, counted.
        error: The parser's message when the head is not well-formed before the cut.
    """

    root: str | None = None
    namespace: str = ""
    root_attributes: dict[str, str] = field(default_factory=dict)
    children: Counter[str] = field(default_factory=Counter)
    error: str | None = None


def scan_head(head: bytes) -> HeadScan:
    """Parses as much of ``head`` as is well-formed and reports the root and its children.

    Example:
        >>> scan = scan_head(b"<rows><row a='1'/><row a='2'/><meta/><ro")
        >>> scan.root, scan.children.most_common(1)
        ('rows', [('row', 2)])
    """
    scan = _scan(head)
    if scan.root is None and _DECL_ENCODING.match(head):
        # text already transcoded to UTF-8 may still declare its original encoding (UTF-16):
        # read it again as the UTF-8 it is
        retry = _scan(_DECL_ENCODING_ATTR.sub(rb"\1", head, count=1))
        if retry.root is not None:
            return retry
    return scan


def _scan(head: bytes) -> HeadScan:
    scan = HeadScan()
    parser = etree.XMLPullParser(
        events=("start", "end"),
        no_network=True,
        load_dtd=False,
        resolve_entities=False,
        remove_comments=True,
        remove_pis=True,
    )
    depth = 0
    try:
        parser.feed(head)
    except (etree.LxmlError, ValueError, UnicodeError) as err:
        scan.error = str(err)
    try:
        for event, element in parser.read_events():
            if event == "end":
                depth -= 1
                continue
            depth += 1
            tag = element.tag
            if not isinstance(tag, str):
                continue
            if depth == 1 and scan.root is None:
                scan.root = local_name(tag)
                scan.namespace = tag[1:].partition("}")[0] if tag.startswith("{") else ""
                scan.root_attributes = {local_name(k): v for k, v in element.attrib.items()}
            elif depth == 2:
                scan.children[local_name(tag)] += 1
    except (etree.LxmlError, ValueError, UnicodeError) as err:  # pragma: no cover - defensive
        scan.error = scan.error or str(err)
    return scan


#: Elements only XES puts under ``<log>`` (the attribute elements are XES's too, but generic
#: XML may use such names: they count only beside these).
XES_STRUCTURE = frozenset({"trace", "event", "extension", "global", "classifier"})
XES_CHILDREN = XES_STRUCTURE | {"string", "date", "int", "float", "boolean", "id", "list",
                                "container"}


def xes_share(scan: HeadScan) -> float:
    """How much a scanned head looks like XES: 1.0 with the XES markers (``xes.version``, the
    namespace), else the share of the root's children that are XES elements when there is at
    least one structural one (``trace``, ``event``, ``extension``, ``global``, ``classifier``);
    0.0 for a root other than ``log``.

    Example:
        >>> xes_share(scan_head(b"<log><extension/><string key='a' value='1'/><trace>"))
        1.0
        >>> xes_share(scan_head(b"<log><entry/><entry/><trace/></log>"))
        0.3333333333333333
    """
    if scan.root != "log":
        return 0.0
    if "xes.version" in scan.root_attributes or scan.namespace == XES_NAMESPACE:
        return 1.0
    if not scan.children.keys() & XES_STRUCTURE:
        return 0.0
    known = sum(n for tag, n in scan.children.items() if tag in XES_CHILDREN)
    return known / sum(scan.children.values())


def is_xes(scan: HeadScan) -> bool:
    """True when a scanned head looks like an XES event log (root ``log``).

    Example:
        >>> is_xes(scan_head(b'<log xes.version="1.0"><trace>'))
        True
    """
    return xes_share(scan) >= 0.5


def sniff_markup(head: bytes) -> tuple[str, float, str | None]:
    """Tells XES from generic XML and guesses the record element.

    Returns:
        ``(format, confidence, record_tag)``: ``format`` is ``"xes"`` or ``"xml"``; XES is
        told by its markers or, without them, by the elements under ``<log>`` (see
        :func:`xes_share`; the confidence is that share when some children are not XES);
        ``record_tag`` is the local name of the most frequent direct child of the root
        (``"event"`` is not guessed for XES, whose decoder knows its structure: ``None``),
        or ``None`` when the head shows no child element. Garbage gives
        ``("xml", 0.05, None)``.

    Example:
        >>> sniff_markup(b'<?xml version="1.0"?><orders><order id="1"/><order id="2"/>')
        ('xml', 0.9, 'order')
        >>> sniff_markup(b'<log xmlns="http://www.xes-standard.org/" xes.version="1.0">')[:2]
        ('xes', 0.99)
    """
    scan = scan_head(head)
    if scan.root is None:
        return "xml", 0.05, None
    share = xes_share(scan)
    if share >= 0.5:
        if "xes.version" in scan.root_attributes:
            return "xes", 0.99, None
        return "xes", 0.9 if share >= 0.9 else round(share, 2), None
    if not scan.children:
        return "xml", 0.6, None
    tag, count = scan.children.most_common(1)[0]
    confidence = 0.9 if count >= 2 else 0.7
    if scan.root == "html":  # an HTML page, not a data file
        confidence = 0.3
    return "xml", confidence, tag


def xml_encoding(head: bytes) -> str:
    """The Python codec of an XML document: byte-order mark, then declaration, then UTF-8.

    Example:
        >>> xml_encoding(b'<?xml version="1.0" encoding="ISO-8859-1"?><a/>')
        'iso8859-1'
    """
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec
    if head.startswith(b"<\x00?\x00"):
        return "utf-16-le"
    if head.startswith(b"\x00<\x00?"):
        return "utf-16-be"
    match = _DECL_ENCODING.match(head)
    if match is not None:
        try:
            return codecs.lookup(match.group(1).decode("ascii")).name
        except LookupError:
            pass
    return "utf-8"


__all__ = [
    "XES_CHILDREN",
    "XES_NAMESPACE",
    "XES_STRUCTURE",
    "HeadScan",
    "is_xes",
    "local_name",
    "scan_head",
    "sniff_markup",
    "xes_share",
    "xml_encoding",
]
