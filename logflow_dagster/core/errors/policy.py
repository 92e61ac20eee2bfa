"""Error policies: what happens to a bad record."""

from __future__ import annotations

from enum import StrEnum

from .exceptions import UsageError


class Choice(StrEnum):
    """A string enum whose ``parse`` names the valid choices in its :class:`UsageError`."""

    @classmethod
    def parse(cls, value: str | Choice) -> Choice:
        """Reads a choice case-insensitively, raising :class:`UsageError` for unknown ones."""
        try:
            return cls(str(value).lower())
        except ValueError:
            choices = ", ".join(p.value for p in cls)
            what = cls.__name__.replace("Policy", " policy").lower()
            raise UsageError(f"unknown {what} {value!r}; choose one of {choices}") from None


class ErrorPolicy(Choice):
    """What to do with records that fail to decode or validate.

    - ``strict``: stop at the first bad record with a :class:`DataError` naming its line.
    - ``permissive``: skip bad records and count them.
    - ``quarantine``: skip them, count them and write each one (raw text, line, reason)
      to the quarantine file.
    """

    STRICT = "strict"
    PERMISSIVE = "permissive"
    QUARANTINE = "quarantine"
