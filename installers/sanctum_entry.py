"""Entry point of the frozen Sanctum bundle (PyInstaller): the same as the ``sanctum`` command.

Only what freezing needs happens here, before the app is imported:

- ``multiprocessing.freeze_support()``: the file parser runs in a ``spawn`` worker
  (:mod:`app.core.ingest.parse_pool`); in a frozen app that worker is this executable started again with
  ``--multiprocessing-fork``, and this call turns such a start into the worker instead of the app.
- Offline for good: the Hugging Face libraries are told they are offline whatever the environment
  says (a bundle has no hub to reach, and must never try).
- Programs we start (``tesseract``, ``soffice``, the system viewer) get the system's library path
  back: the bootloader points ``LD_LIBRARY_PATH`` at the bundle, whose libraries (Qt, libstdc++ …)
  must not leak into them. This process already has its libraries loaded, so it is unaffected.
"""

import multiprocessing
import os
import sys

_OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
}


def _system_library_path() -> None:
    if not sys.platform.startswith("linux"):
        return
    original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original:
        os.environ["LD_LIBRARY_PATH"] = original
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)


if __name__ == "__main__":
    multiprocessing.freeze_support()
    os.environ.update(_OFFLINE)
    _system_library_path()
    from app.cli.main import main

    sys.exit(main())
