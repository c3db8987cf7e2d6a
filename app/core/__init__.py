"""The Sanctum engine. Nothing in this package imports Qt (enforced by import-linter)."""
