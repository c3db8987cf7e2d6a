"""The Qt desktop app. It reaches the engine only through the services in ``app.core``."""
