"""Where Sanctum keeps its state, and the user's settings.

All state lives under one data directory: the platform's user data dir, or ``$SANCTUM_HOME``
when set (tests and portable installs). Nothing here runs at import time; the composition root
(:mod:`app.core.engine`) resolves paths and loads settings once.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.core.errors import ConfigError

HOME_ENV = "SANCTUM_HOME"
SETTINGS_VERSION = 1
RETRIEVAL_MODES = ("hybrid", "dense", "keyword")
EMBEDDING_BACKENDS = ("torch", "onnx", "onnx-int8")  # see app.core.models.onnx_backend
# onnx-int8 is 1.9x torch's speed on 2 cores for -0.002 nDCG@10 (bench embedders), but ONNX Runtime
# brings a native telemetry client (see app.core.models.onnx_backend): privacy comes first.
DEFAULT_EMBEDDING_BACKEND = "torch"


def data_dir(environ: dict[str, str] | None = None) -> Path:
    """Return the data directory, creating it if needed.

    Args:
        environ: Environment to read ``SANCTUM_HOME`` from (defaults to ``os.environ``).
    """
    env = os.environ if environ is None else environ
    home = env.get(HOME_ENV)
    if home:
        path = Path(home).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("Sanctum", appauthor=False))
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(f"cannot use the data directory {path}: {exc.strerror}") from exc
    return path


@dataclass
class Settings:
    """The user's choices. Defaults live here, in code; the file holds only what was saved.

    Attributes:
        chat_model: Path to a .gguf file; None uses the bundled default model.
        embedding_model: Path to a sentence-transformers folder; None uses the bundled default.
        context_size: Tokens of context the chat model is loaded with.
        threads: CPU threads for prompt evaluation and generation; 0 means every core.
        temperature: Sampling temperature; low keeps answers close to the sources.
        max_answer_tokens: Room kept free in the context window for the answer.
        top_k: How many passages are put in front of the model.
        chunk_tokens: Size of a chunk in the embedder's word-pieces.
        chunk_overlap: Word-pieces shared by neighbouring chunks.
        min_relevance: Below this cosine similarity a passage is not considered relevant.
        evidence_chars: About how much evidence (sentences and table records) the model reads.
        min_coverage: Below this share of the question's words found together in the evidence
            (weighted by rarity, see app.core.answer.evidence), the question is declined unasked.
        min_meaning: A question whose evidence covers less than ``min_coverage`` is still answered
            when the closest passage's cosine similarity to it reaches this (a paraphrase).
        min_answer_coverage: Below this share around the sentence the answer comes from, the
            answer is taken to come from a sentence that is not about the question, and declined.
        judge_min_yes: Decline an answer when the model's yes-probability for "is the answer
            stated in the excerpts?" is below this; None: the shipped model's calibrated value
            (none for other models); 0: never ask.
        parse_timeout_s: Per-file limit for reading a document.
        retrieval_mode: "hybrid" (meaning and keywords), "dense" (meaning only) or "keyword".
        contextual_header: Embed each chunk with its document's title in front (re-index to apply).
        audit_full_questions: Write questions to the audit log in full (encrypted) instead of a
            keyed hash of them.
        forget_answers_with_source: When a document is removed, also delete the text of saved
            answers that cited it (off: the answers stay, their quoted passages go).
        chat_server: The address of a team server (an OpenAI-compatible endpoint such as llama.cpp's
            llama-server, vLLM or Ollama) that writes the answers instead of the local model; None:
            the local model. https is required except on this computer (see :func:`parse_server_url`).
        chat_server_model: The model to ask the team server for; None: the first it lists.
        embedding_backend: "torch", "onnx" (same vectors) or "onnx-int8" (1.9x faster on 2 cores,
            nDCG@10 -0.002 on SciFact; other vectors: re-index to apply), measured by
            ``sanctum bench embedders``. None (the default): torch, except for a library
            already indexed with int8 vectors, which keeps them until re-indexed. The ONNX
            backends load ONNX Runtime, which carries a telemetry client (app.core.models.onnx_backend).
    """

    chat_model: str | None = None
    embedding_model: str | None = None
    context_size: int = 4096
    threads: int = 0
    temperature: float = 0.1
    max_answer_tokens: int = 512
    top_k: int = 5
    chunk_tokens: int = 200
    chunk_overlap: int = 40
    min_relevance: float = -1.0
    evidence_chars: int = 1400
    min_coverage: float = 0.3
    min_answer_coverage: float = 0.25
    min_meaning: float = 0.4
    judge_min_yes: float | None = None
    parse_timeout_s: float = 120.0
    retrieval_mode: str = "hybrid"
    contextual_header: bool = True
    audit_full_questions: bool = False
    forget_answers_with_source: bool = False
    embedding_backend: str | None = None
    chat_server: str | None = None
    chat_server_model: str | None = None

    @classmethod
    def load(cls, path: Path) -> Settings:
        """Read settings from ``path``; a missing file gives the defaults.

        Unknown keys (from a newer version) are ignored; a damaged file is an error that names it.
        """
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"the settings file {path} is damaged ({exc}); delete it to reset") from exc
        raw = _migrate(raw)
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        settings = cls(**values)
        settings.validate()
        return settings

    def save(self, path: Path) -> None:
        """Write settings atomically (a crash never leaves half a file)."""
        self.validate()
        payload = {"version": SETTINGS_VERSION, **dataclasses.asdict(self)}
        atomic_write_text(path, json.dumps(payload, indent=2) + "\n")

    def validate(self) -> None:
        """Raise ConfigError naming the first out-of-range value."""
        checks = [
            (self.context_size >= 512, "context_size must be at least 512"),
            (self.threads >= 0, "threads must be 0 (automatic) or more"),
            (0.0 <= self.temperature <= 2.0, "temperature must be between 0 and 2"),
            (16 <= self.max_answer_tokens < self.context_size,
             "max_answer_tokens must be 16 or more and below context_size"),
            (1 <= self.top_k <= 50, "top_k must be between 1 and 50"),
            (32 <= self.chunk_tokens <= 8192, "chunk_tokens must be between 32 and 8192"),
            (0 <= self.chunk_overlap < self.chunk_tokens // 2, "chunk_overlap must be below half of chunk_tokens"),
            (-1.0 <= self.min_relevance <= 1.0, "min_relevance must be between -1 and 1"),
            (200 <= self.evidence_chars <= 20000, "evidence_chars must be between 200 and 20000"),
            (0.0 <= self.min_coverage <= 1.0, "min_coverage must be between 0 and 1"),
            (0.0 <= self.min_answer_coverage <= 1.0, "min_answer_coverage must be between 0 and 1"),
            (-1.0 <= self.min_meaning <= 1.0, "min_meaning must be between -1 and 1"),
            (self.judge_min_yes is None or 0.0 <= self.judge_min_yes <= 1.0, "judge_min_yes must be between 0 and 1"),
            (self.parse_timeout_s > 0, "parse_timeout_s must be positive"),
            (self.retrieval_mode in RETRIEVAL_MODES, f"retrieval_mode must be one of {', '.join(RETRIEVAL_MODES)}"),
            (self.embedding_backend is None or self.embedding_backend in EMBEDDING_BACKENDS,
             f"embedding_backend must be one of {', '.join(EMBEDDING_BACKENDS)}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"invalid setting: {message}")
        if self.chat_server:
            parse_server_url(self.chat_server)


def _migrate(raw: dict[str, Any]) -> dict[str, Any]:
    """Bring a settings dict from an older version up to this one."""
    if not isinstance(raw, dict):
        raise ConfigError("the settings file does not hold a JSON object; delete it to reset")
    version = raw.pop("version", 1)
    if not isinstance(version, int) or version > SETTINGS_VERSION:
        # A newer app wrote it: keep what we understand, drop the rest (handled by the caller).
        return raw
    return raw


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- team server addresses ----------------------------------------------------------------------


@dataclass(frozen=True)
class ServerAddress:
    """A validated team-server address.

    Attributes:
        url: The base URL as typed, without a trailing slash (``https://llm.ward.local:8443``).
        host: The host name or address.
        port: The TCP port (the scheme's default when none was typed).
    """

    url: str
    host: str
    port: int

    @property
    def label(self) -> str:
        """What the status bar shows: the host (and the port when it is not the default)."""
        default = 443 if self.url.startswith("https:") else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    name = host.strip("[]").lower()
    if name in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def parse_server_url(url: str) -> ServerAddress:
    """Check a typed team-server address.

    The base may end in ``/v1`` (as most servers document it) or not.

    Raises:
        ConfigError: Not an http(s) URL, or plain http to anything but this computer.
    """
    text = url.strip().rstrip("/")
    if text.endswith("/v1"):
        text = text[: -len("/v1")]
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"'{url}' is not a server address; type it like https://llm.ward.local:8443")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"'{url}' is not encrypted: a team server must use https (plain http is allowed only on this "
            "computer, 127.0.0.1), so that questions and passages cannot be read on the network"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"'{url}': type only the server's address, without '?' or '#' parts")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise ConfigError(f"'{url}': {exc}") from exc
    return ServerAddress(url=text, host=parts.hostname, port=port)
