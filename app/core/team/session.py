"""A shared library in use: its ingest, search and ask services, built on an engine's models.

:class:`SharedSession` opens a shared library (see :mod:`app.core.team.store`) with the
engine's data key, embedder, chat model (local or a team server), settings and audit log, and
hands out the same services the engine does for local libraries, so the CLI, the benchmarks and
the tests use one path. The library is brought in line with the server when it opens and before
each question.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from app.core.answer.service import AskService, SearchService
from app.core.ingest.service import FileOutcome, IngestService, _Write
from app.core.storage.registry import INDEXING
from app.core.storage.vectors import StoredChunk
from app.core.team.store import SharedLibrary, SyncResult, create_shared, join_shared
from app.core.team.store import shared_entries as shared_entries  # for front ends

if TYPE_CHECKING:
    from app.core.config import Settings
    from app.core.crypto import Cipher
    from app.core.models.cpu import CpuGate
    from app.core.models.embedder import Embedder
    from app.core.models.speeds import SpeedLog
    from app.core.privacy.audit import AuditLog


class Engine(Protocol):
    """What a shared session takes from the engine (app.core.engine.Engine, a layer above)."""

    settings: Settings
    cpu: CpuGate
    speeds: SpeedLog

    @property
    def paths(self) -> Any: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def cipher(self) -> Cipher: ...
    @property
    def embedder(self) -> Embedder: ...
    def chat_model(self) -> Any: ...
    def judge_min_yes(self, model: Any) -> float | None: ...


class SharedIngestService(IngestService):
    """Ingestion into a shared library: chunks go to the server, the keyword index stays local,
    and each document's record is published last, once all its chunks are in."""

    def __init__(self, *, shared: SharedLibrary, **kwargs: Any) -> None:
        self.shared = shared
        super().__init__(**kwargs)

    def recover(self) -> list[Path]:
        """Forget what this member left half done. Chunks on the server are left alone: they may be
        another member's ingest of the same file in progress, and without a record nobody finds them."""
        cleaned = []
        for doc in self.library.all(INDEXING):
            if self.keywords is not None:
                self.keywords.remove_document(doc.doc_id)
            self.library.delete(doc.doc_id)
            cleaned.append(Path(doc.path))
        return cleaned

    def ingest(self, paths: Iterable[Path], **kwargs: Any) -> list[FileOutcome]:
        self.shared.sync()  # a file another member already added is "unchanged", not written twice
        kwargs["library"] = self.shared.name
        return super().ingest(paths, **kwargs)

    def write_many(self, writes: Sequence[_Write], *, library: str | None = None) -> list[list[StoredChunk]]:
        stored = super().write_many(writes, library=self.shared.name)
        if self.keywords is not None:
            self.keywords.save()  # before publishing: a record is never ahead of this member's own index
        for chunks in stored:
            if chunks:
                self.shared.publish(chunks[0].doc_id)
        return stored

    def remove(self, path: Path) -> bool:
        """Remove a document from the shared library for everyone: by its file (if it is still on
        this computer) or by its name as the library shows it."""
        doc = self.library.get(Path(path).expanduser().resolve())
        if doc is None:
            named = [d for d in self.library.all() if d.path == str(path) or Path(d.path).name == str(path)]
            doc = named[0] if len(named) == 1 else None
        if doc is None or not self.shared.remove(doc.doc_id):
            return False
        if self.audit:
            from app.core.privacy.audit import DOCUMENT_REMOVED

            self.audit.record(DOCUMENT_REMOVED, doc_id=doc.doc_id, path=doc.path, library=self.shared.name)
        return True


class SharedSession:
    """A shared library opened on an engine (close it, or use it as a context manager)."""

    def __init__(self, engine: Engine, library: SharedLibrary) -> None:
        self.engine = engine
        self.library = library
        self.name = library.name
        self.last_sync: SyncResult = library.sync()

    @classmethod
    def open(cls, engine: Engine, name: str) -> SharedSession:
        return cls(engine, SharedLibrary.open(engine.paths.root, name, cipher=engine.cipher,
                                              embedder_id=engine.embedder.id))

    @classmethod
    def create(cls, engine: Engine, name: str, server: str, *, member: str = "owner") -> SharedSession:
        from app.core.privacy.audit import SHARED_LIBRARY_CREATED

        library = create_shared(engine.paths.root, name, server, cipher=engine.cipher,
                                embedder_id=engine.embedder.id, member=member)
        engine.audit.record(SHARED_LIBRARY_CREATED, library=library.name, server=library.address.label,
                            member=library.entry.member)
        return cls(engine, library)

    @classmethod
    def join(cls, engine: Engine, invite: str) -> SharedSession:
        from app.core.privacy.audit import SHARED_LIBRARY_JOINED

        library = join_shared(engine.paths.root, invite, cipher=engine.cipher, embedder_id=engine.embedder.id)
        engine.audit.record(SHARED_LIBRARY_JOINED, library=library.name, server=library.address.label,
                            member=library.entry.member)
        return cls(engine, library)

    def share(self, member: str | None = None) -> str:
        """A one-time invite for a new member (recorded in the audit log, without its secret)."""
        from app.core.privacy.audit import SHARED_LIBRARY_INVITED

        invite = self.library.share(member)
        self.engine.audit.record(SHARED_LIBRARY_INVITED, library=self.name, member=member)
        return invite

    def unshare(self, member: str) -> int:
        """Remove a member and re-key; returns the number of documents re-sealed."""
        from app.core.privacy.audit import SHARED_LIBRARY_MEMBER_REMOVED

        count = self.library.unshare(member)
        self.engine.audit.record(SHARED_LIBRARY_MEMBER_REMOVED, library=self.name, member=member,
                                 epoch=self.library.keys.epoch, documents=count)
        return count

    def sync(self) -> SyncResult:
        self.last_sync = self.library.sync()
        return self.last_sync

    def ingest_service(self) -> SharedIngestService:
        e = self.engine
        return SharedIngestService(shared=self.library, library=self.library.registry, store=self.library.store,
                                   embedder=e.embedder, settings=e.settings, keywords=self.library.keywords,
                                   audit=e.audit, cpu=e.cpu)

    def search_service(self) -> SearchService:
        mode = self.engine.settings.retrieval_mode
        return SearchService(embedder=self.engine.embedder, store=self.library.store, library=self.library.registry,
                             keywords=None if mode == "dense" else self.library.keywords, mode=mode)

    def ask_service(self) -> AskService:
        e = self.engine
        return AskService(search=self.search_service(), model_provider=e.chat_model, settings=e.settings,
                          on_question=e.audit.question, cpu=e.cpu, judge_min_yes=e.judge_min_yes,
                          on_timed=e.speeds.record)

    def ask(self, question: str, **kwargs: Any) -> Iterator[object]:
        """Answer from this library (synced with the server first); the events of :meth:`AskService.ask`."""
        self.sync()
        kwargs["libraries"] = [self.name]
        yield from self.ask_service().ask(question, **kwargs)

    def search(self, query: str, *, k: int) -> list[Any]:
        self.sync()
        return self.search_service().search(query, k=k, libraries=[self.name])

    def close(self) -> None:
        self.library.close()

    def __enter__(self) -> SharedSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
