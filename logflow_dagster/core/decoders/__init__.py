"""One decoder per format; each yields Arrow record batches plus rejected records.

The registry maps a format name to the module that holds its decoder, so that importing this
package stays cheap and a format's heavy dependencies load only when it is used.
"""

from __future__ import annotations

from importlib import import_module

from ..errors import UsageError
from ..formats import DECODERS, FORMATS
from .base import DecodedBatch, DecodeOptions, Decoder

_REGISTRY = DECODERS


def get_decoder(fmt: str) -> type[Decoder]:
    """Returns the decoder class for a format name.

    Raises:
        UsageError: For an unknown format.

    Example:
        >>> get_decoder("jsonl").__name__
        'JsonLinesDecoder'
    """
    try:
        module, cls = _REGISTRY[fmt]
    except KeyError:
        choices = ", ".join(FORMATS)
        raise UsageError(f"unknown format {fmt!r}; choose one of auto, {choices}") from None
    return getattr(import_module(f"{__name__}.{module}"), cls)


__all__ = ["FORMATS", "DecodeOptions", "DecodedBatch", "Decoder", "get_decoder"]
