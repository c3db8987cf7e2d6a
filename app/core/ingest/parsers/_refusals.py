"""What to tell a user about a file Sanctum will not read, and what to do instead."""

from __future__ import annotations

from app.core.errors import ParseError, PasswordRequired, UnsupportedFormat

# Formats Sanctum refuses, with what to do instead. Keyed by suffix (lower case, with the dot).
# .doc/.dot/.ppt are read when LibreOffice is installed (see legacy.py), refused otherwise.
_LATER: dict[str, str] = {
    ".doc": ".doc (Word 97-2003) is not supported: open it in Word or LibreOffice, save it as .docx, and add it "
    "again (or install LibreOffice: Sanctum then converts such files itself)",
    ".dot": ".dot (Word 97-2003 template) is not supported: open it in Word or LibreOffice, "
    "save it as .docx, and add it again (or install LibreOffice: Sanctum then converts such files itself)",
    ".ppt": ".ppt (PowerPoint 97-2003) is not supported: open it in PowerPoint or LibreOffice, "
    "save it as .pptx, and add it again (or install LibreOffice: Sanctum then converts such files itself)",
    ".7z": ".7z archives are not read: extract them and add the documents inside",
    ".rar": ".rar archives are not read: extract them and add the documents inside",
    ".tar": ".tar archives are not read: extract them and add the documents inside",
    ".gz": ".gz archives are not read: extract them and add the documents inside",
    ".p7s": ".p7s is a digital signature: it holds no document text (add the signed file itself)",
    ".p7m": ".p7m (S/MIME encrypted or signed content) is not supported: open it in your mail "
    "program and save the message or its attachments",
}
_LATER[".heic"] = ".heic (HEIF picture) is not supported: export it as JPEG or PNG and add that"

#: Suffixes that a later release may read; refused now with advice.
LATER_SUFFIXES: frozenset[str] = frozenset(_LATER)

# What an Office container sniffed by content (see _sniff) is, for messages.
_KIND_SUFFIX = {kind: f".{kind}" for kind in ("doc", "ppt")}
_OFFICE_APPS = {
    ".docx": ("Word document", "Word", "File > Info > Protect Document > Encrypt with Password"),
    ".xlsx": ("Excel workbook", "Excel", "File > Info > Protect Workbook > Encrypt with Password"),
    ".pptx": ("PowerPoint file", "PowerPoint", "File > Info > Protect Presentation > Encrypt with Password"),
}


def later_format(suffix: str) -> UnsupportedFormat:
    """The refusal for a format named by a later release (``suffix`` in LATER_SUFFIXES)."""
    return UnsupportedFormat(_LATER[suffix])


def unknown_format(suffix: str) -> UnsupportedFormat:
    """The refusal for a suffix Sanctum knows nothing about."""
    if not suffix:
        return UnsupportedFormat("unsupported format: the file has no extension (.pdf, .docx ...)")
    return UnsupportedFormat(f"unsupported format: {suffix} files are not supported")


def mislabelled(kind: str, suffix: str) -> UnsupportedFormat:
    """The refusal for a file whose content is a format Sanctum refuses, whatever its name."""
    real = _KIND_SUFFIX.get(kind)
    if real is None:
        if suffix in _LATER:
            return later_format(suffix)
        return UnsupportedFormat(
            "unsupported format: this is an old Microsoft compound file, not a format Sanctum reads"
        )
    message = _LATER[real]
    if suffix != real:
        message = f"this {suffix + ' ' if suffix else ''}file is really a {real} file. {message}"
    return UnsupportedFormat(message)


def encrypted_office(suffix: str, *, password: str | None) -> ParseError:
    """The refusal for an Office file encrypted with a password (an OLE "EncryptedPackage")."""
    what, app, menu = _OFFICE_APPS.get(suffix, ("Office file", "its Office program", "File > Info"))
    advice = (
        f"add it again with its password, or open it in {app}, remove the password ({menu}) and add it again"
    )
    if password:
        return PasswordRequired(f"password-protected {what}: {advice}")
    return PasswordRequired(f"password required: this {what} is encrypted. {advice}")
