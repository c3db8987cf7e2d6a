"""Exceptions that carry a message fit to show a user.

Every failure the engine reports is one of these: the message says what went wrong and, where
there is one, what to do about it. Callers show ``str(error)``; they never parse it.
"""

from __future__ import annotations


class SanctumError(Exception):
    """Base of every error meant for the user."""


class ConfigError(SanctumError):
    """Settings or the data directory are unusable."""


class ModelError(SanctumError):
    """A model file is missing, damaged, or cannot be loaded."""


class ParseError(SanctumError):
    """A document could not be read. The message names the reason ("malformed PDF: ...")."""


class UnsupportedFormat(ParseError):
    """The file's format is not one Sanctum reads."""


class PasswordRequired(ParseError):
    """The document is encrypted and no (or a wrong) password was given."""


class EmptyDocument(ParseError):
    """The document holds no extractable text (e.g. a scanned PDF without a text layer)."""


class ParseTimeout(ParseError):
    """Parsing took longer than the per-file limit."""


class Cancelled(SanctumError):
    """The user cancelled the operation."""


class DataLocked(SanctumError):
    """Encrypted data cannot be read: the key is missing or wrong, or the data was altered."""


class PassphraseRequired(SanctumError):
    """No keyring is available and no passphrase could be asked for."""
