"""The ``sanctum`` command, one module per command group."""
