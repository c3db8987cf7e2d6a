"""The composition root: builds every component and service from the settings, once.

Nothing is loaded until first asked for: listing documents does not load the embedder, a search
does not load the chat model. The chat model has one owner (this object) and is reused for every
question. Close the engine to free the model and the store.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.answer.service import SYSTEM_PROMPT, AskService, SearchService
from app.core.answer.sources import SourceService
from app.core.config import DEFAULT_EMBEDDING_BACKEND, Settings, data_dir
from app.core.crypto import Cipher, DataLocked
from app.core.ingest.service import IngestService
from app.core.ingest.watch import WatchService
from app.core.models import shipped as models
from app.core.models.cpu import CpuGate
from app.core.models.embedder import Embedder
from app.core.models.llm import ChatModel, Message
from app.core.models.speeds import SpeedLog
from app.core.privacy.audit import CONVERSATION_EXPORTED, KEY_CREATED, SETTINGS_CHANGED, AuditLog
from app.core.privacy.keys import KEYINFO, KeyManager, PassphraseProvider
from app.core.retrieval.hybrid import open_keywords
from app.core.storage.conversations import ConversationStore
from app.core.storage.keywords import KeywordIndex
from app.core.storage.registry import Library
from app.core.storage.vectors import VectorStore


@dataclass
class Paths:
    """Everything Sanctum writes, under one folder."""

    root: Path
    settings: Path = field(init=False)
    library: Path = field(init=False)
    store: Path = field(init=False)
    models: Path = field(init=False)
    keywords: Path = field(init=False)
    audit: Path = field(init=False)
    keyinfo: Path = field(init=False)

    def __post_init__(self) -> None:
        self.settings = self.root / "settings.json"
        self.library = self.root / "library.sqlite3"
        self.store = self.root / "store"
        self.models = self.root / "models"
        self.conversations = self.root / "conversations.sqlite3"
        self.keywords = self.root / "keywords.bin"
        self.audit = self.root / "audit.log"
        self.keyinfo = self.root / KEYINFO

    def holds_encrypted_data(self) -> bool:
        """Whether anything here was encrypted under a data key (so a new key must not be made)."""
        return (self.library.exists() or self.audit.exists() or self.conversations.exists()
                or self.keywords.exists() or (self.store.exists() and any(self.store.iterdir())))


class Engine:
    """Owns the components; hands out the services.

    Args:
        root: The data directory (defaults to ``$SANCTUM_HOME`` or the platform's data dir).
        settings: Settings to use; by default those saved in the data directory.
        chat_model: A .gguf file for this session only (overrides the settings).
        embedding_model: A sentence-transformers folder for this session only.
        embedder: An already loaded embedder to share (tests, benchmarks); not closed here.
        chat: An already loaded chat model to share; not closed here.
        passphrase: Asks the user for a passphrase where no keyring is available.
    """

    def __init__(
        self,
        root: Path | None = None,
        *,
        settings: Settings | None = None,
        chat_model: Path | None = None,
        embedding_model: Path | None = None,
        embedder: Embedder | None = None,
        chat: ChatModel | None = None,
        passphrase: PassphraseProvider | None = None,
    ) -> None:
        self.paths = Paths(Path(root) if root else data_dir())
        self.paths.root.mkdir(parents=True, exist_ok=True)
        self.settings = settings or Settings.load(self.paths.settings)
        self._chat_override = chat_model
        self._embed_override = embedding_model
        self._lock = threading.RLock()
        self._library: Library | None = None
        self._embedder: Embedder | None = embedder
        self._store: VectorStore | None = None
        self._chat: ChatModel | None = chat
        self._owns_chat = chat is None
        self._passphrase = passphrase
        self._cipher: Cipher | None = None
        self._conversations: ConversationStore | None = None
        self._keywords: KeywordIndex | None = None
        self._audit: AuditLog | None = None
        self.cpu = CpuGate()  # answers pause the ingest's encoder (app.core.models.cpu)
        self.speeds = SpeedLog(self.paths.models / "speeds.json")  # per-model answer timings, no text

    # -- components -------------------------------------------------------------------------

    @property
    def library(self) -> Library:
        with self._lock:
            if self._library is None:
                self._library = Library(self.paths.library, cipher=self.cipher)
            return self._library

    def chat_model_path(self) -> Path:
        """The .gguf file questions are answered with (the default is verified first)."""
        chosen = self._chat_override or (Path(self.settings.chat_model) if self.settings.chat_model else None)
        return Path(chosen).expanduser() if chosen else models.default_chat_model(self.paths.root)

    def embedding_model_path(self) -> Path:
        """The embedding model: a sentence-transformers folder, or a .gguf file (``nomic-f16`` and
        ``nomic-q8_0`` name the shipped nomic-embed-text-v1.5, see app.core.models.nomic)."""
        chosen = self._embed_override or (
            Path(self.settings.embedding_model) if self.settings.embedding_model else None
        )
        if chosen is not None and str(chosen) in ("nomic-f16", "nomic-q8_0"):
            from app.core.models.nomic import nomic_path

            return nomic_path(self.paths.root, str(chosen).removeprefix("nomic-"))
        return Path(chosen).expanduser() if chosen else models.default_embedder(self.paths.root)

    def embedding_backend(self) -> str:
        """The chosen backend, or by default torch, unless the library was indexed with int8
        vectors: those stay usable until a re-index."""
        if self.settings.embedding_backend:
            return self.settings.embedding_backend
        if self.paths.library.exists():
            indexed = self.library.embedders()
            if indexed and all(e.endswith("/int8") for e in indexed):
                return "onnx-int8"
        return DEFAULT_EMBEDDING_BACKEND

    def onnx_dirs(self) -> list[Path]:
        """Where ONNX exports of the embedding model are found: setup's, then this data folder's."""
        return [models.shipped_models_dir() / "onnx", self.paths.models / "onnx"]

    @property
    def cipher(self) -> Cipher:
        """Encrypts what is kept on disk; the key comes from the keyring (or a passphrase).

        Raises:
            DataLocked: The key is not on this computer, the passphrase is wrong, or the folder
                holds encrypted data but its key information is gone.
            PassphraseRequired: No keyring, and nobody could be asked for the passphrase.
        """
        with self._lock:
            if self._cipher is None:
                keys = KeyManager(self.paths.root, passphrase=self._passphrase)
                new = keys.info() is None
                if new and self.paths.holds_encrypted_data():
                    raise DataLocked(
                        f"the Sanctum data in {self.paths.root} is encrypted, but its key information "
                        f"({KEYINFO}) is missing, so it cannot be opened. Restore that file from the "
                        "computer it came from, or start afresh with `sanctum wipe`."
                    )
                self._cipher = Cipher(keys.load())
                if new:
                    info = keys.info() or {}
                    self.audit.record(KEY_CREATED, mode=info.get("mode"), key_id=self._cipher.key_id)
            return self._cipher

    @property
    def audit(self) -> AuditLog:
        """The audit trail of this data directory (see :mod:`app.core.privacy.audit`)."""
        with self._lock:
            if self._audit is None:
                self._audit = AuditLog(self.paths.audit, self.cipher,
                                       full_questions=lambda: self.settings.audit_full_questions)
            return self._audit

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                path = self.embedding_model_path()
                if path.suffix.lower() == ".gguf":  # llama.cpp, no torch (app.core.models.gguf_embedder)
                    from app.core.models.gguf_embedder import GgufEmbedder

                    self._embedder = GgufEmbedder(path)  # type: ignore[assignment]
                else:
                    self._embedder = Embedder(path, backend=self.embedding_backend(), onnx_dirs=self.onnx_dirs())
            return self._embedder

    @property
    def store(self) -> VectorStore:
        return self.open_store()

    def open_store(self, *, reindex: bool = False) -> VectorStore:
        """The store; with ``reindex`` an index built by another embedding model is dropped."""
        with self._lock:
            if self._store is None or reindex:
                emb = self.embedder
                self._store = VectorStore(
                    self.paths.store, embedder_id=emb.id, drop_foreign=reindex,
                    key_for=self.library.doc_cipher,
                )
            return self._store

    @property
    def keywords(self) -> KeywordIndex:
        """The keyword index beside the store (encrypted on disk), checked against the library."""
        with self._lock:
            if self._keywords is None:
                self._keywords = open_keywords(self.paths.keywords, self.cipher, library=self.library,
                                               store=self.store)
            return self._keywords

    def chat_model(self) -> ChatModel:
        """The chat model, loaded on first use and kept."""
        with self._lock:
            if self._chat is None:
                self._chat = ChatModel(
                    self.chat_model_path(), context_size=self.settings.context_size, threads=self.settings.threads
                )
                # Every answer's prompt starts with the same system prompt: evaluate it once, now.
                self._chat.prefill([Message("system", SYSTEM_PROMPT)])
            return self._chat

    def judge_min_yes(self, model: ChatModel) -> float | None:
        """The "is it answered?" threshold for ``model``: the setting, else the shipped model's
        calibrated one (none for other models)."""
        if self.settings.judge_min_yes is not None:
            return self.settings.judge_min_yes or None  # 0 turns the step off
        shipped = models.shipped_model_of(model.path)
        return shipped.judge_min_yes if shipped else None

    # -- services ---------------------------------------------------------------------------

    def ingest_service(self, *, reindex: bool = False) -> IngestService:
        store = self.open_store(reindex=reindex)
        return IngestService(library=self.library, store=store, embedder=self.embedder, settings=self.settings,
                             keywords=self.keywords, audit=self.audit, cpu=self.cpu)

    def search_service(self) -> SearchService:
        mode = self.settings.retrieval_mode
        return SearchService(embedder=self.embedder, store=self.store, library=self.library,
                             keywords=None if mode == "dense" else self.keywords, mode=mode)

    def ask_service(self) -> AskService:
        return AskService(search=self.search_service(), model_provider=self.chat_model, settings=self.settings,
                          on_question=self.audit.question, cpu=self.cpu, judge_min_yes=self.judge_min_yes,
                          on_timed=self.speeds.record)

    # -- privacy operations -----------------------------------------------------------------

    def update_settings(self, **changes: Any) -> Settings:
        """Change settings, validate, record the change in the audit log, then save them.

        Raises:
            ConfigError: An unknown setting or an invalid value (nothing is changed).
        """
        from app.core.errors import ConfigError

        known = {f.name for f in dataclasses.fields(Settings)}
        unknown = set(changes) - known
        if unknown:
            raise ConfigError(f"unknown setting '{sorted(unknown)[0]}'; known: {', '.join(sorted(known))}")
        updated = dataclasses.replace(self.settings, **changes)
        updated.validate()
        self.apply_settings(updated)
        return updated

    def export_conversation(self, conversation: Any, path: Path, *, fmt: str | None = None,
                            redact: bool = False) -> Any:
        """Export a conversation (see :mod:`app.core.privacy.export`) and record it in the audit log."""
        from app.core.privacy.export import export_conversation

        result = export_conversation(conversation, path, fmt=fmt, redact=redact)
        self.audit.record(CONVERSATION_EXPORTED, path=str(result.path), format=result.format, redacted=redact,
                          redactions=result.redacted, turns=len(conversation.turns))
        return result

    def watch_service(self) -> WatchService:
        """Followed folders; the store and the embedder are loaded only when a pass has work."""
        return WatchService(library=self.library, ingest=self.ingest_service)

    def conversations(self) -> ConversationStore:
        """Saved conversations (encrypted with the data key, so this may ask for the passphrase)."""
        with self._lock:
            if self._conversations is None:
                self._conversations = ConversationStore(self.paths.conversations, self.cipher)
            return self._conversations

    def source_service(self) -> SourceService:
        return SourceService(settings=self.settings)

    def apply_settings(self, settings: Settings) -> None:
        """Use new settings from now on, record the change in the audit log and save them; a changed
        chat model is reloaded on next use."""
        before, after = dataclasses.asdict(self.settings), dataclasses.asdict(settings)
        diff = {k: {"from": before[k], "to": v} for k, v in after.items() if before.get(k) != v}
        if diff:
            self.audit.record(SETTINGS_CHANGED, changes=diff)
        settings.save(self.paths.settings)
        with self._lock:
            old, self.settings = self.settings, settings
            reload = (old.chat_model, old.context_size, old.threads) != (
                settings.chat_model, settings.context_size, settings.threads)
            if reload and self._chat is not None and self._owns_chat:
                self._chat.close()  # waits for a generation in progress
                self._chat = None
            if reload and self._owns_chat:
                self._chat_override = None

    def close(self) -> None:
        with self._lock:
            if self._conversations is not None:
                self._conversations.close()
                self._conversations = None
            if self._chat is not None and self._owns_chat:
                self._chat.close()
            self._chat = None
            if self._library is not None:
                self._library.close()
                self._library = None
            self._store = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
