"""Errors, error policies, the quarantine writer and row accounting."""

from .exceptions import (
    AuthError,
    ConflictError,
    DataError,
    Forbidden,
    LogflowError,
    Unauthenticated,
    UsageError,
)
from .policy import ErrorPolicy
from .row_error import RowError

__all__ = ["AuthError", "ConflictError", "DataError", "ErrorPolicy", "Forbidden", "LogflowError",
           "RowError", "Unauthenticated", "UsageError"]
