"""viewer feature of the desktop app."""
