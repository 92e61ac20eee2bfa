"""Errors, error policies, the quarantine writer and row accounting."""

from .exceptions import ConflictError, DataError, LogflowError, UsageError
from .policy import ErrorPolicy
from .row_error import RowError

__all__ = ["ConflictError", "DataError", "ErrorPolicy", "LogflowError", "RowError", "UsageError"]
