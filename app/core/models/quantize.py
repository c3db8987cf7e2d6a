"""Quantize a GGUF model on this computer with llama.cpp's own quantizer.

``llama_model_quantize`` (the function behind llama.cpp's ``llama-quantize`` tool, shipped inside
llama-cpp-python) runs in a spawned child process: a long C call cannot be interrupted from
Python, and a child can be stopped (Cancel) without leaving the app in a half state. The child
passes on llama.cpp's log, whose line per tensor ("[ 12/ 201] blk.1.attn_q.weight …") is the
progress.
The result is written under a temporary name and renamed only once llama.cpp succeeded and its
header reads back whole.

Quantizing an already quantized file loses quality twice over (the first quantization's error is
kept and a second one added): it is refused unless the caller allows it explicitly.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.errors import ModelError
from app.core.models.gguf import read_gguf_info

#: What users may choose, with llama.cpp's file type numbers (llama_ftype).
TYPES = {"Q4_K_M": 15, "Q5_K_M": 17, "Q6_K": 18, "Q8_0": 7}
UNQUANTIZED = frozenset({"ALL_F32", "F16", "BF16"})
_PROGRESS = re.compile(r"\[\s*(\d+)\s*/\s*(\d+)\]\s+(\S+)")
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class QuantizeResult:
    """What quantizing produced."""

    output: Path
    type: str
    input_bytes: int
    output_bytes: int
    seconds: float


class QuantizeCancelled(ModelError):
    """The user stopped quantizing; nothing was written."""


def default_output(src: Path, qtype: str) -> Path:
    """``model-f16.gguf`` → ``model-f16-Q4_K_M.gguf`` beside it."""
    return src.with_name(f"{src.stem}-{qtype}.gguf")


def quantize(src: Path, qtype: str, *, output: Path | None = None, allow_requantize: bool = False,
             threads: int = 0, progress: Progress | None = None,
             cancelled: Callable[[], bool] | None = None) -> QuantizeResult:
    """Write a ``qtype`` copy of the model ``src``.

    Args:
        src: The model (F32/F16/BF16, or quantized with ``allow_requantize``).
        qtype: One of :data:`TYPES`.
        output: Where to write (default :func:`default_output`); never ``src`` itself, never an
            existing file.
        allow_requantize: Accept an already quantized ``src``.
        threads: Worker threads (0: all cores).
        progress: Called with (tensors done, tensors in all, tensor name).
        cancelled: Polled; True stops llama.cpp and removes the partial file.

    Raises:
        ModelError: A file that cannot be read, an unknown type, an already quantized file, an
            output that exists, or llama.cpp's failure (its last words in the message).
        QuantizeCancelled: ``cancelled`` said so.
    """
    src = Path(src).expanduser().resolve()
    if qtype not in TYPES:
        raise ModelError(f"unknown quantization type {qtype}; choose one of {', '.join(TYPES)}")
    info = read_gguf_info(src)
    if info.file_kind == "adapter":
        raise ModelError(f"{src}: this is a LoRA adapter, not a model; quantize the model it belongs to")
    current = info.quantization
    if current not in UNQUANTIZED and not allow_requantize:
        raise ModelError(
            f"{src}: this model is already quantized ({current or 'unknown type'}). Quantizing it again adds a "
            "second rounding error on top of the first, so answers get worse than quantizing the original "
            "F16/F32 file. Quantize the original if you have it, or allow requantizing "
            "(--allow-requantize) to go ahead anyway")
    out = Path(output).expanduser().resolve() if output else default_output(src, qtype)
    if out == src:
        raise ModelError(f"{out}: the output would replace the input; choose another file name")
    if out.exists():
        raise ModelError(f"{out}: already exists; choose another file name (-o) or remove it first")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    started = time.perf_counter()
    # A spawned process, as the parser pool's: it works the same in the frozen bundle.
    ctx = multiprocessing.get_context("spawn")
    events = ctx.Queue()
    proc = ctx.Process(target=_child, args=(str(src), str(tmp), TYPES[qtype], threads, allow_requantize, events),
                       daemon=True, name="sanctum-quantize")
    tail: list[str] = []
    rc: int | None = None
    try:
        proc.start()
        while rc is None:
            if cancelled and cancelled():
                proc.kill()
                proc.join()
                raise QuantizeCancelled(f"quantizing {src.name} was stopped; nothing was written")
            try:
                kind, *rest = events.get(timeout=0.1)
            except queue.Empty:
                if not proc.is_alive() and events.empty():
                    rc = proc.exitcode if proc.exitcode else 1  # it died without a word (out of memory?)
                continue
            if kind == "log":
                tail = (tail + [str(rest[0])])[-6:]
            elif kind == "progress" and progress:
                progress(int(rest[0]), int(rest[1]), str(rest[2]))
            elif kind == "done":
                rc = int(rest[0])
        proc.join()
        if rc != 0:
            last = " / ".join(tail[-3:]) or f"exit status {rc}"
            raise ModelError(f"{src}: llama.cpp could not quantize this model to {qtype} ({last})")
        read_gguf_info(tmp)  # whole and readable before it gets its real name
        os.replace(tmp, out)
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join()
        tmp.unlink(missing_ok=True)
    return QuantizeResult(output=out, type=qtype, input_bytes=info.size_bytes, output_bytes=out.stat().st_size,
                          seconds=time.perf_counter() - started)


def _child(src: str, dst: str, ftype: int, threads: int, allow: bool, events: Any) -> None:
    """In the child process: run llama_model_quantize; report llama.cpp's log lines and each tensor."""
    import ctypes

    import llama_cpp

    pending = [""]

    def on_log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        pending[0] += text.decode("utf-8", errors="replace")
        *lines, pending[0] = pending[0].split("\n")
        for line in lines:
            if not line.strip():
                continue
            m = _PROGRESS.search(line)
            if m:
                events.put(("progress", int(m.group(1)), int(m.group(2)), m.group(3)))
            events.put(("log", line.strip()))

    log = llama_cpp.llama_log_callback(on_log)  # kept referenced while llama.cpp may call it
    llama_cpp.llama_log_set(log, ctypes.c_void_p(0))
    llama_cpp.llama_backend_init()
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = threads
    params.allow_requantize = allow
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
    events.put(("done", 0 if rc == 0 else 1))
