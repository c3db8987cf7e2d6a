"""LoRA adapters: check that an adapter file fits a model before it is used.

llama.cpp's LoRA GGUF layout: ``general.type = adapter``, ``adapter.type = lora``,
``adapter.lora.alpha``, and for each adapted weight ``W`` (ggml shape ``[n_in, n_out]``) two
tensors ``W.lora_a`` (``[n_in, r]``) and ``W.lora_b`` (``[r, n_out]``). llama.cpp refuses a
mismatched adapter too, but only with a log line; checking the header first gives the user the
reason in words.
"""

from __future__ import annotations

from pathlib import Path

from app.core.errors import ModelError
from app.core.models.gguf import GGUFInfo, read_gguf_info


def check_adapter(path: Path, model: GGUFInfo) -> GGUFInfo:
    """Read the adapter at ``path`` and check it against ``model``'s header.

    Raises:
        ModelError: Not a LoRA adapter, made for another architecture, or a tensor that does not
            fit the model's (the first one is named).
    """
    info = read_gguf_info(path)
    kind = info.metadata.get("adapter.type")
    if info.file_kind != "adapter" or kind not in ("lora", None):
        what = f"a {kind} adapter" if kind else "a model, not an adapter"
        raise ModelError(f"{path}: this is {what}; a LoRA adapter in GGUF form (general.type = adapter) is needed")
    if info.architecture and model.architecture and info.architecture != model.architecture:
        raise ModelError(f"{path}: this adapter was made for a {info.architecture} model, and "
                         f"{model.name} is {model.architecture}")
    pairs = sorted({name.rsplit(".lora_", 1)[0] for name in info.tensors if ".lora_" in name})
    if not pairs:
        raise ModelError(f"{path}: this adapter holds no LoRA tensors")
    for base in pairs:
        a, b = info.tensors.get(f"{base}.lora_a"), info.tensors.get(f"{base}.lora_b")
        target = model.tensors.get(base)
        if a is None or b is None:
            raise ModelError(f"{path}: the adapter's {base} has only one of its two LoRA tensors")
        if target is None:
            raise ModelError(f"{path}: this adapter changes {base}, which {model.name} does not have: "
                             "it was made for another model")
        if a[0] != target[0] or b[1] != target[1] or a[1] != b[0]:
            raise ModelError(f"{path}: the adapter's {base} has the shape {a[0]}×{b[1]}, and {model.name}'s is "
                             f"{target[0]}×{target[1]}: it was made for another model")
    return info
