"""Exception types shared by the engine, the CLI and the Dagster layer."""

from __future__ import annotations


class LogflowError(Exception):
    """Base class of every error logflow raises on purpose.

    ``exit_code`` is what the CLI exits with when this error reaches it.

    Example:
        >>> try:
        ...     raise UsageError("unknown format 'foo'")
        ... except LogflowError as err:
        ...     err.exit_code
        2
    """

    exit_code: int = 1


class UsageError(LogflowError):
    """The caller asked for something impossible: a missing file, an unknown option value."""

    exit_code = 2


class ConflictError(LogflowError):
    """A temporary failure that is nobody's bad data: e.g. concurrent writers kept winning
    every commit attempt. Retrying later is the remedy; the CLI exits 75 (``EX_TEMPFAIL``).

    Example:
        >>> ConflictError("could not commit").exit_code
        75
    """

    exit_code = 75


class AuthError(LogflowError):
    """A refused caller. ``status`` is the HTTP status an API answers with; the CLI exits 77
    (``EX_NOPERM``). Raised by the auth layer and by the semantic layer's access policies."""

    status = 401
    exit_code = 77


class Unauthenticated(AuthError):
    """No valid credential (HTTP 401)."""

    status = 401


class Forbidden(AuthError):
    """A known caller that may not do this (HTTP 403).

    Example:
        >>> (Forbidden("no").status, Forbidden("no").exit_code)
        (403, 77)
    """

    status = 403


class DataError(LogflowError):
    """Bad input data: names the file, the physical line, the column and the value.

    Args:
        reason: What is wrong, in words.
        source: The input file or URI.
        line: 1-based physical line where the bad record starts, when known.
        column: The column whose value is bad, when one is.
        value: The offending value (truncated for display).
        record: 1-based record number (rows in binary formats), when no line applies.
    """

    exit_code = 1

    def __init__(
        self,
        reason: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: str | None = None,
        value: str | None = None,
        record: int | None = None,
    ) -> None:
        self.reason = reason
        self.source = source
        self.line = line
        self.column = column
        self.value = value
        self.record = record
        super().__init__(self._message())

    def _message(self) -> str:
        where = self.source or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        elif self.record is not None:
            where += f": record {self.record}"
        msg = f"{where}: {self.reason}"
        if self.column is not None:
            msg += f" (column {self.column!r}"
            if self.value is not None:
                msg += f", value {_clip(self.value)!r}"
            msg += ")"
        elif self.value is not None:
            msg += f" (value {_clip(self.value)!r})"
        return msg


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
