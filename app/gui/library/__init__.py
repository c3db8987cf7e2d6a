"""library feature of the desktop app."""
