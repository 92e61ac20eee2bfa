"""Log-line grammars: the registry's consistency, sniffing, and logfmt tokenizing."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from logflow_dagster.core.detect.log_grammar import (
    GRAMMARS,
    LOG_GRAMMARS,
    SNIFF_THRESHOLD,
    get_grammar,
    grammar_shares,
    parse_logfmt,
    sniff_log_grammar,
)

CASES = Path(__file__).parents[2] / "cases" / "log"

COMBINED = '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326'
SYSLOG5424 = "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed"
SYSLOG3164 = "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"
LOGFMT = 'ts=2024-01-01T00:00:00Z level=info msg="hello world"'
EXAMPLES = {
    "combined": COMBINED,
    "syslog5424": SYSLOG5424,
    "syslog3164": SYSLOG3164,
    "logfmt": LOGFMT,
}


def _case_lines(name: str) -> list[str]:
    return (CASES / name).read_text(encoding="utf-8").splitlines()


def test_registry_names_and_order() -> None:
    assert LOG_GRAMMARS == ("combined", "syslog5424", "syslog3164", "logfmt", "log4j", "openstack",
                            "cbs", "apache_error", "proxifier", "line")
    assert get_grammar("combined") is GRAMMARS["combined"]
    with pytest.raises(KeyError):
        get_grammar("apache2")


@pytest.mark.parametrize("name", ["combined", "syslog5424", "syslog3164"])
def test_columns_are_pattern_groups_or_derived(name: str) -> None:
    grammar = GRAMMARS[name]
    struct = pc.extract_regex(pa.array([EXAMPLES[name]]), grammar.pattern)
    groups = {f.name for f in struct.type}
    columns = set(grammar.column_kinds)
    derived = {"facility", "severity"} if grammar.derives_priority else set()
    assert columns - derived == groups
    assert grammar.nil | grammar.unescape | grammar.bom <= columns
    assert set(grammar.column_kinds.values()) <= {"string", "int", "timestamp"}


def test_each_example_matches_only_its_own_grammar() -> None:
    for name, line in EXAMPLES.items():
        shares = grammar_shares([line])
        assert shares == {g: float(g == name) for g in shares}, name


@pytest.mark.parametrize(
    ("case", "expected", "share"),
    [
        ("access_combined.log", "combined", 7 / 8),  # one garbage line, one blank skipped
        ("syslog5424.log", "syslog5424", 7 / 8),
        ("syslog3164.log", "syslog3164", 5 / 6),
        # sniffing wants every token to be key=value: the line with a bare key does not count
        ("logfmt.log", "logfmt", 3 / 5),
        ("unknown.txt", "line", 0.0),
    ],
)
def test_sniff_case_files(case: str, expected: str, share: float) -> None:
    assert sniff_log_grammar(_case_lines(case)) == (expected, pytest.approx(share))


def test_common_log_format_is_combined() -> None:
    line = '10.0.0.5 - alice [25/Nov/2024:17:36:00 -0500] "DELETE /items/42 HTTP/1.1" 204 0'
    assert sniff_log_grammar([line]) == ("combined", 1.0)


def test_threshold_and_fallback_share() -> None:
    other = "plain words, no structure"
    assert SNIFF_THRESHOLD == 0.6
    assert sniff_log_grammar([COMBINED] * 3 + [other] * 2) == ("combined", 0.6)
    assert sniff_log_grammar([COMBINED] * 2 + [other] * 3) == ("line", 0.4)
    assert sniff_log_grammar([]) == ("line", 0.0)
    assert sniff_log_grammar(["", "   ", "\r\n"]) == ("line", 0.0)


def test_blank_lines_and_crlf_are_ignored() -> None:
    lines = [SYSLOG3164 + "\r\n", "", "  ", SYSLOG3164 + "\r", "x"]
    assert sniff_log_grammar(lines) == ("syslog3164", pytest.approx(2 / 3))


def test_largest_share_wins() -> None:
    lines = [LOGFMT] * 3 + [SYSLOG5424] * 4 + [COMBINED]
    assert sniff_log_grammar(lines) == ("line", 0.5)
    assert sniff_log_grammar(lines + [SYSLOG5424] * 2) == ("syslog5424", 0.6)


def test_prose_with_an_equals_sign_is_not_logfmt() -> None:
    assert sniff_log_grammar(["the value of x=5 is too big", "set y=2 now"]) == ("line", 0.0)


def test_3164_needs_a_month_name() -> None:
    assert grammar_shares(["Foo 11 22:14:15 host tag: x"])["syslog3164"] == 0.0


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("a=1 b=two", {"a": "1", "b": "two"}),
        ('msg="hello world" n=3', {"msg": "hello world", "n": "3"}),
        (r'msg="say \"hi\"\n" path="C:\\tmp"', {"msg": 'say "hi"\n', "path": "C:\\tmp"}),
        ("a= b", {"a": None, "b": None}),
        ("url=/q?x=1&y=2", {"url": "/q?x=1&y=2"}),
        ("a=1 a=2", {"a": "2"}),
        ('  k="" ', {"k": ""}),
        ("k=v\tother=w", {"k": "v", "other": "w"}),
    ],
)
def test_parse_logfmt(line: str, expected: dict[str, str | None]) -> None:
    assert parse_logfmt(line) == expected


@pytest.mark.parametrize(
    "line", ["", "just words", 'msg="unterminated', 'a="x"b', 'k=a"b', "=v", 'a=1 "q"']
)
def test_parse_logfmt_rejects(line: str) -> None:
    assert parse_logfmt(line) is None
