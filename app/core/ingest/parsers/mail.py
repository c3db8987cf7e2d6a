"""E-mail messages (.eml, RFC 5322/MIME) through the standard library's email package.

Attached files become documents of their own (children); pictures shown inside the HTML body
(inline, with a Content-ID) are not. Named ``mail`` so that it does not shadow the standard
library's ``email``.
"""

from __future__ import annotations

import codecs
import email
import email.header
import email.policy
from email.message import EmailMessage, Message

from app.core.errors import EmptyDocument, ParseError
from app.core.ingest.parsers._clean import clean_title, make_section
from app.core.ingest.parsers._decode import decode_bytes
from app.core.ingest.parsers.base import Embedded, ParsedDocument, ReadEmbedded, Source
from app.core.ingest.parsers.html import html_to_text

_SHOWN_HEADERS = ("From", "To", "Cc", "Date", "Subject")
_ENCRYPTED_TYPES = {
    "application/pkcs7-mime": "S/MIME",
    "application/x-pkcs7-mime": "S/MIME",
    "multipart/encrypted": "OpenPGP",
}
_MAX_NESTED_MESSAGES = 3


def parse_eml(path: Source, *, read_embedded: ReadEmbedded, password: str | None = None,
              depth: int = 0) -> ParsedDocument:
    """Read a message: headers, body text (plain preferred, else HTML), attachment names, and
    messages forwarded inside it; attached files are read as children.

    Args:
        path: The message.
        password: Tried on encrypted attachments.
        depth: How deep this message sits inside other files (0: it was added itself).
        read_embedded: Reads each attached file (``parsers.parse_embedded``).

    Raises:
        EmptyDocument: The message is empty, or its body is encrypted.
        ParseError: The file cannot be read.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ParseError(f"cannot read e-mail: {error.strerror or error}") from error
    if not data.strip():
        raise EmptyDocument("empty e-mail: the file holds no message")
    message = _load(data)
    text, has_body = _render(message, depth=0)
    if not has_body:
        protection = _protection(message)
        if protection is not None:
            raise EmptyDocument(
                f"{protection} and Sanctum cannot read it; open it in your mail program, save a "
                "decrypted copy, and add that"
            )
    section = make_section(text)
    if section is None or not (has_body or _header(message, "Subject") or _header(message, "From")):
        raise EmptyDocument("empty e-mail: no sender, subject or body text")
    warnings = [] if has_body else ["the e-mail has no body text; only its headers are indexed"]
    return ParsedDocument(
        format="email",
        sections=[section],
        title=clean_title(_header(message, "Subject")),
        warnings=warnings,
        children=_attachments(message, password=password, depth=depth, read_embedded=read_embedded),
    )


def _attachments(message: EmailMessage, *, password: str | None, depth: int,
                 read_embedded: ReadEmbedded) -> list[Embedded]:

    children: list[Embedded] = []
    for part in _parts(message):
        if part.is_multipart() or part.get_content_type() == "message/rfc822":
            continue
        try:
            name = part.get_filename()
            inline_picture = (part.get_content_maintype() == "image" and part.get("Content-ID")
                              and not _is_attachment(part))
        except Exception:  # noqa: BLE001 - a damaged header: not an attachment we can name
            continue
        if not name or inline_picture or not (_is_attachment(part) or part.get_content_maintype() != "text"):
            continue
        try:
            data = part.get_payload(decode=True)
        except Exception:  # noqa: BLE001
            data = None
        name = " ".join(str(name).replace("/", "_").replace("\\", "_").split())
        if not isinstance(data, bytes):
            children.append(Embedded(name, error="damaged attachment: its content could not be decoded"))
            continue
        children.extend(read_embedded(name, data, password=password, depth=depth + 1))
    return children


def _load(data: bytes) -> EmailMessage:
    # Some tools save a whole message as UTF-16; the email package expects an 8-bit stream, so
    # such a file is re-encoded as UTF-8 (which its parts' charset labels then get read as).
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or b"\x00" in data[:4]:
        data = decode_bytes(data).encode("utf-8", errors="surrogateescape")
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # guaranteed by policy.default
    return message


def _render(message: EmailMessage, *, depth: int) -> tuple[str, bool]:
    """The message as text, and whether it had any body text."""
    lines = [f"{name}: {value}" for name in _SHOWN_HEADERS if (value := _header(message, name))]
    body = _body_text(message)
    attachments = _attachment_names(message)
    parts = ["\n".join(lines), body]
    if attachments:
        parts.append("Attachments: " + ", ".join(attachments))
    has_body = bool(body.strip())
    if depth < _MAX_NESTED_MESSAGES:
        for inner in _nested_messages(message):
            inner_text, inner_has_body = _render(inner, depth=depth + 1)
            parts.append("Forwarded message:\n" + inner_text)
            has_body = has_body or inner_has_body
    return "\n\n".join(part for part in parts if part.strip()), has_body


def _header(message: Message, name: str) -> str:
    """A header's decoded value; if parsing it fails, its encoded words decoded by hand."""
    try:
        value = message.get(name)
        return " ".join(str(value).split()) if value is not None else ""
    except Exception:  # noqa: BLE001 - header parsing raises on some kinds of damage
        pass
    for key, raw in message.raw_items():
        if key.lower() == name.lower():
            return " ".join(_decode_words(str(raw)).split())
    return ""


def _decode_words(raw: str) -> str:
    """Decode RFC 2047 encoded words by hand; keep the raw text where even that fails."""
    try:
        return str(email.header.make_header(email.header.decode_header(raw)))
    except Exception:  # noqa: BLE001
        return raw


def _body_text(message: EmailMessage) -> str:
    for kind in ("plain", "html"):
        part: Message | None
        try:
            part = message.get_body(preferencelist=(kind,))
        except Exception:  # noqa: BLE001 - a damaged MIME tree: fall through to the walk below
            part = None
        if part is not None:
            text = _part_text(part)
            if text.strip():
                return text
    # No multipart/alternative structure: take any inline text part.
    for part in _parts(message):
        if part.get_content_maintype() == "text" and not _is_attachment(part):
            text = _part_text(part)
            if text.strip():
                return text
    return ""


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        return ""
    if not isinstance(payload, bytes) or not payload.strip():
        return ""
    try:
        text = decode_bytes(payload, declared=part.get_content_charset())
    except ParseError:
        return ""
    if part.get_content_subtype() == "html":
        return html_to_text(text)[1]
    return text


def _is_attachment(part: Message) -> bool:
    try:
        return part.get_content_disposition() == "attachment"
    except Exception:  # noqa: BLE001
        return False


def _attachment_names(message: EmailMessage) -> list[str]:
    names = []
    for part in _parts(message):
        if part.is_multipart():
            continue
        try:
            name = part.get_filename()
        except Exception:  # noqa: BLE001
            name = None
        if name and (_is_attachment(part) or part.get_content_maintype() != "text"):
            name = " ".join(str(name).split())
            if name not in names:
                names.append(name)
    return names


def _nested_messages(message: EmailMessage) -> list[EmailMessage]:
    found = []
    for part in _parts(message):
        if part is message or part.get_content_type() != "message/rfc822":
            continue
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(inner, EmailMessage):
            found.append(inner)
    return found


def _parts(message: Message) -> list[Message]:
    """The MIME parts of ``message`` in order, not descending into attached messages."""
    found = [message]
    payload = message.get_payload() if message.get_content_maintype() == "multipart" else None
    if isinstance(payload, list):
        for sub in payload:
            if not isinstance(sub, Message):
                continue
            if sub.get_content_type() == "message/rfc822":
                found.append(sub)
            else:
                found.extend(_parts(sub))
    return found


def _protection(message: EmailMessage) -> str | None:
    """Describe the protection that hides the body ("encrypted e-mail (S/MIME)"), if any."""
    for part in _parts(message):
        kind = _ENCRYPTED_TYPES.get(part.get_content_type())
        if kind is None:
            continue
        if kind == "S/MIME" and str(part.get_param("smime-type") or "").lower() == "signed-data":
            return "signed e-mail (S/MIME, opaque signature): the body is wrapped inside the signature"
        return f"encrypted e-mail ({kind}): the body is encrypted"
    return None
