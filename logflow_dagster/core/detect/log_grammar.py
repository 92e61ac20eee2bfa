"""Log-line grammars as data, and sniffing which one a sample of lines follows.

Each grammar is an anchored RE2 pattern (the engine of :func:`pyarrow.compute.extract_regex`)
whose named groups become the columns, plus the type of each column and how its timestamp is
written. The log decoder applies the pattern to whole Arrow arrays of lines at once, so adding a
grammar means adding an entry to :data:`GRAMMARS`, not writing a parser.

Grammars:

- ``combined``: Apache/Nginx combined log format; the common log format (without referer and
  user agent) matches too, and trailing extra fields after the user agent are tolerated.
- ``syslog5424``: RFC 5424 syslog lines (``<pri>version timestamp host app procid msgid sd msg``).
- ``syslog3164``: BSD syslog, RFC 3164 (``<pri>Mmm dd hh:mm:ss host tag[pid]: msg``, the
  ``<pri>`` optional, as in files written by syslog daemons).
- ``logfmt``: ``key=value`` pairs, values optionally double-quoted (with backslash escapes).
- ``log4j``: Java application logs (Hadoop, Spark, Kafka ...):
  ``2015-10-18 18:01:47,978 INFO [main] org.apache.Foo: message`` (the ``[thread]`` optional).
- ``openstack``: ``[file.log ]2017-05-16 00:00:00.008 25746 INFO nova.compute [req-...] message``.
- ``cbs``: Windows CBS/CSI logs: ``2016-09-28 04:30:30, Info   CBS    message``.
- ``apache_error``: Apache error logs, 2.2 and 2.4:
  ``[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] message``.
- ``proxifier``: ``[10.30 16:49:06] chrome.exe - host:443 message`` (no year: as RFC 3164).
- ``line``: the fallback for any other text: one ``line`` column.

The application-log grammars (``multiline``) keep lines that do not match them, such as stack
traces, with the record before them: such a line continues that record's ``message`` (after a
``\n``) instead of being a bad record. Their timestamps name no zone and are read as
``timestamp[us]`` without one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

#: Minimum share of sampled non-blank lines a grammar must match to be chosen.
SNIFF_THRESHOLD = 0.6

#: Lines the decoder samples when the detection did not name a grammar.
SNIFF_LINES = 200

_QUOTED = r'"(?:[^"\\]|\\.)*"'
_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"


@dataclass(frozen=True, slots=True)
class LogGrammar:
    """One log-line grammar.

    Attributes:
        name: Registry key (``combined`` ...), also stored in ``Detection.log_grammar``.
        pattern: Anchored RE2 pattern; its named groups are the extracted fields. A group
            that does not take part in a match yields an empty string, read as null.
        columns: Output columns in order, each with its kind: ``string``, ``int`` or
            ``timestamp`` (``timestamp[us, tz=UTC]``). Columns that are not groups of
            ``pattern`` are derived (``facility`` and ``severity`` from ``pri``).
        timestamp_format: How the timestamp column is written: a ``strptime`` format, or
            ``iso8601``. ``None`` for grammars without a fixed timestamp. A format without a
            year (RFC 3164) gets the decoder's year prefixed.
        nil: Columns in which ``-`` stands for "no value" (read as null).
        unescape: Columns whose ``\\"`` and ``\\\\`` escapes are undone.
        bom: Columns whose leading U+FEFF is dropped (RFC 5424 marks UTF-8 messages so).
        day_pattern: RE2 pattern whose group ``day`` finds the day of month in the timestamp
            text as given to ``strptime``; Arrow's ``strptime`` rolls 31 Feb over to March, so
            the decoder rejects values whose parsed day differs from the written one.
        sniff_pattern: A stricter pattern used only for sniffing (defaults to ``pattern``).
        multiline: Lines that do not match continue the record before them (its ``message``).

    Example:
        >>> GRAMMARS["combined"].column_kinds["status"]
        'int'
    """

    name: str
    pattern: str
    columns: tuple[tuple[str, str], ...]
    timestamp_format: str | None = None
    nil: frozenset[str] = frozenset()
    unescape: frozenset[str] = frozenset()
    bom: frozenset[str] = frozenset()
    day_pattern: str | None = None
    sniff_pattern: str | None = None
    multiline: bool = False

    @property
    def column_kinds(self) -> dict[str, str]:
        """Column name -> kind, in output order."""
        return dict(self.columns)

    @property
    def derives_priority(self) -> bool:
        """True when ``facility`` and ``severity`` are derived from ``pri``."""
        return "facility" in self.column_kinds


COMBINED = LogGrammar(
    name="combined",
    pattern=(
        r"^(?P<host>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]*)\] "
        r'"(?:(?P<method>[A-Za-z]+) (?P<path>(?:[^"\\ ]|\\.)+)(?: (?P<protocol>[^"\\ ]+))?'
        r'|(?:[^"\\]|\\.)*)" '
        r"(?P<status>\d{3}) (?P<bytes>\S+)"
        r'(?: "(?P<referer>(?:[^"\\]|\\.)*)" "(?P<user_agent>(?:[^"\\]|\\.)*)")?'
        r"(?: .*)?$"
    ),
    columns=(
        ("host", "string"),
        ("ident", "string"),
        ("user", "string"),
        ("time", "timestamp"),
        ("method", "string"),
        ("path", "string"),
        ("protocol", "string"),
        ("status", "int"),
        ("bytes", "int"),
        ("referer", "string"),
        ("user_agent", "string"),
    ),
    timestamp_format="%d/%b/%Y:%H:%M:%S %z",
    day_pattern=r"^(?P<day>\d{1,2})/",
    nil=frozenset({"ident", "user", "bytes", "referer", "user_agent"}),
    unescape=frozenset({"path", "referer", "user_agent"}),
)

SYSLOG5424 = LogGrammar(
    name="syslog5424",
    pattern=(
        r"^<(?P<pri>\d{1,3})>(?P<version>\d{1,3}) (?P<timestamp>\S+) (?P<hostname>\S+) "
        r"(?P<app_name>\S+) (?P<procid>\S+) (?P<msgid>\S+) "
        r'(?P<structured_data>-|(?:\[(?:[^\]"\\]|\\.|' + _QUOTED + r")*\])+)"
        r"(?: (?P<message>.*))?$"
    ),
    columns=(
        ("pri", "int"),
        ("facility", "int"),
        ("severity", "int"),
        ("version", "int"),
        ("timestamp", "timestamp"),
        ("hostname", "string"),
        ("app_name", "string"),
        ("procid", "string"),
        ("msgid", "string"),
        ("structured_data", "string"),
        ("message", "string"),
    ),
    timestamp_format="iso8601",
    bom=frozenset({"message"}),
    nil=frozenset({"timestamp", "hostname", "app_name", "procid", "msgid", "structured_data"}),
)

SYSLOG3164 = LogGrammar(
    name="syslog3164",
    pattern=(
        r"^(?:<(?P<pri>\d{1,3})>)?"
        r"(?P<timestamp>(?:" + _MONTHS + r") [ \d]\d \d{2}:\d{2}:\d{2}) (?P<hostname>\S+)"
        r"(?: (?:(?P<tag>[^:\[\s]+)(?:\[(?P<pid>\d+)\])?: ?)?(?P<message>.*))?$"
    ),
    columns=(
        ("pri", "int"),
        ("facility", "int"),
        ("severity", "int"),
        ("timestamp", "timestamp"),
        ("hostname", "string"),
        ("tag", "string"),
        ("pid", "int"),
        ("message", "string"),
    ),
    # No year in the line: the decoder prefixes one (see LogDecoder).
    timestamp_format="%b %d %H:%M:%S",
    day_pattern=r"^[A-Za-z]{3} +(?P<day>\d{1,2}) ",
)

_LOGFMT_PAIR = r"[A-Za-z_][\w.\-/@]*=(?:" + _QUOTED + r'|[^\s"]*)'

LOGFMT = LogGrammar(
    name="logfmt",
    # Decoding tokenizes each line in Python (keys vary per line); this pattern only sniffs:
    # every token must be a key=value pair.
    pattern=r"^\s*" + _LOGFMT_PAIR + r"(?:\s+" + _LOGFMT_PAIR + r")*\s*$",
    columns=(),
)

_LEVELS = (r"TRACE|DEBUG|FINE|FINER|FINEST|CONFIG|INFO|NOTICE|WARN|WARNING|ERROR|SEVERE|FATAL"
           r"|CRITICAL")
_ISO_LOCAL = r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[,.]\d{1,6})?"
_DAY_ISO = r"^\d{4}-\d{2}-(?P<day>\d{2})"

LOG4J = LogGrammar(
    name="log4j",
    pattern=(
        r"^(?P<timestamp>" + _ISO_LOCAL + r") +(?P<level>" + _LEVELS + r") +"
        r"(?:\[(?P<thread>[^\]]*)\] +)?(?P<component>[^\s\[\]]+?):? (?:- )?(?P<message>.*)$"
    ),
    columns=(
        ("timestamp", "local_timestamp"),
        ("level", "string"),
        ("thread", "string"),
        ("component", "string"),
        ("message", "string"),
    ),
    timestamp_format="%Y-%m-%d %H:%M:%S",
    day_pattern=_DAY_ISO,
    multiline=True,
)

OPENSTACK = LogGrammar(
    name="openstack",
    pattern=(
        r"^(?:(?P<logfile>\S+\.log\S*) )?(?P<timestamp>" + _ISO_LOCAL + r") (?P<pid>\d+) "
        r"(?P<level>" + _LEVELS + r") (?P<component>\S+) (?:\[(?P<request>[^\]]*)\] )?"
        r"(?P<message>.*)$"
    ),
    columns=(
        ("logfile", "string"),
        ("timestamp", "local_timestamp"),
        ("pid", "int"),
        ("level", "string"),
        ("component", "string"),
        ("request", "string"),
        ("message", "string"),
    ),
    timestamp_format="%Y-%m-%d %H:%M:%S",
    day_pattern=_DAY_ISO,
    multiline=True,
)

CBS = LogGrammar(
    name="cbs",
    pattern=(
        r"^(?P<timestamp>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}), (?P<level>[A-Za-z]+) +"
        r"(?P<component>\S+) +(?P<message>.*)$"
    ),
    columns=(
        ("timestamp", "local_timestamp"),
        ("level", "string"),
        ("component", "string"),
        ("message", "string"),
    ),
    timestamp_format="%Y-%m-%d %H:%M:%S",
    day_pattern=_DAY_ISO,
    multiline=True,
)

APACHE_ERROR = LogGrammar(
    name="apache_error",
    pattern=(
        r"^\[(?P<time>(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:" + _MONTHS + r") [ \d]\d "
        r"\d{2}:\d{2}:\d{2}(?:\.\d{1,6})? \d{4})\] "
        r"\[(?:(?P<module>[^\]:\s]+):)?(?P<level>[a-z]+\d?)\]"
        r"(?: \[pid (?P<pid>\d+)(?::tid (?P<tid>\d+))?\])?"
        r"(?: \[client (?P<client>[^\]]+)\])? (?P<message>.*)$"
    ),
    columns=(
        ("time", "local_timestamp"),
        ("module", "string"),
        ("level", "string"),
        ("pid", "int"),
        ("tid", "int"),
        ("client", "string"),
        ("message", "string"),
    ),
    timestamp_format="%a %b %d %H:%M:%S %Y",
    day_pattern=r"^[A-Za-z]{3} [A-Za-z]{3} +(?P<day>\d{1,2}) ",
    multiline=True,
)

PROXIFIER = LogGrammar(
    name="proxifier",
    pattern=(
        r"^\[(?P<time>\d{2}\.\d{2} \d{2}:\d{2}:\d{2})\] (?P<program>.+?) - "
        r"(?P<target>\S+) (?P<message>.*)$"
    ),
    columns=(
        ("time", "local_timestamp"),
        ("program", "string"),
        ("target", "string"),
        ("message", "string"),
    ),
    # No year in the line: the decoder prefixes one (as for RFC 3164).
    timestamp_format="%m.%d %H:%M:%S",
    day_pattern=r"^\d{2}\.(?P<day>\d{2})",
    multiline=True,
)

LINE = LogGrammar(name="line", pattern=r"^.*$", columns=(("line", "string"),))

#: The grammars by name, in sniffing priority order (ties go to the earlier one).
GRAMMARS: dict[str, LogGrammar] = {
    g.name: g
    for g in (COMBINED, SYSLOG5424, SYSLOG3164, LOGFMT, LOG4J, OPENSTACK, CBS, APACHE_ERROR,
              PROXIFIER, LINE)
}

#: Lines that look like the continuation of a multi-line record (indented, stack traces): they
#: do not count against a multiline grammar when sniffing.
CONTINUATION = (
    r"^(?:\s|Caused by:|Traceback |\.\.\. \d+ more|[\w.$]*(?:Exception|Error|Throwable)\b)"
)

#: Names accepted in ``Detection.log_grammar``.
LOG_GRAMMARS: tuple[str, ...] = tuple(GRAMMARS)


def get_grammar(name: str) -> LogGrammar:
    """Returns the grammar registered under ``name``.

    Raises:
        KeyError: For an unknown name (the decoder turns it into a ``UsageError``).

    Example:
        >>> get_grammar("syslog5424").timestamp_format
        'iso8601'
    """
    return GRAMMARS[name]


def grammar_shares(lines: list[str]) -> dict[str, float]:
    """Share of the non-blank ``lines`` each structured grammar matches.

    Example:
        >>> grammar_shares(["a=1 b=2", "x=3"])["logfmt"]
        1.0
    """
    sample = [ln.rstrip("\r\n") for ln in lines]
    sample = [ln for ln in sample if ln.strip()]
    shares = {name: 0.0 for name in GRAMMARS if name != "line"}
    if not sample:
        return shares
    arr = pa.array(sample, pa.string())
    continued = pc.match_substring_regex(arr, CONTINUATION)
    records = len(sample) - (pc.sum(continued).as_py() or 0)
    for name in shares:
        grammar = GRAMMARS[name]
        matched = pc.match_substring_regex(arr, grammar.sniff_pattern or grammar.pattern)
        hits = pc.sum(matched).as_py() or 0
        if grammar.multiline and records:  # continuation lines belong to the records
            starts = pc.sum(pc.and_(matched, pc.invert(continued))).as_py() or 0
            shares[name] = starts / records
        else:
            shares[name] = hits / len(sample)
    return shares


def sniff_log_grammar(lines: list[str]) -> tuple[str, float]:
    """Picks the grammar that matches the largest share of the non-blank sample lines.

    Args:
        lines: Sample lines (trailing ``\\r``/``\\n`` are ignored; blank lines are skipped).

    Returns:
        ``(grammar, share)``: the best grammar and the share of lines it matches when that
        share is at least :data:`SNIFF_THRESHOLD`, else ``("line", share)`` with the best
        grammar's share (``0.0`` for a sample without non-blank lines).

    Example:
        >>> sniff_log_grammar(['127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 5'])
        ('combined', 1.0)
        >>> sniff_log_grammar(["hello world"])
        ('line', 0.0)
    """
    shares = grammar_shares(lines)
    best = max(shares, key=lambda name: shares[name])  # first of the ties, in GRAMMARS order
    share = shares[best]
    if share >= SNIFF_THRESHOLD:
        return best, share
    return "line", share


_LOGFMT_TOKEN = re.compile(r'\s*([^\s="]+)(?:=(?:"((?:[^"\\]|\\.)*)"|([^\s"]*)))?(?=\s|$)')
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def parse_logfmt(line: str) -> dict[str, str | None] | None:
    """Reads one logfmt line; ``None`` when it is not logfmt (or has no ``key=value`` pair).

    A bare ``key`` and an empty ``key=`` give null; the last of repeated keys wins.

    Example:
        >>> parse_logfmt('level=info msg="disk \\\\"sda\\\\" full" retry')
        {'level': 'info', 'msg': 'disk "sda" full', 'retry': None}
    """
    out: dict[str, str | None] = {}
    pairs = 0
    pos, end = 0, len(line.rstrip())
    while pos < end:
        m = _LOGFMT_TOKEN.match(line, pos)
        if m is None:
            return None
        key, quoted, bare = m.groups()
        if quoted is not None:
            out[key] = re.sub(r"\\(.)", lambda e: _ESCAPES.get(e[1], e[1]), quoted)
        else:
            out[key] = bare or None
        pairs += quoted is not None or bare is not None
        pos = m.end()
    return out if pairs else None
