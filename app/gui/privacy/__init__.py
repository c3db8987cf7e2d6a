"""The desktop side of the privacy features: app lock, export, wipe, audit checks."""
