"""The embedding model on ONNX Runtime: an offline export of the local weights, fp32 or int8.

sentence-transformers' own ``backend="onnx"`` needs ``optimum-onnx``, whose releases pin
``transformers<4.58`` (we run 5.x), so the export is done here: the Hugging Face encoder of a
sentence-transformers folder is traced with ``torch.onnx.export`` from the weights on disk
(nothing is downloaded), and the int8 variant is made from it with ONNX Runtime's dynamic
quantization. Both are written once, atomically, into a cache folder named after the model's
weights (setup does it; otherwise the first use). Tokenization and pooling stay those of the
sentence-transformers model, so only the transformer's forward pass changes.

Privacy: ONNX Runtime 1.32's Linux wheel carries Microsoft's 1DS telemetry client (libcurl, to
mobile.events.data.microsoft.com), started when the module is imported; it writes
``~/.cache/Microsoft/DeveloperTools/.onnxruntime/``. Native sockets are not seen by Sanctum's
in-process guard (app.core.privacy.netguard watches Python's). So these backends are never the default,
ONNX Runtime is imported only when a user chooses one, and its telemetry events are switched off
at once (``disable_telemetry_events``); the guard's proof does not cover them.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from app.core.errors import ModelError

BACKENDS = ("torch", "onnx", "onnx-int8")
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_EXPORT_VERSION = 1  # part of the cache folder's name: a new export recipe never reuses an old file


def _fingerprint(folder: Path) -> str:
    """Names the export after the weights it came from: each weight file's size and the SHA-256
    of its first and last MiB, and the model's config (content, not times: an installer's copy of
    the same model finds the export made at setup)."""
    digest = hashlib.sha256()
    for weights in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")) + [folder / "config.json"]:
        if weights.is_file():
            size = weights.stat().st_size
            with weights.open("rb") as fh:
                head = fh.read(1 << 20)
                fh.seek(max(0, size - (1 << 20)))
                tail = fh.read(1 << 20)
            digest.update(f"{weights.name}|{size}|".encode() + hashlib.sha256(head + tail).digest())
    return digest.hexdigest()[:12]


def onnx_path(model: Any, folder: Path, cache_dirs: list[Path], backend: str) -> Path:
    """The ONNX file for ``backend`` ("onnx" or "onnx-int8"): found in one of ``cache_dirs`` (setup
    puts it in the first), else exported into the last one."""
    if backend not in BACKENDS[1:]:
        raise ModelError(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    name = f"{folder.name if folder.name != 'model' else folder.parent.name}-{_fingerprint(folder)}-v{_EXPORT_VERSION}"
    wanted = "model-int8.onnx" if backend == "onnx-int8" else "model.onnx"
    for cache_dir in cache_dirs:
        if (cache_dir / name / wanted).is_file():
            return cache_dir / name / wanted
    target = cache_dirs[-1] / name
    fp32, int8 = target / "model.onnx", target / "model-int8.onnx"
    if not fp32.is_file():
        _export(model, fp32)
    if backend == "onnx-int8" and not int8.is_file():
        _quantize(fp32, int8)
    return int8 if backend == "onnx-int8" else fp32


def _export(model: Any, target: Path) -> None:
    import torch

    encoder = model[0].auto_model.eval()

    class _Forward(torch.nn.Module):  # keyword arguments: transformers 5 reordered forward()'s positionals
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state

    sample = model.tokenizer(["an example", "a second, longer example"], padding=True, return_tensors="pt")
    if "token_type_ids" not in sample:
        raise ModelError("this embedding model cannot run on ONNX here (no token type ids); use the torch backend")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".partial")
    try:
        with torch.no_grad():
            torch.onnx.export(
                _Forward(), tuple(sample[name] for name in _INPUTS), str(tmp), input_names=list(_INPUTS),
                output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")},
            )
        os.replace(tmp, target)
    except Exception as exc:
        raise ModelError(f"the embedding model could not be exported to ONNX ({exc}); use the torch backend") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _ort() -> Any:
    """ONNX Runtime, with its telemetry events switched off (see the module docstring)."""
    import onnxruntime

    onnxruntime.disable_telemetry_events()
    return onnxruntime


def _quantize(source: Path, target: Path) -> None:
    _ort()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = target.with_suffix(".partial")
    try:
        # Per-channel weights of the matrix multiplications only: per-tensor scales (the default)
        # moved SciFact abstracts' vectors to a cosine of 0.90 from torch's, per-channel to 0.99.
        quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"])
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


class OnnxEncoder:
    """The forward pass of a sentence-transformers model on ONNX Runtime, with its own tokenizer
    and pooling (mean or CLS); returns unit vectors.

    Args:
        model: The loaded SentenceTransformer (tokenizer, window, pooling mode).
        path: The exported ONNX file.
        threads: Intra-op threads (as many as torch uses, for a fair comparison).
    """

    def __init__(self, model: Any, path: Path, *, threads: int) -> None:
        ort = _ort()

        pooling = getattr(model[1], "pooling_mode", None) if len(model) > 1 else None
        if pooling not in ("mean", "cls"):
            raise ModelError(f"the ONNX backend supports mean or CLS pooling, not {pooling!r}; use the torch backend")
        self.pooling = pooling
        self.tokenizer = model.tokenizer
        self.max_tokens = int(model.max_seq_length)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str]) -> np.ndarray:
        feats = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="np")
        inputs = {name: np.asarray(feats[name], dtype=np.int64) for name in _INPUTS}
        hidden = self.session.run(["last_hidden_state"], inputs)[0]
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = inputs["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: np.ndarray = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return unit
