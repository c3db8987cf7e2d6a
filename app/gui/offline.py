"""What the status bar says about the network.

Sanctum has no network code: the models, the store and the parsers all run on this computer.
A network guard (``app.core.netguard``, when present) blocks connections inside the process;
when it is there its state is shown, otherwise the indicator reflects that no part of the app
opens connections.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class OfflineState:
    """The indicator's text and tooltip; ``guarded`` when a network guard is active."""

    offline: bool
    text: str
    detail: str
    guarded: bool


def offline_state() -> OfflineState:
    try:
        guard = importlib.import_module("app.core.netguard")
    except ImportError:
        guard = None
    if guard is not None:
        probe = next((getattr(guard, n) for n in ("is_active", "active", "enabled", "is_enabled")
                      if callable(getattr(guard, n, None))), None)
        try:
            active = bool(probe()) if probe else False
        except Exception:
            active = False
        if active:
            return OfflineState(True, "Offline — nothing leaves this computer",
                                "Network connections are blocked inside Sanctum. Your documents, questions "
                                "and answers stay on this computer.", True)
    return OfflineState(True, "Offline — nothing leaves this computer",
                        "Sanctum has no network features: the language model, the search index and your "
                        "conversations all run and are stored on this computer.", False)
