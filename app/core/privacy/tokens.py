"""API tokens of team servers, kept in the OS keyring (never in settings or any file of ours)."""

from __future__ import annotations

import contextlib

from app.core.config import ServerAddress

KEYRING_SERVICE = "Sanctum"
_TOKEN_ENTRY = "chat-server-token:{host}"


def _token_entry(address: ServerAddress) -> str:
    return _TOKEN_ENTRY.format(host=f"{address.host}:{address.port}")


def store_token(address: ServerAddress, token: str | None) -> None:
    """Keep the server's API token in the OS keyring (None or empty forgets it)."""
    import keyring
    import keyring.errors

    entry = _token_entry(address)
    if token:
        keyring.set_password(KEYRING_SERVICE, entry, token)
        return
    with contextlib.suppress(keyring.errors.PasswordDeleteError):
        keyring.delete_password(KEYRING_SERVICE, entry)


def load_token(address: ServerAddress) -> str | None:
    """The server's API token from the OS keyring, or None."""
    import keyring
    import keyring.errors

    try:
        return keyring.get_password(KEYRING_SERVICE, _token_entry(address))
    except keyring.errors.KeyringError:
        return None
