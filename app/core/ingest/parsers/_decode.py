"""Turn the bytes of a text-like file into str, whatever encoding it was saved in."""

from __future__ import annotations

import codecs
import re

from app.core.errors import ParseError

_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its little-endian BOM starts with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Labels that browsers and mail programs read as windows-1252 (WHATWG Encoding Standard): files
# that say "latin-1" almost always hold cp1252 (curly quotes, the euro sign).
_CP1252_ALIASES = frozenset({"ascii", "us-ascii", "latin-1", "latin1", "iso-8859-1", "iso8859-1", "l1"})

# When charset-normalizer finds several single-byte code pages equally plausible (it cannot tell
# "é" in cp1252 from "é" in cp1250 on short text), prefer the one most files were written in.
_PREFERRED = ("cp1252", "cp1251", "cp1250", "cp932", "gb18030", "big5", "euc_kr")
_CHAOS_TIE = 0.01

_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")


def decode_bytes(data: bytes, *, declared: str | None = None) -> str:
    """Decode ``data`` using, in order: a BOM, the declared charset, UTF-16/32 without BOM, UTF-8,
    and charset-normalizer's best guess.

    Args:
        data: The raw bytes.
        declared: A charset the file names itself (HTML meta, MIME parameter), if any.

    Raises:
        ParseError: The bytes are not text in any encoding (binary data).
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")

    if declared:
        text = _try_declared(data, declared)
        if text is not None:
            return text

    wide = _wide_encoding(data)
    if wide is not None:
        return data.decode(wide, errors="replace")

    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass

    if b"\x00" in data:
        raise ParseError("not a text file: it contains binary data")
    text = _detect(data)
    if text is None or len(_CONTROL.findall(text[:100_000])) > len(text[:100_000]) * 0.02:
        raise ParseError("not a text file: its bytes are not text in any known encoding")
    return text


def normalise_charset(label: str) -> str | None:
    """Return the Python codec for a declared charset label, or None when it is unknown."""
    name = label.strip().strip("\"'").lower()
    if name in _CP1252_ALIASES:
        return "cp1252"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _try_declared(data: bytes, declared: str) -> str | None:
    codec = normalise_charset(declared)
    if codec is None:
        return None
    if codec.startswith(("utf-16", "utf-32")) and _wide_encoding(data) is None:
        # The label survived a conversion to an 8-bit encoding (WHATWG: read it as UTF-8).
        codec = "utf-8"
    if codec != "utf-8" and not data.isascii():
        # Mail and web tools often send UTF-8 labelled "iso-8859-1"; multi-byte UTF-8 sequences
        # almost never happen to be valid in another encoding, so valid UTF-8 wins.
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _wide_encoding(data: bytes) -> str | None:
    """Recognise UTF-16/UTF-32 without a BOM by where the zero bytes of ASCII characters fall."""
    sample = data[:4096]
    if len(sample) < 8 or b"\x00" not in sample:
        return None
    quads = len(sample) // 4
    if quads and sum(sample[i * 4 + 1 : i * 4 + 4] == b"\x00\x00\x00" for i in range(quads)) > quads * 0.6:
        return "utf-32-le"
    if quads and sum(sample[i * 4 : i * 4 + 3] == b"\x00\x00\x00" for i in range(quads)) > quads * 0.6:
        return "utf-32-be"
    even = sample[0::2]
    odd = sample[1::2]
    even_zero = even.count(0) / len(even)
    odd_zero = odd.count(0) / len(odd)
    if odd_zero > 0.3 and even_zero < 0.05:
        return "utf-16-le"
    if even_zero > 0.3 and odd_zero < 0.05:
        return "utf-16-be"
    return None


def _detect(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        return None
    best = matches[0]
    for preferred in _PREFERRED:
        for match in matches:
            if match.encoding == preferred and match.chaos <= best.chaos + _CHAOS_TIE:
                return str(match)
    return str(best)
