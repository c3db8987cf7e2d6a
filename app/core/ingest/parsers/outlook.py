"""Outlook messages (.msg) through extract-msg; attachments become documents of their own."""

from __future__ import annotations

from typing import Any

from app.core.errors import EmptyDocument, ParseError
from app.core.ingest.parsers._clean import clean_title, make_section
from app.core.ingest.parsers._decode import decode_bytes
from app.core.ingest.parsers.base import Embedded, ParsedDocument, ReadEmbedded, Source
from app.core.ingest.parsers.html import html_to_text

# Attachments that carry an encrypted or opaque-signed body, not a document.
_PROTECTED_NAMES = {
    ".pgp-encrypted": "encrypted e-mail (OpenPGP): the body is encrypted",
    ".p7m": "encrypted e-mail (S/MIME): the body is encrypted",
}


def parse_msg(path: Source, *, read_embedded: ReadEmbedded, password: str | None = None,
              depth: int = 0) -> ParsedDocument:
    """Read an Outlook message: headers, body (plain, else HTML, else RTF), and its attachments
    (as children) and attached messages.

    Raises:
        EmptyDocument: The message is empty, or its body is encrypted.
        ParseError: The file is not a readable Outlook message.
    """
    import extract_msg

    try:
        data = path.read_bytes()
    except OSError as error:
        raise ParseError(f"cannot read Outlook message: {error.strerror or error}") from error
    try:
        message = extract_msg.openMsg(data)
    except Exception as error:
        raise ParseError(f"malformed Outlook message: {type(error).__name__}: {error}") from error
    try:
        return _read(message, password=password, depth=depth, read_embedded=read_embedded)
    finally:
        message.close()


def _read(message: Any, *, password: str | None, depth: int, read_embedded: ReadEmbedded) -> ParsedDocument:

    headers = [f"{name}: {value}" for name, value in _headers(message) if value]
    body = _body(message)
    children: list[Embedded] = []
    names: list[str] = []
    for index, attachment in enumerate(getattr(message, "attachments", []) or [], start=1):
        name = _attachment_name(attachment, index)
        names.append(name)
        data = getattr(attachment, "data", None)
        if isinstance(data, bytes):
            children.extend(read_embedded(name, data, password=password, depth=depth + 1))
        elif data is not None and hasattr(data, "attachments"):  # an attached Outlook message
            try:
                children.append(Embedded(name, document=_read(data, password=password, depth=depth + 1,
                                                                 read_embedded=read_embedded)))
            except ParseError as error:
                children.append(Embedded(name, error=str(error)))
    if not body.strip():
        protection = next(
            (text for suffix, text in _PROTECTED_NAMES.items() for name in names if name.lower().endswith(suffix)),
            None,
        )
        if protection is not None:
            raise EmptyDocument(
                f"{protection} and Sanctum cannot read it; open it in Outlook, save a decrypted copy, and add that"
            )
    parts = ["\n".join(headers), body]
    if names:
        parts.append("Attachments: " + ", ".join(names))
    section = make_section("\n\n".join(part for part in parts if part.strip()))
    if section is None:
        raise EmptyDocument("empty e-mail: no sender, subject or body text")
    warnings = [] if body.strip() else ["the message has no body text; only its headers are indexed"]
    return ParsedDocument(
        format="msg",
        sections=[section],
        title=clean_title(getattr(message, "subject", None)),
        warnings=warnings,
        children=children,
    )


def _headers(message: Any) -> list[tuple[str, str]]:
    found = []
    for label, attribute in (("From", "sender"), ("To", "to"), ("Cc", "cc"), ("Date", "date"), ("Subject", "subject")):
        try:
            value = getattr(message, attribute, None)
        except Exception:  # noqa: BLE001 - a damaged property stream must not cost the message
            value = None
        found.append((label, " ".join(str(value).split()) if value else ""))
    return found


def _body(message: Any) -> str:
    for attribute in ("body", "htmlBody", "rtfBody"):
        try:
            value = getattr(message, attribute, None)
        except Exception:  # noqa: BLE001 - e.g. a compressed RTF body that does not decompress
            continue
        if not value:
            continue
        if attribute == "body":
            text = value if isinstance(value, str) else decode_bytes(value)
        elif attribute == "htmlBody":
            text = html_to_text(value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value)[1]
        else:
            from striprtf.striprtf import rtf_to_text

            text = rtf_to_text(value.decode("cp1252", errors="replace"), errors="replace")
        if text.strip():
            return text
    return ""


def _attachment_name(attachment: Any, index: int) -> str:
    for attribute in ("longFilename", "shortFilename", "displayName", "name"):
        value = getattr(attachment, attribute, None)
        if isinstance(value, str) and value.strip():
            return " ".join(value.replace("/", "_").replace("\\", "_").split())
    return f"attachment-{index}"
