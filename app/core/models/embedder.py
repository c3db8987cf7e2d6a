"""The sentence-transformers embedder behind a small interface.

Everything outside this module sees :class:`Embedder`: a tokenizer to size chunks with, the
model's window, and ``embed`` returning L2-normalised float32 vectors (so cosine similarity is a
dot product and Chroma's cosine distance is ``1 - similarity``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from app.core.errors import ModelError


class Tokenizer(Protocol):
    """The part of a Hugging Face fast tokenizer the chunker needs."""

    def __call__(self, text: str, **kwargs: object) -> dict[str, list[Any]]: ...


class _LockedTokenizer:
    """A tokenizer used under a lock: Hugging Face's fast tokenizers raise "Already borrowed" when
    two threads use one at once (the ingest's chunker and a question's query embedding)."""

    def __init__(self, tokenizer: Tokenizer, lock: threading.Lock) -> None:
        self._tokenizer, self._lock = tokenizer, lock

    def __call__(self, text: str, **kwargs: object) -> dict[str, list[Any]]:
        with self._lock:
            return self._tokenizer(text, **kwargs)


PAUSABLE_BATCH = 16


def length_batches(texts: Sequence[str], batch_size: int, *, pause: Callable[[], object] | None,
                   cancelled: Callable[[], bool] | None) -> Iterator[list[int]]:
    """The rows of ``texts`` in batches, longest first, for any embedding backend.

    Longest first, as SentenceTransformer.encode orders one call: texts of like length share a
    batch, so little of each forward pass is spent on padding. With ``pause`` (background work that
    yields to answers, see app.core.models.cpu) batches are smaller and ``pause`` is called before
    each, so a question waits for at most ~half a second of encoding already under way.

    Raises:
        Cancelled: ``cancelled()`` returned True before a batch.
    """
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    step = min(batch_size, PAUSABLE_BATCH) if pause is not None else batch_size
    for start in range(0, len(texts), step):
        if pause is not None:
            pause()
        if cancelled and cancelled():
            from app.core.errors import Cancelled

            raise Cancelled("cancelled")
        yield order[start : start + step]


class Embedder:
    """A sentence-transformers model loaded from a local folder, on the CPU.

    Thread rule: any thread may call :meth:`embed` and use :attr:`tokenizer`; one lock lets one
    batch or one tokenization use the model at a time.

    Args:
        folder: A sentence-transformers model folder (modules.json, config, weights, tokenizer).
        batch_size: Chunks per forward pass.
        backend: "torch" (sentence-transformers), "onnx" or "onnx-int8" (ONNX Runtime, see
            :mod:`app.core.models.onnx_backend`).
        onnx_dirs: Where exported ONNX models are looked for, in order; one is exported into the
            last one when none has it.
    """

    def __init__(self, folder: Path, *, batch_size: int = 32, backend: str = "torch",
                 onnx_dirs: Sequence[Path] = ()) -> None:
        folder = Path(folder)
        if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
            raise ModelError(f"{folder}: not a sentence-transformers model folder (no modules.json or config.json)")
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        except Exception as exc:  # the library raises many kinds; the user needs one message
            raise ModelError(f"{folder}: the embedding model could not be loaded ({exc})") from exc
        self.folder = folder
        self.name = folder.name if folder.name != "model" else folder.parent.name
        self.batch_size = batch_size
        self.dimension = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self.backend = backend
        self._lock = threading.Lock()  # thread rule: one batch in the model at a time (see embed)
        self._onnx = None
        if backend != "torch":
            from app.core.models.onnx_backend import OnnxEncoder, onnx_path

            if not onnx_dirs:
                raise ModelError(f"the {backend} backend needs a folder to keep its exported model in")
            import torch

            path = onnx_path(self._model, folder, list(onnx_dirs), backend)
            self._onnx = OnnxEncoder(self._model, path, threads=torch.get_num_threads())

    @property
    def id(self) -> str:
        """Names the vectors this embedder makes: a library indexed with another id needs a re-index.

        int8 vectors differ measurably from the model's own, so that backend has an id of its own;
        the fp32 ONNX export gives the same vectors as torch (to ~1e-6) and shares torch's id.
        """
        base = f"{self.name}/{self.dimension}"
        return f"{base}/int8" if self.backend == "onnx-int8" else base

    @property
    def tokenizer(self) -> Tokenizer:
        """The model's own tokenizer, to count word-pieces exactly as the model will; behind the
        embedder's lock, like :meth:`embed` (the chunker and a query may tokenize at once)."""
        return _LockedTokenizer(self._model.tokenizer, self._lock)

    @property
    def content_tokens(self) -> int:
        """Word-pieces of text that fit in one pass, after the special tokens ([CLS], [SEP])."""
        special = len(self.tokenizer("", add_special_tokens=True)["input_ids"])
        return self.max_tokens - special

    def embed(
        self,
        texts: Sequence[str],
        *,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        pause: Callable[[], object] | None = None,
    ) -> np.ndarray:
        """Embed texts in batches; returns an (n, dimension) float32 array of unit vectors.

        Args:
            texts: What to embed.
            progress: Called with (done, total) after each batch.
            cancelled: Checked before each batch; True raises Cancelled.
            pause: Called before each batch; it blocks while an answer is being written
                (see app.core.models.cpu), so the encoder never competes with llama.cpp for the cores.
        """
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        done = 0
        for rows in length_batches(texts, self.batch_size, pause=pause, cancelled=cancelled):
            batch = [texts[i] for i in rows]
            # One batch at a time: Hugging Face's fast tokenizers raise "Already borrowed" when two
            # threads (the ingest lane, a question's query) encode at once.
            with self._lock:
                if self._onnx is not None:
                    vectors = self._onnx.encode(batch)
                else:
                    vectors = self._model.encode(
                        batch,
                        batch_size=self.batch_size,
                        normalize_embeddings=True,
                        convert_to_numpy=True,
                        show_progress_bar=False,
                    )
            out[rows] = vectors
            done += len(rows)
            if progress:
                progress(done, len(texts))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query; returns a (dimension,) unit vector."""
        vector: np.ndarray = self.embed([text])[0]
        return vector
