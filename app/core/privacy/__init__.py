"""Keys, the app lock, the audit trail, redaction, the network guard, wipe, export."""
