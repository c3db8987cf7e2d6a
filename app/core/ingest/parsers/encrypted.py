"""Password-protected Office files, decrypted in memory with msoffcrypto-tool.

An encrypted .docx/.xlsx/.pptx is an OLE container holding an "EncryptedPackage"; an encrypted
.xls/.doc/.ppt is encrypted inside its own streams. Either is decrypted into a bytes buffer and
read from there: the plaintext is never written to disk.
"""

from __future__ import annotations

import io

from app.core.errors import ParseError, PasswordRequired
from app.core.ingest.parsers.base import MemoryFile, Source

# Excel encrypts "protected" workbooks that open without a password with this fixed password.
_EXCEL_DEFAULT_PASSWORD = "VelvetSweatshop"
_KINDS = {
    ".docx": "Word document",
    ".xlsx": "Excel workbook",
    ".pptx": "PowerPoint file",
    ".xls": "Excel 97-2003 workbook",
    ".doc": "Word 97-2003 document",
    ".ppt": "PowerPoint 97-2003 file",
}


def is_encrypted(path: Source) -> bool:
    """Whether an OLE Office file is encrypted (False when it cannot be told)."""
    import msoffcrypto

    try:
        with path.open("rb") as handle:
            return bool(msoffcrypto.OfficeFile(handle).is_encrypted())
    except Exception:  # noqa: BLE001 - not an Office file msoffcrypto knows; let the parser decide
        return False


def decrypt(path: Source, *, password: str | None) -> MemoryFile:
    """The decrypted file, in memory, under the same name.

    Raises:
        PasswordRequired: No password was given, or it is wrong.
        ParseError: The encryption is of a kind msoffcrypto-tool cannot undo, or the file is damaged.
    """
    import msoffcrypto
    from msoffcrypto import exceptions

    what = _KINDS.get(path.suffix.lower(), "Office file")
    tries = [p for p in (password, _EXCEL_DEFAULT_PASSWORD) if p]
    last: Exception | None = None
    for attempt in tries:
        try:
            with path.open("rb") as handle:
                office = msoffcrypto.OfficeFile(handle)
                office.load_key(password=attempt, verify_password=True)
                plain = io.BytesIO()
                office.decrypt(plain)
            return MemoryFile(path.name, plain.getvalue())
        except (exceptions.InvalidKeyError, exceptions.DecryptionError) as error:
            last = error
        except Exception as error:
            if attempt != password:  # only Excel's default password was tried: the user's is needed
                last = error
                continue
            reason = str(error) if isinstance(error, exceptions.FileFormatError) else f"{type(error).__name__}: {error}"
            raise ParseError(f"cannot decrypt this {what}: {reason}") from error
    if password:
        raise PasswordRequired(f"wrong password: the password given does not open this {what}") from last
    raise PasswordRequired(f"password required: this {what} is encrypted")
