"""Shared libraries: a library kept on a Chroma server the hospital's IT runs (``chroma run``).

No server of our own: the library lives in three collections of a stock Chroma server, reached
with ``chromadb.HttpClient`` (https, except on this computer), and everything readable is sealed
on the client before it leaves:

- ``…-chunks``: the vectors, with each chunk's text and label sealed with its document's key,
  exactly as :class:`app.core.storage.vectors.VectorStore` keeps them on disk;
- ``…-docs``: the library's registry, one record per document, published only once all its chunks
  are in; its id is a keyed hash of the file's content (so two members adding the same file write
  the same records), its name, title, pages, format and content hash are sealed with the library
  key, and so is the document's key;
- ``…-members``: the library's current key check and epoch, each member's copy of the library
  keys sealed to their own public key, and pending invites (see :mod:`app.core.privacy.sharing`).

Each member keeps a local cache in their data folder, under ``shared/``: a registry
(:class:`SharedRegistry`, encrypted with the data key like the local one) and the BM25 keyword
index, brought in line with the server on open and before each question (:meth:`SharedLibrary.sync`).
The server never sees a word of text, a file name or a key; what it does see is in the README's
threat model.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.config import ServerAddress, atomic_write_text, parse_server_url
from app.core.crypto import Cipher, DataLocked
from app.core.errors import ConfigError, SanctumError
from app.core.ingest.parsers.base import NESTED_SEPARATOR
from app.core.privacy import netguard, sharing
from app.core.privacy.sharing import LibraryKeys
from app.core.storage.headers import context_header
from app.core.storage.keywords import KeywordIndex
from app.core.storage.registry import READY, Library
from app.core.storage.vectors import VectorStore

SERVICE = "Sanctum"  # the keyring service, as for the data key
SHARED_DIR = "shared"
_PLACEHOLDER = [1.0]  # records of the registry and member collections carry no vector of their own
_META_ID = "library"
INVITE_PREFIX = "sanctum-invite:"


class AccessRevoked(DataLocked):
    """This member was removed from the shared library (its key changed and no copy is theirs)."""


# -- which shared libraries this data folder holds -------------------------------------------------


@dataclass(frozen=True)
class SharedEntry:
    """A shared library known to this data folder (no secret: the keys are in the keyring)."""

    name: str
    server: str
    account: str
    folder: str
    member: str


def _config_path(root: Path) -> Path:
    return root / SHARED_DIR / "libraries.json"


def shared_entries(root: Path) -> dict[str, SharedEntry]:
    path = _config_path(root)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {e["name"]: SharedEntry(**e) for e in data.get("libraries", [])}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path} is damaged ({exc}); remove it and join the shared libraries again") from exc


def _save_entries(root: Path, entries: dict[str, SharedEntry]) -> None:
    path = _config_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"version": 1, "libraries": [e.__dict__ for e in entries.values()]},
                                       indent=2) + "\n")


def is_shared(root: Path, name: str) -> bool:
    return name in shared_entries(root)


# -- secrets in the keyring ------------------------------------------------------------------------


def _keyring_get(account: str) -> dict[str, str]:
    import keyring
    from keyring.errors import KeyringError

    try:
        stored = keyring.get_password(SERVICE, account)
    except KeyringError as exc:
        raise DataLocked(f"the system keyring could not be opened ({exc}); unlock it and try again") from exc
    if not stored:
        raise DataLocked("the key of this shared library is not in this computer's keyring; join it again "
                         "with a new invite")
    return dict(json.loads(stored))


def _keyring_set(account: str, secret: dict[str, str]) -> None:
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(SERVICE, account, json.dumps(secret))
    except KeyringError as exc:
        raise DataLocked(f"the system keyring refused to keep the shared library's key: {exc}") from exc


# -- the local cache's registry ---------------------------------------------------------------------


class SharedRegistry(Library):
    """The local copy of a shared library's registry.

    Documents are named by their content (see :meth:`LibraryKeys.doc_id`) instead of their path,
    and their key is derived from it too, so every member writes the same ids and keys.
    """

    def __init__(self, db_path: Path, *, cipher: Cipher, name: str, keys: Callable[[], LibraryKeys]) -> None:
        super().__init__(db_path, cipher=cipher)
        self.shared_name = name
        self._keys = keys
        self._hashes: dict[tuple[str, int, int], str] = {}
        if not self.has_library(name):
            self.create_library(name)

    def content_of(self, path: Path | str) -> tuple[str, str | None] | None:
        """(content sha256, member name or None) of a file, or of a member inside one; None when unreadable."""
        from app.core.ingest.service import file_hash

        text = str(path)
        container, member = Path(text), None
        if not container.is_file() and NESTED_SEPARATOR in text:
            head, member = text.split(NESTED_SEPARATOR, 1)
            container = Path(head)
        try:
            st = container.stat()
            key = (str(container), st.st_size, st.st_mtime_ns)
            if key not in self._hashes:
                self._hashes[key] = file_hash(container)
            return self._hashes[key], member
        except OSError:
            return None

    def doc_id_for(self, path: Path | str) -> str:
        found = self.content_of(path)
        return self._keys().doc_id(*found) if found else super().doc_id_for(path)

    def mark_indexing(self, path: Path, *, content_hash: str, size: int, mtime_ns: int, embedder: str,
                      library: str | None = None) -> str:
        doc_id = super().mark_indexing(path, content_hash=content_hash, size=size, mtime_ns=mtime_ns,
                                       embedder=embedder, library=self.shared_name)
        found = self.content_of(path)
        if found is not None:
            self.set_doc_key(doc_id, self._keys().doc_key(*found))
        return doc_id

    def set_doc_key(self, doc_id: str, key: bytes) -> None:
        self._db.execute("UPDATE documents SET doc_key = ? WHERE doc_id = ?",
                         (self._cipher.encrypt(key, aad=b"doc-key:" + doc_id.encode()), doc_id))
        self._doc_ciphers.pop(doc_id, None)

    def doc_key(self, doc_id: str) -> bytes | None:
        row = self._db.execute("SELECT doc_key FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return self._cipher.decrypt(row[0], aad=b"doc-key:" + doc_id.encode()) if row and row[0] else None

    def put_ready(self, doc_id: str, *, name: str, key: bytes, info: dict[str, Any]) -> None:
        """Record a document another member published (ready: its chunks are all on the server)."""
        now = time.time()
        with self._tx() as db:
            db.execute(
                """INSERT OR REPLACE INTO documents (doc_id, path, doc_key, content_hash, size, mtime_ns, format, title,
                       page_count, chunk_count, status, error, embedder, added_at, updated_at, library)
                   VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)""",
                (doc_id, self._seal(doc_id, "path", name), self._cipher.encrypt(key, aad=b"doc-key:" + doc_id.encode()),
                 self._seal(doc_id, "content_hash", info.get("sha")), info.get("size"), info.get("format"),
                 self._seal(doc_id, "title", info.get("title")), info.get("pages"), int(info.get("chunks", 0)), READY,
                 info.get("embedder"), float(info.get("added", now)), now, self.shared_name),
            )
        self._doc_ciphers.pop(doc_id, None)


# -- the library on the server ----------------------------------------------------------------------


@dataclass(frozen=True)
class SyncResult:
    """What a sync changed in the local cache."""

    added: int
    removed: int
    waiting: int  # published under a key this member does not hold yet (a re-key in progress)


def _collections(name: str) -> tuple[str, str, str]:
    stem = "sanctum-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:24]
    return f"{stem}-chunks", f"{stem}-docs", f"{stem}-members"


def connect(address: ServerAddress) -> Any:
    """A Chroma ``HttpClient`` for ``address``, with telemetry off, after letting the guard allow
    exactly that host and port."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    guard = netguard.current()
    if guard is not None:
        guard.allow_server(address.host, address.port)
    try:
        return chromadb.HttpClient(host=address.host, port=address.port, ssl=address.url.startswith("https"),
                                   settings=ChromaSettings(anonymized_telemetry=False))
    except Exception as exc:  # chromadb raises ValueError/ConnectionError/httpx errors here
        raise SanctumError(f"the library server {address.label} cannot be reached ({exc}); check that it runs "
                           "and that the address is right") from exc


class SharedLibrary:
    """One shared library: its server collections, its keys and this member's local cache.

    Open with :meth:`open` (a library this data folder has created or joined); create one with
    :func:`create_shared`, join one with :func:`join_shared`.
    """

    def __init__(self, root: Path, entry: SharedEntry, *, cipher: Cipher, embedder_id: str,
                 client: Any = None) -> None:
        self.root = root
        self.entry = entry
        self.name = entry.name
        self.address = parse_server_url(entry.server)
        self._client = client if client is not None else connect(self.address)
        chunks, docs, members = _collections(entry.name)
        self._docs = self._client.get_or_create_collection(docs, embedding_function=None)
        self._members = self._client.get_or_create_collection(members, embedding_function=None)
        self._secret = _keyring_get(entry.account)
        self.keys = self._current_keys()
        folder = root / SHARED_DIR / entry.folder
        self.registry = SharedRegistry(folder / "library.sqlite3", cipher=cipher, name=entry.name,
                                       keys=lambda: self.keys)
        self.store = VectorStore(None, client=self._client, collection=chunks, embedder_id=embedder_id,
                                 key_for=self.registry.doc_cipher)
        self.keywords = KeywordIndex(folder / "keywords.bin", cipher)

    @classmethod
    def open(cls, root: Path, name: str, *, cipher: Cipher, embedder_id: str) -> SharedLibrary:
        entry = shared_entries(root).get(name)
        if entry is None:
            raise ConfigError(f"'{name}' is not a shared library of this data folder")
        return cls(root, entry, cipher=cipher, embedder_id=embedder_id)

    # -- keys and membership ------------------------------------------------------------------

    def _meta(self) -> dict[str, Any]:
        got = self._members.get(ids=[_META_ID], include=["metadatas"])
        if not got["ids"]:
            raise SanctumError(f"the shared library '{self.name}' is no longer on {self.address.label}")
        return dict(got["metadatas"][0])

    def _current_keys(self) -> LibraryKeys:
        """This member's keys, picking up a re-key from their member record; AccessRevoked if gone."""
        keys = LibraryKeys.loads(self._secret["keys"])
        meta = self._meta()
        record = self._members.get(ids=[_member_id(self.entry.member)], include=["metadatas"])
        if not record["ids"]:
            raise AccessRevoked(f"you are no longer a member of the shared library '{self.name}': its key was "
                                "changed without you. Ask a member to share it with you again.")
        if keys.check != meta.get("check"):
            keys = sharing.open_sealed(str(record["metadatas"][0]["sealed"]), self._secret["private"],
                                       aad=_member_aad(self.name, self.entry.member))
            if keys.check != meta.get("check"):
                raise AccessRevoked(f"the key of the shared library '{self.name}' changed and your copy is old; "
                                    "ask a member to share it with you again")
            self._secret["keys"] = keys.dumps()
            _keyring_set(self.entry.account, self._secret)
        return keys

    def members(self) -> list[str]:
        got = self._members.get(where={"kind": "member"}, include=["metadatas"])
        return sorted(str(m["label"]) for m in got["metadatas"])

    def share(self, label: str | None = None) -> str:
        """Make a one-time invite for a new member; returns the line to hand them."""
        self.keys = self._current_keys()
        label = _label(label or f"member-{secrets.token_hex(2)}")
        if self._members.get(ids=[_member_id(label)])["ids"]:
            raise SanctumError(f"'{label}' is already a member of '{self.name}'; choose another --member name")
        invite_id, secret, salt = secrets.token_hex(8), secrets.token_urlsafe(24), os.urandom(16)
        sealed = sharing.invite_seal(self.keys, secret, salt, aad=_invite_aad(self.name, invite_id))
        self._members.upsert(ids=[f"invite:{invite_id}"], embeddings=[_PLACEHOLDER], metadatas=[
            {"kind": "invite", "label": label, "salt": sharing.b64(salt), "sealed": sealed, "epoch": self.keys.epoch}])
        payload = {"s": self.address.url, "n": self.name, "i": invite_id, "k": secret}
        return INVITE_PREFIX + sharing.b64(json.dumps(payload).encode()).rstrip("=")

    def unshare(self, label: str) -> int:
        """Remove a member (and their pending invites) and re-key; returns the number of documents re-keyed."""
        self.keys = self._current_keys()
        label = _label(label)
        if label == self.entry.member:
            raise SanctumError("you cannot remove yourself; ask another member to do it")
        found = self._members.get(ids=[_member_id(label)])["ids"]
        invites = self._members.get(where={"kind": "invite"}, include=["metadatas"])
        theirs = [i for i, m in zip(invites["ids"], invites["metadatas"], strict=True) if m.get("label") == label]
        if not found and not theirs:
            raise SanctumError(f"'{label}' is not a member of '{self.name}' (members: {', '.join(self.members())})")
        self._members.delete(ids=[*found, *theirs])
        return self.rekey()

    def rekey(self) -> int:
        """Replace the content key: re-seal every member's copy and every document record under the new one.

        Pending invites cannot be re-sealed (their secret is not kept) and are cancelled.
        """
        old, new = self.keys, self.keys.rekeyed()
        members = self._members.get(where={"kind": "member"}, include=["metadatas"])
        for member_id, meta in zip(members["ids"], members["metadatas"], strict=True):
            sealed = sharing.seal_to(new, str(meta["public"]), aad=_member_aad(self.name, str(meta["label"])))
            self._members.upsert(ids=[member_id], embeddings=[_PLACEHOLDER],
                                 metadatas=[{**meta, "sealed": sealed, "epoch": new.epoch}])
        invites = self._members.get(where={"kind": "invite"})["ids"]
        if invites:
            self._members.delete(ids=invites)
        records = self._docs.get(include=["metadatas"])
        for doc_id, meta in zip(records["ids"], records["metadatas"], strict=True):
            key, info = _open_record(old, doc_id, meta)
            self._docs.upsert(ids=[doc_id], embeddings=[_PLACEHOLDER], metadatas=[_record(new, doc_id, key, info)])
        self._members.upsert(ids=[_META_ID], embeddings=[_PLACEHOLDER],
                             metadatas=[{**self._meta(), "check": new.check, "epoch": new.epoch}])
        self.keys = new
        self._secret["keys"] = new.dumps()
        _keyring_set(self.entry.account, self._secret)
        return len(records["ids"])

    # -- documents ----------------------------------------------------------------------------

    def publish(self, doc_id: str) -> None:
        """Publish a document whose chunks are all on the server: from now on every member sees it."""
        doc = self.registry.by_id(doc_id)
        key = self.registry.doc_key(doc_id)
        if doc is None or key is None or doc.status != READY:
            raise SanctumError(f"document {doc_id} is not ready to publish")
        info = {"name": Path(doc.path).name, "title": doc.title, "format": doc.format, "pages": doc.page_count,
                "chunks": doc.chunk_count, "sha": doc.content_hash, "size": doc.size, "embedder": doc.embedder,
                "added": doc.added_at}
        self._docs.upsert(ids=[doc_id], embeddings=[_PLACEHOLDER], metadatas=[_record(self.keys, doc_id, key, info)])

    def published(self) -> dict[str, dict[str, Any]]:
        """``doc_id -> record metadata`` of every published document."""
        out: dict[str, dict[str, Any]] = {}
        total, page = self._docs.count(), 5000
        for offset in range(0, total, page):
            got = self._docs.get(where={"published": True}, include=["metadatas"], limit=page, offset=offset)
            out.update({i: dict(m) for i, m in zip(got["ids"], got["metadatas"], strict=True)})
        return out

    def _published_ids(self) -> set[str]:
        """The ids of every published document (no metadata: a sync before each question stays cheap)."""
        ids: set[str] = set()
        total, page = self._docs.count(), 20000
        for offset in range(0, total, page):
            ids.update(self._docs.get(where={"published": True}, include=[], limit=page, offset=offset)["ids"])
        return ids

    def _records(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 1000):
            got = self._docs.get(ids=ids[start : start + 1000], include=["metadatas"])
            out.update({i: dict(m) for i, m in zip(got["ids"], got["metadatas"], strict=True)})
        return out

    def remove(self, doc_id: str) -> bool:
        """Unpublish a document (first, so nobody finds it half gone), then delete its chunks."""
        known = bool(self._docs.get(ids=[doc_id])["ids"])
        self._docs.delete(ids=[doc_id])
        self.store.delete_document(doc_id)
        self.keywords.remove_document(doc_id)
        self.keywords.save()
        if self.registry.by_id(doc_id) is not None:
            self.registry.delete(doc_id)
            known = True
        return known

    def sync(self) -> SyncResult:
        """Bring the local cache in line with the server: new published documents are added (with
        their key, and their text to the keyword index), documents gone from the server are removed.

        Raises:
            AccessRevoked: This member was removed.
            SanctumError: The server cannot be reached (the local cache is left as it was).
        """
        try:
            return self._sync()
        except SanctumError:
            raise
        except Exception as exc:  # httpx/chromadb errors of a server that stopped answering
            raise SanctumError(f"the library server {self.address.label} did not answer ({exc}); check that it "
                               "runs, then try again") from exc

    def _sync(self) -> SyncResult:
        meta = self._meta()
        if meta.get("check") != self.keys.check:
            self.keys = self._current_keys()
        server = self._published_ids()
        local = {d.doc_id: d for d in self.registry.all()}
        added = removed = waiting = 0
        for doc_id, doc in local.items():
            if doc.status == READY and doc_id not in server:
                self.keywords.remove_document(doc_id)
                self.registry.delete(doc_id)
                removed += 1
        indexed = self.keywords.documents()
        # Records to read: those this member lacks, and those sealed under an older key (published
        # during a re-key), which a member holding the document re-seals.
        new = [d for d in server if not (d in local and local[d].status == READY and d in indexed)]
        stale = self._docs.get(where={"epoch": {"$lt": self.keys.epoch}}, include=[])["ids"]
        for doc_id, record in self._records(sorted(set(new) | set(stale))).items():
            have = local.get(doc_id)
            if int(record.get("epoch", 0)) != self.keys.epoch:
                if int(record.get("epoch", 0)) < self.keys.epoch and have is not None and have.status == READY \
                        and doc_id in indexed:
                    self.publish(doc_id)  # published by this member under the key before a re-key: re-seal it
                else:
                    waiting += 1
                continue
            key, info = _open_record(self.keys, doc_id, record)
            self.registry.put_ready(doc_id, name=str(info.get("name") or "document"), key=key, info=info)
            texts = self.store.texts(doc_id)
            if len(texts) != int(info.get("chunks", 0)):  # cannot happen with records published last
                self.registry.delete(doc_id)
                waiting += 1
                continue
            header = context_header(info.get("title"), Path(str(info.get("name") or "")))
            self.keywords.replace_document(doc_id, texts, header=header, version=str(info.get("sha") or ""))
            added += 1
        self.keywords.save()
        return SyncResult(added, removed, waiting)

    def close(self) -> None:
        self.keywords.save()
        self.registry.close()
        guard = netguard.current()
        if guard is not None:
            guard.forget_server(self.address.host, self.address.port)


def _record(keys: LibraryKeys, doc_id: str, doc_key: bytes, info: dict[str, Any]) -> dict[str, Any]:
    cipher = keys.cipher
    return {
        "published": True,
        "epoch": keys.epoch,
        "key": sharing.b64(cipher.encrypt(doc_key, aad=b"doc-key:" + doc_id.encode())),
        "sealed": sharing.b64(cipher.encrypt(json.dumps(info).encode(), aad=b"doc:" + doc_id.encode())),
    }


def _open_record(keys: LibraryKeys, doc_id: str, meta: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    cipher = keys.cipher
    key = cipher.decrypt(sharing.unb64(str(meta["key"])), aad=b"doc-key:" + doc_id.encode())
    info = json.loads(cipher.decrypt(sharing.unb64(str(meta["sealed"])), aad=b"doc:" + doc_id.encode()))
    return key, dict(info)


def _member_id(label: str) -> str:
    return "member:" + hashlib.sha256(label.encode("utf-8")).hexdigest()[:24]


def _member_aad(name: str, label: str) -> bytes:
    return f"member:{name}:{label}".encode()


def _invite_aad(name: str, invite_id: str) -> bytes:
    return f"invite:{name}:{invite_id}".encode()


def _label(label: str) -> str:
    clean = " ".join(str(label).split())
    if not clean or len(clean) > 80:
        raise SanctumError("a member's name must be 1 to 80 characters long")
    return clean


# -- creating and joining -------------------------------------------------------------------------


def create_shared(root: Path, name: str, server: str, *, cipher: Cipher, embedder_id: str,
                  member: str = "owner") -> SharedLibrary:
    """Create a new shared library on a Chroma server; this data folder becomes its first member."""
    from app.core.storage.registry import _library_name

    name = _library_name(name)
    address = parse_server_url(server)
    entries = shared_entries(root)
    if name in entries:
        raise SanctumError(f"this data folder already has a shared library named '{name}'")
    client = connect(address)
    members = client.get_or_create_collection(_collections(name)[2], embedding_function=None)
    if members.get(ids=[_META_ID])["ids"]:
        raise SanctumError(f"a shared library named '{name}' already exists on {address.label}; ask one of its "
                           "members for an invite (sanctum library share) and join it")
    keys = LibraryKeys.new()
    private, public = sharing.new_member_key()
    member = _label(member)
    members.upsert(ids=[_member_id(member)], embeddings=[_PLACEHOLDER], metadatas=[
        {"kind": "member", "label": member, "public": public, "epoch": keys.epoch,
         "sealed": sharing.seal_to(keys, public, aad=_member_aad(name, member))}])
    members.upsert(ids=[_META_ID], embeddings=[_PLACEHOLDER], metadatas=[
        {"kind": "library", "epoch": keys.epoch, "check": keys.check, "embedder": embedder_id,
         "created": time.time()}])
    return _remember(root, name, address, keys, private, member, cipher, embedder_id, client)


def _remember(root: Path, name: str, address: ServerAddress, keys: LibraryKeys, private: str, member: str,
              cipher: Cipher, embedder_id: str, client: Any) -> SharedLibrary:
    account = f"shared-library-{uuid.uuid4()}"
    _keyring_set(account, {"keys": keys.dumps(), "private": private, "member": member})
    entry = SharedEntry(name=name, server=address.url, account=account, folder=uuid.uuid4().hex[:16], member=member)
    entries = shared_entries(root)
    entries[name] = entry
    _save_entries(root, entries)
    return SharedLibrary(root, entry, cipher=cipher, embedder_id=embedder_id, client=client)


def parse_invite(invite: str) -> dict[str, str]:
    text = invite.strip()
    if not text.startswith(INVITE_PREFIX):
        raise SanctumError(f"this is not a Sanctum invite (it starts with '{INVITE_PREFIX}')")
    body = text[len(INVITE_PREFIX):]
    try:
        data = json.loads(sharing.unb64(body + "=" * (-len(body) % 4)))
        return {k: str(data[k]) for k in ("s", "n", "i", "k")}
    except (ValueError, KeyError, TypeError) as exc:
        raise SanctumError("this invite is damaged: copy the whole line again") from exc


def join_shared(root: Path, invite: str, *, cipher: Cipher, embedder_id: str) -> SharedLibrary:
    """Join a shared library with an invite: this data folder becomes a member and the invite is used up."""
    data = parse_invite(invite)
    name, address = data["n"], parse_server_url(data["s"])
    if name in shared_entries(root):
        raise SanctumError(f"this data folder already has a shared library named '{name}'")
    client = connect(address)
    members = client.get_or_create_collection(_collections(name)[2], embedding_function=None)
    got = members.get(ids=[f"invite:{data['i']}"], include=["metadatas"])
    if not got["ids"]:
        raise SanctumError("this invite was used already or cancelled (a member was removed since): ask for a new one")
    meta = got["metadatas"][0]
    keys = sharing.invite_open(str(meta["sealed"]), data["k"], sharing.unb64(str(meta["salt"])),
                               aad=_invite_aad(name, data["i"]))
    library = members.get(ids=[_META_ID], include=["metadatas"])
    if not library["ids"] or library["metadatas"][0].get("check") != keys.check:
        raise SanctumError("this invite is out of date (the library's key changed since): ask for a new one")
    label = str(meta["label"])
    private, public = sharing.new_member_key()
    members.upsert(ids=[_member_id(label)], embeddings=[_PLACEHOLDER], metadatas=[
        {"kind": "member", "label": label, "public": public, "epoch": keys.epoch,
         "sealed": sharing.seal_to(keys, public, aad=_member_aad(name, label))}])
    members.delete(ids=[f"invite:{data['i']}"])  # used once
    return _remember(root, name, address, keys, private, label, cipher, embedder_id, client)
