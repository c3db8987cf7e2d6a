"""An embedding model in a GGUF file, on llama.cpp (no torch): nomic-embed-text-v1.5 and kin.

It offers what :class:`app.core.models.embedder.Embedder` offers (a tokenizer to size chunks, the
window, ``embed``/``embed_query`` returning unit vectors, an ``id`` naming the vectors), so the
rest of Sanctum does not know which one it has.

- **Prefixes.** Models trained with task prefixes get them: nomic's ``search_document: `` in
  front of every chunk, ``search_query: `` in front of a question.
- **Matryoshka.** nomic-embed-text-v1.5 can be cut to fewer dimensions: layer-normalise the full
  vector, keep the first ``dimensions``, normalise again (nomic's own recipe).
- **Tokenizer.** The chunker needs offsets into the text; llama.cpp does not give them. BERT-family
  models use WordPiece, so the same tokenizer is rebuilt from the GGUF's own vocabulary with the
  ``tokenizers`` library (lower-casing, BERT's pre-tokenizer) and counts word-pieces as the model does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from app.core.errors import ModelError
from app.core.models.embedder import Tokenizer, length_batches

#: (document prefix, query prefix) by GGUF architecture.
PREFIXES = {"nomic-bert": ("search_document: ", "search_query: ")}


def wordpiece_vocab(tokens: Iterable[str]) -> list[str]:
    """BERT's vocabulary back from llama.cpp's spelling of it: llama.cpp marks a word's first piece
    with "▁" and writes continuations bare, BERT writes the first piece bare and continuations "##"."""
    out = []
    for token in tokens:
        if token.startswith("\u2581"):
            out.append(token[1:])
        elif token.startswith("[") and token.endswith("]"):
            out.append(token)  # [CLS], [SEP], [unused0] ...
        else:
            out.append("##" + token)
    return out


class WordPieceTokenizer:
    """A BERT WordPiece tokenizer from a vocabulary, called like a Hugging Face fast tokenizer."""

    def __init__(self, vocab: list[str], *, lowercase: bool = True) -> None:
        from tokenizers import Tokenizer as HfTokenizer
        from tokenizers import normalizers, pre_tokenizers, processors
        from tokenizers.models import WordPiece

        ids = {token: i for i, token in enumerate(vocab)}
        for special in ("[CLS]", "[SEP]", "[UNK]"):
            if special not in ids:
                raise ModelError(f"this GGUF's vocabulary has no {special}: not a BERT WordPiece model")
        tok = HfTokenizer(WordPiece(ids, unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", special_tokens=[("[CLS]", ids["[CLS]"]), ("[SEP]", ids["[SEP]"])])
        self._tok = tok

    def __call__(self, text: str, **kwargs: object) -> dict[str, list[Any]]:
        enc = self._tok.encode(text, add_special_tokens=bool(kwargs.get("add_special_tokens", True)))
        return {"input_ids": list(enc.ids), "offset_mapping": list(enc.offsets)}


class GgufEmbedder:
    """A GGUF embedding model loaded with llama-cpp-python (``embedding=True``), on the CPU.

    Thread rule: any thread may call :meth:`embed`; batches from different threads take turns
    (one llama.cpp context, never used by two threads at once).

    Args:
        path: The .gguf file.
        dimensions: Keep this many dimensions (Matryoshka models); None keeps all.
        batch_size: Chunks per llama.cpp batch.
        threads: CPU threads (0: every core).
        window: Tokens per text the model reads (the rest is cut off).
    """

    backend = "llama"

    def __init__(self, path: Path, *, dimensions: int | None = None, batch_size: int = 32, threads: int = 0,
                 window: int = 512) -> None:
        import os

        path = Path(path)
        if not path.is_file():
            raise ModelError(f"{path}: the embedding model file is missing")
        try:
            import llama_cpp

            n_threads = threads or os.cpu_count() or 1
            self._llm = llama_cpp.Llama(
                # One window per llama.cpp batch: texts packed into a batch attend over the whole
                # batch (masked), so a larger batch costs quadratically more for the same vectors.
                model_path=str(path), embedding=True, n_ctx=window, n_batch=window, n_ubatch=window,
                n_seq_max=max(1, window // 32), n_threads=n_threads,
                n_threads_batch=n_threads, verbose=False,
            )
        except Exception as exc:  # llama.cpp raises ValueError/RuntimeError with little detail
            raise ModelError(f"{path}: the embedding model could not be loaded ({exc})") from exc
        meta: dict[str, Any] = self._llm.metadata
        arch = str(meta.get("general.architecture", ""))
        if meta.get("tokenizer.ggml.model") != "bert":
            raise ModelError(f"{path}: only BERT-family GGUF embedders (WordPiece vocabulary) are supported")
        self.path = path
        self.name = path.stem
        self.full_dimension = int(self._llm.n_embd())
        if dimensions is not None and not 64 <= dimensions <= self.full_dimension:
            raise ModelError(f"dimensions must be between 64 and {self.full_dimension}")
        self.dimension = dimensions or self.full_dimension
        self.max_tokens = window
        self.batch_size = batch_size
        self.doc_prefix, self.query_prefix = PREFIXES.get(arch, ("", ""))
        model = self._llm._model
        self._tokenizer = WordPieceTokenizer(wordpiece_vocab(model.token_get_text(i) for i in range(model.n_vocab())))
        self._prefix_tokens = len(self._tokenizer(self.doc_prefix, add_special_tokens=False)["input_ids"])
        self._lock = threading.Lock()

    @property
    def id(self) -> str:
        """Names the vectors: the file (its name carries the quantization) and the dimensions."""
        return f"{self.name}/{self.dimension}"

    @property
    def tokenizer(self) -> Tokenizer:
        return self._tokenizer

    @property
    def content_tokens(self) -> int:
        """Word-pieces of text that fit in one pass, after [CLS], [SEP] and the task prefix."""
        return self.max_tokens - 2 - self._prefix_tokens

    def _vectors(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            raw = np.asarray(self._llm.embed(texts, normalize=False, truncate=True), dtype=np.float32)
        if self.dimension < self.full_dimension:  # Matryoshka: layer norm, cut, normalise
            raw = (raw - raw.mean(axis=1, keepdims=True)) / np.sqrt(raw.var(axis=1, keepdims=True) + 1e-5)
            raw = raw[:, : self.dimension]
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        unit: np.ndarray = (raw / np.clip(norms, 1e-12, None)).astype(np.float32)
        return unit

    def embed(
        self,
        texts: Sequence[str],
        *,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        pause: Callable[[], object] | None = None,
        prefix: str | None = None,
    ) -> np.ndarray:
        """Embed documents' chunks (with the document prefix); same contract as Embedder.embed."""
        lead = self.doc_prefix if prefix is None else prefix
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        done = 0
        for rows in length_batches(texts, self.batch_size, pause=pause, cancelled=cancelled):
            out[rows] = self._vectors([lead + texts[i] for i in rows])
            done += len(rows)
            if progress:
                progress(done, len(texts))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one question (with the query prefix); a (dimension,) unit vector."""
        vector: np.ndarray = self._vectors([self.query_prefix + text])[0]
        return vector

    def close(self) -> None:
        with self._lock:
            self._llm.close()
