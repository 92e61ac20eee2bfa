"""Schema inference, type mapping and evolution."""

from .infer import CastFailure, ColumnPlan, TextTyper, infer_kind
from .types import parse_type, type_label

__all__ = ["CastFailure", "ColumnPlan", "TextTyper", "infer_kind", "parse_type", "type_label"]
