"""chat feature of the desktop app."""
