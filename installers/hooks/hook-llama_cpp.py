# llama-cpp-python loads libllama/libggml* with ctypes from llama_cpp/lib: keep them there, with
# their versioned names (libggml.so needs libggml-base.so.0 …).
from PyInstaller.utils.hooks import collect_dynamic_libs

binaries = collect_dynamic_libs("llama_cpp", search_patterns=["*.so*", "*.dylib", "*.dll"])
# The OpenAI-compatible server (FastAPI, uvicorn) is not used by Sanctum.
excludedimports = ["llama_cpp.server"]
