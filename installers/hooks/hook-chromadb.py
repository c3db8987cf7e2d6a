# Chroma picks its implementations from dotted names in its settings ("chromadb.api.rust.RustBindingsAPI",
# "chromadb.telemetry.product.posthog.Posthog" …) and imports them at run time: collect them all,
# but not its test suite, its HTTP server or its bundled ONNX embedding functions' tests.
from PyInstaller.utils.hooks import collect_data_files, collect_submodules, copy_metadata


def _keep(name: str) -> bool:
    return not name.startswith(("chromadb.test", "chromadb.server", "chromadb.cli"))


hiddenimports = collect_submodules("chromadb", filter=_keep) + ["chromadb_rust_bindings"]
datas = collect_data_files("chromadb", excludes=["test/**", "**/test/**"]) + copy_metadata("chromadb")
