"""Error policies: what happens to a bad record."""

from __future__ import annotations

from enum import StrEnum

from .exceptions import UsageError


class ErrorPolicy(StrEnum):
    """What to do with records that fail to decode or validate.

    - ``strict``: stop at the first bad record with a :class:`DataError` naming its line.
    - ``permissive``: skip bad records and count them.
    - ``quarantine``: skip them, count them and write each one (raw text, line, reason)
      to the quarantine file.
    """

    STRICT = "strict"
    PERMISSIVE = "permissive"
    QUARANTINE = "quarantine"

    @classmethod
    def parse(cls, value: str | ErrorPolicy) -> ErrorPolicy:
        """Reads a policy name, raising :class:`UsageError` for unknown ones."""
        try:
            return cls(str(value).lower())
        except ValueError:
            choices = ", ".join(p.value for p in cls)
            raise UsageError(f"unknown error policy {value!r}; choose one of {choices}") from None
