"""The composition root: builds every component and service from the settings, once.

Nothing is loaded until first asked for: listing documents does not load the embedder, a search
does not load the chat model. The chat model has one owner (this object) and is reused for every
question. Close the engine to free the model and the store.

Thread rule: any thread may ask for a component. Each component has its own lock, held only
while that component is built, so opening the library never waits for the chat model to load
(nor a search for it). A component that needs another gets it *before* taking its own lock, so
locks are never taken in two orders. What each component allows once built is in its own
docstring: the registry and the conversation store serialise their SQLite connection, the
embedder one batch at a time, the chat model one generation at a time.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.answer.conversations import ConversationService
from app.core.answer.service import SYSTEM_PROMPT, AskService, SearchService
from app.core.answer.sources import SourceService
from app.core.config import DEFAULT_EMBEDDING_BACKEND, ServerAddress, Settings, data_dir, parse_server_url
from app.core.crypto import Cipher, DataLocked
from app.core.ingest.documents import DocumentService
from app.core.ingest.parse_pool import ParserPool
from app.core.ingest.parsers.context import identity_line
from app.core.ingest.service import IngestService
from app.core.ingest.watch import WatchService
from app.core.models import shipped as models
from app.core.models.cpu import CpuGate
from app.core.models.embedder import Embedder
from app.core.models.llm import ChatModel, Message
from app.core.models.remote import RemoteChatModel
from app.core.models.service import ModelService
from app.core.models.speeds import SpeedLog
from app.core.privacy import netguard
from app.core.privacy.audit import (
    CHAT_SERVER_CONNECTED,
    CHAT_SERVER_SWITCHED,
    KEY_CREATED,
    SETTINGS_CHANGED,
    AuditLog,
    LibraryAnchor,
)
from app.core.privacy.hardening import secure_folder
from app.core.privacy.keys import KEYINFO, KeyManager, PassphraseProvider, WrongPassphrase
from app.core.privacy.lock import AppLock
from app.core.privacy.service import PrivacyService
from app.core.privacy.tokens import load_token
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
        chat_server: A team server's address for this session only (overrides the settings; see
            :class:`app.core.models.remote.RemoteChatModel`).
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
        chat_server: str | None = None,
    ) -> None:
        self.paths = Paths(Path(root) if root else data_dir())
        self.paths.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        secure_folder(self.paths.root)  # 0700/0600, and this process's umask 077 (app.core.privacy.hardening)
        self.settings = settings or Settings.load(self.paths.settings)
        self._chat_override = chat_model
        self._embed_override = embedding_model
        # One lock per component (re-entrant: building the cipher records in the audit log, which
        # asks for the cipher again on the same thread).
        self._cipher_lock, self._audit_lock = threading.RLock(), threading.RLock()
        self._library_lock, self._embedder_lock = threading.RLock(), threading.RLock()
        self._store_lock, self._keywords_lock = threading.RLock(), threading.RLock()
        self._chat_lock, self._conversations_lock = threading.RLock(), threading.RLock()
        self._pool_lock = threading.Lock()
        self._recovered: VectorStore | None = None  # the store recovery last ran on (once per open)
        self._parsers: ParserPool | None = None
        self._library: Library | None = None
        self._embedder: Embedder | None = embedder
        self._store: VectorStore | None = None
        self._chat: ChatModel | RemoteChatModel | None = chat
        self._server_override = chat_server
        self._owns_chat = chat is None
        self._passphrase = passphrase
        self._cipher: Cipher | None = None
        self._key: bytes | None = None  # kept to wrap it for the app lock
        self._app_lock: AppLock | None = None
        self._conversations: ConversationStore | None = None
        self._keywords: KeywordIndex | None = None
        self._audit: AuditLog | None = None
        self.cpu = CpuGate()  # answers pause the ingest's encoder (app.core.models.cpu)
        self.speeds = SpeedLog(self.paths.models / "speeds.json")  # per-model answer timings, no text

    # -- components -------------------------------------------------------------------------

    @property
    def library(self) -> Library:
        if self._library is not None:
            return self._library
        cipher = self.cipher
        with self._library_lock:
            if self._library is None:
                self._library = Library(self.paths.library, cipher=cipher)
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
        with self._cipher_lock:
            if self._cipher is None:
                keys = KeyManager(self.paths.root, passphrase=self._passphrase)
                new = keys.info() is None
                if new and self.paths.holds_encrypted_data():
                    raise DataLocked(
                        f"the Sanctum data in {self.paths.root} is encrypted, but its key information "
                        f"({KEYINFO}) is missing, so it cannot be opened. Restore that file from the "
                        "computer it came from, or start afresh with `sanctum wipe`."
                    )
                cipher = self._open_key(keys.load())
                if new:
                    info = keys.info() or {}
                    self.audit.record(KEY_CREATED, mode=info.get("mode"), key_id=cipher.key_id)
                return cipher
            return self._cipher

    def _open_key(self, key: bytes) -> Cipher:
        self._key, self._cipher = key, Cipher(key)
        return self._cipher

    def loaded_key(self) -> bytes | None:
        """The data key if the data is open already (never asks for a passphrase)."""
        return self._key

    def data_key(self) -> bytes:
        """The data key, opening the data if needed."""
        _ = self.cipher
        assert self._key is not None
        return self._key

    @property
    def app_lock(self) -> AppLock:
        """The app lock (see :mod:`app.core.privacy.lock`)."""
        with self._cipher_lock:
            if self._app_lock is None:
                self._app_lock = AppLock(self.paths.root, key=self.loaded_key, open_key=self.data_key)
            return self._app_lock

    def needs_unlock(self) -> bool:
        """True while the data is not open and only the app-lock passphrase can open it."""
        return self._cipher is None and KeyManager(self.paths.root).lock_sealed() is not None

    def unlock(self, passphrase: str) -> bool:
        """Check the app-lock passphrase; when the data is not open yet, open it with it.

        Raises:
            TooManyAttempts: Wrong passphrases in a row: this try must wait.
        """
        with self._cipher_lock:
            if self._cipher is None and KeyManager(self.paths.root).lock_sealed() is not None:
                try:
                    self._open_key(KeyManager(self.paths.root).load(lock_passphrase=passphrase))
                except WrongPassphrase:
                    return False
                return True
        # The data is open, or opens without the lock passphrase (a lock set by an older version):
        # the lock checks the passphrase itself.
        return self.app_lock.verify(passphrase)

    @property
    def audit(self) -> AuditLog:
        """The audit trail of this data directory (see :mod:`app.core.privacy.audit`)."""
        if self._audit is not None:
            return self._audit
        cipher, library = self.cipher, self.library
        with self._audit_lock:
            if self._audit is None:
                self._audit = AuditLog(self.paths.audit, cipher,
                                       full_questions=lambda: self.settings.audit_full_questions,
                                       anchor=LibraryAnchor(library))
            return self._audit

    @property
    def embedder(self) -> Embedder:
        if self._embedder is not None:
            return self._embedder
        path, backend = self.embedding_model_path(), self.embedding_backend()
        with self._embedder_lock:
            if self._embedder is None:
                if path.suffix.lower() == ".gguf":  # llama.cpp, no torch (app.core.models.gguf_embedder)
                    from app.core.models.gguf_embedder import GgufEmbedder

                    self._embedder = GgufEmbedder(path)  # type: ignore[assignment]
                else:
                    self._embedder = Embedder(path, backend=backend, onnx_dirs=self.onnx_dirs())
            assert self._embedder is not None
            return self._embedder

    @property
    def store(self) -> VectorStore:
        return self.open_store()

    def open_store(self, *, reindex: bool = False) -> VectorStore:
        """The store; with ``reindex`` an index built by another embedding model is dropped."""
        if self._store is not None and not reindex:
            return self._store
        emb, library = self.embedder, self.library
        with self._store_lock:
            if self._store is None or reindex:
                self._store = VectorStore(
                    self.paths.store, embedder_id=emb.id, drop_foreign=reindex,
                    key_for=library.doc_cipher,
                )
            return self._store

    @property
    def keywords(self) -> KeywordIndex:
        """The keyword index beside the store (encrypted on disk), checked against the library."""
        if self._keywords is not None:
            return self._keywords
        cipher, library, store = self.cipher, self.library, self.store
        with self._keywords_lock:
            if self._keywords is None:
                self._keywords = open_keywords(self.paths.keywords, cipher, library=library, store=store,
                                               paged_header=identity_line)
            return self._keywords

    def team_server(self) -> ServerAddress | None:
        """The team server that writes the answers, or None for the local model.

        Raises:
            ConfigError: The address is not acceptable (see :func:`app.core.config.parse_server_url`).
        """
        url = self._server_override or self.settings.chat_server
        return parse_server_url(url) if url else None

    def chat_model(self, key: str | None = None) -> ChatModel | RemoteChatModel:
        """The chat model, loaded (or connected to) on first use and kept.

        ``key`` names a model of the library (see :meth:`model_service`; a conversation's choice);
        None: the team server when one is set, else the default model. Asking for another local
        model unloads the one loaded first: one chat model in memory at a time.
        """
        with self._chat_lock:
            if key is None:
                if isinstance(self._chat, RemoteChatModel):
                    return self._chat
                server = self.team_server() if self._chat is None else None
                if server is not None:
                    guard = netguard.current()
                    if guard is not None:
                        guard.allow_server(server.host, server.port)  # exactly this host and port
                    self._chat = RemoteChatModel(server, context_size=self.settings.context_size,
                                                 model=self.settings.chat_server_model, token=load_token(server))
                    self._owns_chat = True
                    self.audit.record(CHAT_SERVER_CONNECTED, server=server.label, model=self._chat.model)
                    return self._chat
            if key is None and self._chat_override is not None:
                path, adapters = Path(self._chat_override).expanduser(), []
            elif key is None and self._chat is not None and not self._owns_chat:
                return self._chat  # a model shared by the caller (tests, benchmarks)
            else:
                path, entries = self.model_service().resolve(key)
                adapters = [(Path(a.path), a.scale) for a in entries]
            if self._chat is not None:
                if (isinstance(self._chat, ChatModel) and self._chat.path.resolve() == path.resolve()
                        and self._chat.adapters == adapters):
                    return self._chat
                if self._owns_chat:
                    self._chat.close()  # waits for a generation in progress
                self._chat, self._owns_chat = None, True
            local = ChatModel(path, context_size=self.settings.context_size, threads=self.settings.threads,
                              adapters=adapters)
            self._chat, self._owns_chat = local, True
            # Every answer's prompt starts with the same system prompt: evaluate it once, now.
            local.prefill([Message("system", SYSTEM_PROMPT)])
            return local

    def model_service(self) -> ModelService:
        """The model library: list, add, remove, default, adapters (see app.core.models.service)."""
        return ModelService(self.paths.root, settings=lambda: self.settings, update_settings=self.update_settings,
                            speeds=self.speeds, on_changed=self._on_model_changed)

    def _on_model_changed(self, path: Path) -> None:
        """A model's file or adapters changed: unload it, so the next answer loads it afresh
        (and its cached prompt state, computed with the old adapters, is gone)."""
        with self._chat_lock:
            if (isinstance(self._chat, ChatModel) and self._owns_chat
                    and self._chat.path.resolve() == Path(path).resolve()):
                self._chat.close()
                self._chat = None

    def judge_min_yes(self, model: ChatModel | RemoteChatModel) -> float | None:
        """The "is it answered?" threshold for ``model``: the setting, else the shipped model's
        calibrated one (none for other models)."""
        if self.settings.judge_min_yes is not None:
            return self.settings.judge_min_yes or None  # 0 turns the step off
        if isinstance(model, RemoteChatModel):
            return None
        shipped = models.shipped_model_of(model.path)
        return shipped.judge_min_yes if shipped else None

    # -- services ---------------------------------------------------------------------------

    def parser_pool(self) -> ParserPool:
        """The process's one parser worker (started on first use, stopped by :meth:`close`): ingestion
        and finding a cited passage share it, so a citation click starts no process of its own."""
        with self._pool_lock:
            if self._parsers is None:
                self._parsers = ParserPool(timeout_s=self.settings.parse_timeout_s)
            self._parsers.timeout_s = self.settings.parse_timeout_s
            return self._parsers

    def ingest_service(self, *, reindex: bool = False) -> IngestService:
        """A service for one batch; what a crash left half done is cleaned up once per store opened."""
        store = self.open_store(reindex=reindex)
        service = IngestService(library=self.library, store=store, embedder=self.embedder, settings=self.settings,
                                keywords=self.keywords, audit=self.audit, cpu=self.cpu, pool=self.parser_pool(),
                                data_root=self.paths.root, on_removed=self.forget_in_conversations)
        with self._store_lock:
            if self._recovered is not store:
                service.recover()
                service.forget_removed()  # a removal or re-index a crash left unfinished on disk
                self._recovered = store
        return service

    def search_service(self) -> SearchService:
        mode = self.settings.retrieval_mode
        return SearchService(embedder=self.embedder, store=self.store, library=self.library,
                             keywords=None if mode == "dense" else self.keywords, mode=mode)

    def ask_service(self, model_key: str | None = None) -> AskService:
        """Answers, written by the model ``model_key`` (a conversation's choice; None: the default).

        Raises:
            ModelError: No model has that key (checked now, not at the first answer that needs it).
        """
        if model_key is not None:
            self.model_service().get(model_key)
        return AskService(search=self.search_service(), model_provider=lambda: self.chat_model(model_key),
                          settings=self.settings,
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
        """Export a conversation and record it in the audit log (see :meth:`ConversationService.export`)."""
        return self.conversation_service().export(conversation, path, fmt=fmt, redact=redact)

    def forget_in_conversations(self, doc_ids: list[str]) -> None:
        """Saved answers that quoted removed documents keep "source removed" instead of their passages
        (their own text too, unless the setting ``forget_answers_with_source`` is on)."""
        keep = not self.settings.forget_answers_with_source
        self.conversations().forget_sources(doc_ids, keep_answers=keep)

    def watch_service(self) -> WatchService:
        """Followed folders; the store and the embedder are loaded only when a pass has work."""
        return WatchService(library=self.library, ingest=self.ingest_service)

    def conversations(self) -> ConversationStore:
        """Saved conversations (encrypted with the data key, so this may ask for the passphrase)."""
        if self._conversations is not None:
            return self._conversations
        cipher = self.cipher
        with self._conversations_lock:
            if self._conversations is None:
                self._conversations = ConversationStore(self.paths.conversations, cipher)
            return self._conversations

    def document_service(self) -> DocumentService:
        """Add, list, remove and rescan documents (registry, vectors, keywords and audit together)."""
        return DocumentService(library=self.library, ingest=self.ingest_service, watch=self.watch_service)

    def conversation_service(self) -> ConversationService:
        """Saved conversations, and their export (recorded in the audit log)."""
        return ConversationService(store=self.conversations, audit=lambda: self.audit)

    def privacy_service(self) -> PrivacyService:
        """The app lock, the audit log, and wiping this data folder."""
        return PrivacyService(self.paths.root, audit=lambda: self.audit, close=self.close,
                              lock=lambda: self.app_lock, unlock=self.unlock,
                              is_open=lambda: self.loaded_key() is not None)

    def source_service(self) -> SourceService:
        return SourceService(settings=self.settings, pool=self.parser_pool)

    def apply_settings(self, settings: Settings) -> None:
        """Use new settings from now on, record the change in the audit log and save them; a changed
        chat model is reloaded on next use."""
        before, after = dataclasses.asdict(self.settings), dataclasses.asdict(settings)
        diff = {k: {"from": before[k], "to": v} for k, v in after.items() if before.get(k) != v}
        if diff:
            self.audit.record(SETTINGS_CHANGED, changes=diff)
        settings.save(self.paths.settings)
        with self._chat_lock:
            old, self.settings = self.settings, settings
            reload = (old.chat_model, old.context_size, old.threads, old.chat_server, old.chat_server_model) != (
                settings.chat_model, settings.context_size, settings.threads, settings.chat_server,
                settings.chat_server_model)
            if old.chat_server != settings.chat_server:
                self._switch_server(old.chat_server, settings.chat_server)
            if reload and self._chat is not None and self._owns_chat:
                self._chat.close()  # waits for a generation in progress
                self._chat = None
            if reload and self._owns_chat:
                self._chat_override = None

    def _switch_server(self, old: str | None, new: str | None) -> None:
        """Record a switch between the local model and a team server, and close the old door."""
        self.audit.record(CHAT_SERVER_SWITCHED, to=parse_server_url(new).label if new else "local model",
                          **{"from": parse_server_url(old).label if old else "local model"})
        guard = netguard.current()
        if old and guard is not None and not self._server_override:
            address = parse_server_url(old)
            guard.forget_server(address.host, address.port)

    def close(self) -> None:
        with self._conversations_lock:
            if self._conversations is not None:
                self._conversations.close()
                self._conversations = None
        with self._chat_lock:
            if self._chat is not None and self._owns_chat:
                self._chat.close()
            self._chat = None
        with self._pool_lock:
            if self._parsers is not None:
                self._parsers.close()
                self._parsers = None
        with self._library_lock:
            if self._library is not None:
                self._library.close()
                self._library = None
        with self._store_lock:
            self._store = None
            self._recovered = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
