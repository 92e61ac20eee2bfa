"""Text encoding detection (BOM, UTF-8, UTF-16, legacy fallback) and streaming transcoding."""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_BOMS: list[tuple[bytes, str]] = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: same first two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]


@dataclass(frozen=True)
class EncodingGuess:
    """The detected encoding of a text input.

    Attributes:
        encoding: A Python codec name (``utf-8``, ``utf-16-le``, ``cp1252`` ...).
        bom: Number of BOM bytes to skip at the start of the stream.
        confidence: 0..1; 1.0 for a BOM or a clean UTF-8 decode.
    """

    encoding: str
    bom: int = 0
    confidence: float = 1.0

    @property
    def is_utf8(self) -> bool:
        """True when the bytes can be used as they are (after skipping the BOM)."""
        return self.encoding in ("utf-8", "ascii")


def detect_encoding(head: bytes, *, complete: bool = False) -> EncodingGuess:
    """Guesses the encoding of ``head`` (the first bytes of a text file).

    Args:
        head: The first bytes of the (decompressed) input.
        complete: True when ``head`` is the whole input (a multibyte character cut at
            the end then is an error, not a truncation).

    Example:
        >>> detect_encoding("név;ár\\n".encode("utf-16-le")).encoding
        'utf-16-le'
        >>> detect_encoding("café au lait, crème brûlée\\n".encode("cp1252")).encoding
        'cp1252'
    """
    for bom, name in _BOMS:
        if head.startswith(bom):
            return EncodingGuess(name, len(bom))
    utf16 = _utf16_without_bom(head)
    if utf16:
        return EncodingGuess(utf16, 0, 0.9)
    try:
        head.decode("utf-8")
        return EncodingGuess("utf-8")
    except UnicodeDecodeError as err:
        if not complete and err.start >= len(head) - 3 and err.reason.startswith("unexpected end"):
            return EncodingGuess("utf-8")  # a character cut by the sample's end
    return _legacy_guess(head)


def _utf16_without_bom(head: bytes) -> str | None:
    sample = head[:4096]
    if len(sample) < 4:
        return None
    even_zero = sample[0::2].count(0) / (len(sample) / 2)
    odd_zero = sample[1::2].count(0) / (len(sample) / 2)
    if odd_zero > 0.3 and even_zero < 0.05:
        return "utf-16-le"
    if even_zero > 0.3 and odd_zero < 0.05:
        return "utf-16-be"
    return None


def _legacy_guess(head: bytes) -> EncodingGuess:
    from charset_normalizer import from_bytes

    matches = list(from_bytes(head[:65536]))
    if matches:
        best = min(matches, key=lambda m: m.chaos)
        # Single-byte code pages often tie on western text; prefer the common one (cp1252)
        # whenever it reads the bytes as well as the best guess does.
        for match in matches:
            if match.encoding == "cp1252" and match.chaos <= best.chaos + 0.05:
                best = match
                break
        name = codecs.lookup(best.encoding).name
        # Multi-byte guesses without the zero-byte evidence checked above are noise.
        if name.startswith("utf") or name in ("latin-1", "iso8859-1", "iso8859-15"):
            name = "cp1252"
        return EncodingGuess(name, 0, max(0.0, 1.0 - float(best.chaos)))
    return EncodingGuess("cp1252", 0, 0.5)


def transcode_to_utf8(blocks: Iterable[bytes], guess: EncodingGuess) -> Iterator[bytes]:
    """Re-encodes a stream of byte blocks as UTF-8, skipping the BOM.

    Undecodable bytes become U+FFFD rather than stopping the stream; the decoders then
    see the replacement character in the affected value.
    """
    first = True
    if guess.is_utf8:
        for block in blocks:
            if first:
                block = block[guess.bom :]
                first = False
            yield block
        return
    decoder = codecs.getincrementaldecoder(guess.encoding)(errors="replace")
    for block in blocks:
        if first:
            block = block[guess.bom :]
            first = False
        text = decoder.decode(block)
        if text:
            yield text.encode("utf-8")
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail.encode("utf-8")
