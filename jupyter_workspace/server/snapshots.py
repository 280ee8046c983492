"""Snapshots of unsaved work: what an editor holds that is not on disk yet (issue 17).

The browser sends a document's buffer (`PUT snapshots`) shortly after each edit; the newest few
per (document, tab) are kept, compressed, until the document is saved with the same content
(the PUT itself says so, or the file watcher's `file.changed`). A file deleted on disk keeps its
snapshots: they may be all that is left of it.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import hashlib
import json
import logging
import re
import sqlite3
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .. import protocol
from . import fields, paths
from .errors import BadRequest, NotFound, TooLarge, Unavailable
from .events import EventBus
from .ignore import IgnoreRules
from .store import Store

T = TypeVar("T")
log = logging.getLogger(__name__)

KINDS = ("file", "notebook", "note")
_FIELDS = {"path", "kind", "content", "base_hash", "base_mtime", "client"}
_NOTE_PATH = re.compile(r"@notes/([0-9]{1,19})")
_HASH = re.compile(r"[0-9a-f]{64}")
MAX_CLIENT_CHARS = 64
_META = ("id", "path", "kind", "client", "size", "created", "content_hash", "base_hash")
_HASH_CHUNK = 1024 * 1024


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class SnapshotsManager:
    def __init__(
        self,
        store: Store,
        bus: EventBus,
        root: Path,
        rules: IgnoreRules,
        *,
        max_bytes: int = 5 * 1024 * 1024,
        history: int = 5,
        store_bytes: int = 200 * 1024 * 1024,
    ) -> None:
        self.store = store
        self.bus = bus
        self.root = root.resolve()
        self.rules = rules
        self.max_bytes = max_bytes
        self.history = history
        self.store_bytes = store_bytes
        self._events: asyncio.Queue[dict[str, Any]] | None = None
        self._listener: asyncio.Future[None] | None = None

    # -- lifecycle: a saved file or note drops the snapshots it equals ---------------------------
    def start(self) -> None:
        if self._events is None:
            self._events = self.bus.queue()
            self._listener = asyncio.ensure_future(self._listen(self._events))

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._events is not None:
            self.bus.drop_queue(self._events)
            self._events = None

    async def _listen(self, events: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            event = await events.get()
            try:
                if event.get("type") == protocol.FILE_CHANGED and isinstance(
                    event.get("path"), str
                ):
                    await self.saved(event["path"])
                elif event.get("type") == protocol.NOTE_UPDATED:
                    note = event.get("note") or {}
                    await self.saved(f"@notes/{note.get('id')}")
            except Exception:  # one failed event must not stop the listener
                log.warning("snapshots: could not check %s", event.get("path"), exc_info=True)

    async def saved(self, path: str) -> int:
        """The document at `path` was written: drop the snapshots equal to it now."""
        disk = await self._disk(path)
        if not disk["exists"]:
            return 0

        def drop(conn: sqlite3.Connection) -> list[int]:
            rows = conn.execute(
                "SELECT id, kind, client, content, content_hash FROM snapshots WHERE path = ? "
                "ORDER BY id DESC",
                (path,),
            ).fetchall()
            # a tab's version equal to the file, and the older versions of that tab it
            # superseded; a newer version (typed after what was written) stays
            saved_at: dict[str, int] = {}
            for row in rows:
                if row["client"] not in saved_at and _equal_row(row, disk):
                    saved_at[row["client"]] = row["id"]
            ids = [row["id"] for row in rows if row["id"] <= saved_at.get(row["client"], -1)]
            conn.executemany("DELETE FROM snapshots WHERE id = ?", [(i,) for i in ids])
            return ids

        ids = await self._run(drop)
        if ids:
            self._deleted(path, ids, None)
        return len(ids)

    # -- the API ---------------------------------------------------------------------------------
    async def put(self, data: dict[str, Any], origin: str | None = None) -> tuple[int, Any]:
        """Store a buffer; returns (HTTP status, answer)."""
        fields.reject_unknown(data, _FIELDS, "snapshot")
        kind = fields.choice(data.get("kind"), "kind", KINDS)
        path = self._path(data.get("path"), kind)
        content = fields.text(data.get("content"), "content")
        raw = content.encode("utf-8")
        if len(raw) > self.max_bytes:
            raise TooLarge(
                f"the document is {len(raw)} bytes, over the snapshot cap of {self.max_bytes} "
                "bytes (WorkspaceApp.snapshot_max_bytes); it was not snapshotted, and its "
                "previous snapshot is kept",
                cap=self.max_bytes,
            )
        if kind == "notebook":
            _notebook(content)
        base_hash = data.get("base_hash")
        if base_hash is not None and (
            not isinstance(base_hash, str) or not _HASH.fullmatch(base_hash)
        ):
            raise BadRequest("'base_hash' must be a sha256 as 64 lower-case hex digits, or null")
        base_mtime = data.get("base_mtime")
        if base_mtime is not None and (
            isinstance(base_mtime, bool)
            or not isinstance(base_mtime, int | float)
            or not 0 <= base_mtime < 1e13
        ):
            raise BadRequest("'base_mtime' must be a time in seconds since 1970, or null")
        client = data.get("client")
        client = "" if client is None else fields.text(client, "client", max_chars=MAX_CLIENT_CHARS)
        content_hash = sha256(raw)
        disk = await self._disk(path)
        # a notebook is compared as JSON: parse off the loop, and outside the write
        saved = await asyncio.to_thread(_equal, kind, content_hash, content, disk)
        # ~30 ms for a 1 MB notebook: off the event loop, which every request shares
        packed = await asyncio.to_thread(zlib.compress, raw, 6)

        def write(conn: sqlite3.Connection) -> tuple[int, Any, list[int]]:
            # a note: its body now, in this transaction
            is_saved = _note_disk(conn, path)["hash"] == content_hash if kind == "note" else saved
            if is_saved:
                dropped = _ids(conn, "path = ? AND client = ?", (path, client))
                conn.execute("DELETE FROM snapshots WHERE path = ? AND client = ?", (path, client))
                return 200, {"saved": True, "deleted": len(dropped)}, dropped
            newest = conn.execute(
                "SELECT content_hash FROM snapshots WHERE path = ? AND client = ? "
                "ORDER BY id DESC LIMIT 1",
                (path, client),
            ).fetchone()
            if newest is not None and newest[0] == content_hash:
                return 200, {"unchanged": True}, []
            cursor = conn.execute(
                "INSERT INTO snapshots(path, kind, client, content, content_hash, size, "
                "base_hash, base_mtime, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    path,
                    kind,
                    client,
                    packed,
                    content_hash,
                    len(raw),
                    base_hash,
                    base_mtime,
                    fields.now(),
                ),
            )
            new_id = int(cursor.lastrowid or 0)
            dropped = _ids(
                conn,
                "path = ? AND client = ? AND id NOT IN (SELECT id FROM snapshots "
                "WHERE path = ? AND client = ? ORDER BY id DESC LIMIT ?)",
                (path, client, path, client, self.history),
            )
            conn.executemany("DELETE FROM snapshots WHERE id = ?", [(i,) for i in dropped])
            for other, ids in self._over_store_cap(conn, new_id).items():
                conn.executemany("DELETE FROM snapshots WHERE id = ?", [(i,) for i in ids])
                elsewhere[other] = ids
            row = conn.execute("SELECT * FROM snapshots WHERE id = ?", (new_id,)).fetchone()
            return 201, _meta(row), dropped

        elsewhere: dict[str, builtins.list[int]] = {}
        status, answer, dropped = await self._run(write)
        if dropped:
            self._deleted(path, dropped, origin)
        for other, ids in elsewhere.items():
            self._deleted(other, ids, origin)
        if status == 201:
            self.bus.publish(
                {"type": protocol.SNAPSHOT_SAVED, "snapshot": answer, "origin": origin}
            )
        return status, answer

    async def list(self, raw_path: str | None = None) -> list[dict[str, Any]]:
        """The newest snapshot of each (document, tab), with the document's disk state now."""
        path = None if raw_path is None else self._any_path(raw_path)

        def read(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            where = "" if path is None else "WHERE path = ?"
            return conn.execute(
                "SELECT * FROM snapshots WHERE id IN "
                f"(SELECT MAX(id) FROM snapshots {where} GROUP BY path, client) "
                "ORDER BY created DESC, id DESC",
                () if path is None else (path,),
            ).fetchall()

        rows = await self._run(read)
        disks: dict[str, dict[str, Any]] = {}
        answer = []
        for row in rows:
            if row["path"] not in disks:
                disks[row["path"]] = await self._disk_state(row["path"])
            view = await asyncio.to_thread(_disk_view, row, disks[row["path"]])
            answer.append({**_meta(row), "live": self.bus.is_live(row["client"]), "disk": view})
        return answer

    async def get(self, snapshot_id: int) -> dict[str, Any]:
        row = await self._run(lambda conn: _load(conn, snapshot_id))
        disk = await self._disk_state(row["path"], text=True)
        view = await asyncio.to_thread(_disk_view, row, disk)
        content = await asyncio.to_thread(_unpack, row["content"])
        return {**_meta(row), "content": content, "disk": {**view, "text": disk.get("text")}}

    async def delete(self, snapshot_id: int, origin: str | None = None) -> None:
        """Discard a snapshot and the older versions of the same document from the same tab
        (what the list showed as one recoverable document; a newer one is kept)."""

        def remove(conn: sqlite3.Connection) -> tuple[str, list[int]]:
            row = _load(conn, snapshot_id)
            where = "path = ? AND client = ? AND id <= ?"
            params = (row["path"], row["client"], snapshot_id)
            ids = _ids(conn, where, params)
            conn.execute(f"DELETE FROM snapshots WHERE {where}", params)
            return str(row["path"]), ids

        path, ids = await self._run(remove)
        self._deleted(path, ids, origin)

    async def delete_path(self, raw_path: Any, origin: str | None = None) -> int:
        path = self._any_path(raw_path)

        def remove(conn: sqlite3.Connection) -> list[int]:
            ids = _ids(conn, "path = ?", (path,))
            conn.execute("DELETE FROM snapshots WHERE path = ?", (path,))
            return ids

        ids = await self._run(remove)
        if ids:
            self._deleted(path, ids, origin)
        return len(ids)

    # -- helpers ---------------------------------------------------------------------------------
    def _path(self, raw: Any, kind: str) -> str:
        """A document's path as stored: confined, not hidden or secret, matching its kind."""
        if kind == "note":
            if not isinstance(raw, str) or not _NOTE_PATH.fullmatch(raw):
                raise BadRequest("a note draft's 'path' must be @notes/<note id>")
            return raw
        if isinstance(raw, str) and raw.startswith("@notes/"):
            raise BadRequest("'path' @notes/<id> is for kind 'note'")
        path = paths.confine(self.root, raw)
        if (self.root / path).is_dir():
            raise BadRequest(f"{path} is a folder, not a document")
        if self.rules.private(path):
            raise BadRequest(f"{path} is not snapshotted: hidden and secret files never are")
        return path

    def _any_path(self, raw: Any) -> str:
        if isinstance(raw, str) and _NOTE_PATH.fullmatch(raw):
            return raw
        return paths.confine(self.root, raw)

    def _over_store_cap(self, conn: sqlite3.Connection, keep: int) -> dict[str, builtins.list[int]]:
        """The snapshots beyond the whole-store cap (stored, compressed bytes), by path: older
        versions first, oldest first; a document's newest version only when no history is left
        (a low cap must not cost a still unsaved document its only copy to keep another's
        history)."""
        total = conn.execute("SELECT COALESCE(SUM(length(content)), 0) FROM snapshots")
        left = total.fetchone()[0]
        dropped: dict[str, list[int]] = {}
        if left <= self.store_bytes:
            return dropped
        for row in conn.execute(
            "SELECT id, path, length(content) FROM snapshots ORDER BY "
            "id IN (SELECT MAX(id) FROM snapshots GROUP BY path, client), id"
        ):
            if left <= self.store_bytes:
                break
            if row[0] == keep:
                continue
            dropped.setdefault(row[1], []).append(row[0])
            left -= row[2]
        return dropped

    async def _disk(self, path: str) -> dict[str, Any]:
        """{exists, hash, mtime, bytes (when small enough)} of a file, read off the loop."""
        if path.startswith("@notes/"):
            if path.startswith("@notes/") and _NOTE_PATH.fullmatch(path):
                return await self._run(lambda conn: _note_disk(conn, path))
            return {"exists": False, "hash": None, "mtime": None}
        return await asyncio.to_thread(_file_disk, self.root / path, self.max_bytes)

    async def _disk_state(self, path: str, text: bool = False) -> dict[str, Any]:
        disk = await self._disk(path)
        if text:
            data = disk.get("bytes")
            try:
                disk["text"] = None if data is None else data.decode("utf-8")
            except UnicodeDecodeError:
                disk["text"] = None
        return disk

    def _deleted(self, path: str, ids: builtins.list[int], origin: str | None) -> None:
        self.bus.publish(
            {"type": protocol.SNAPSHOT_DELETED, "path": path, "ids": ids, "origin": origin}
        )

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Store.run, with a full disk or a locked database said as a 503 the client can act on
        (the server keeps working; the browser keeps the buffer and tries again)."""
        try:
            return await self.store.run(fn)
        except sqlite3.OperationalError as e:
            message = str(e).lower()
            if "full" in message:
                raise Unavailable(
                    "the disk holding the workspace database is full: the snapshot was not "
                    "stored; free some space"
                ) from None
            if "locked" in message or "busy" in message:
                raise Unavailable(
                    "the workspace database is locked by another process: try again"
                ) from None
            raise


def _notebook(content: str) -> None:
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):
        raise BadRequest("a notebook's 'content' must be the notebook as JSON text") from None
    if not isinstance(data, dict):
        raise BadRequest("a notebook's 'content' must be a JSON object")


def _file_disk(file: Path, max_bytes: int) -> dict[str, Any]:
    try:
        stat = file.stat()
        if not file.is_file():
            return {"exists": False, "hash": None, "mtime": None}
        digest = hashlib.sha256()
        kept = bytearray()
        with file.open("rb") as f:
            while chunk := f.read(_HASH_CHUNK):
                digest.update(chunk)
                if len(kept) <= max_bytes:
                    kept += chunk
    except OSError:
        return {"exists": False, "hash": None, "mtime": None}
    return {
        "exists": True,
        "hash": digest.hexdigest(),
        "mtime": stat.st_mtime,
        "bytes": bytes(kept) if len(kept) <= max_bytes else None,
    }


def _note_disk(conn: sqlite3.Connection, path: str) -> dict[str, Any]:
    """A note's stored body stands for 'the file on disk' of its draft."""
    match = _NOTE_PATH.fullmatch(path)
    row = None
    if match and int(match[1]) <= fields.MAX_ID:
        row = conn.execute("SELECT body FROM notes WHERE id = ?", (int(match[1]),)).fetchone()
    if row is None:
        return {"exists": False, "hash": None, "mtime": None}
    data = row[0].encode("utf-8")
    return {"exists": True, "hash": sha256(data), "mtime": None, "bytes": data}


def _equal(kind: str, content_hash: str, content: str, disk: dict[str, Any]) -> bool:
    """The buffer equals what is on disk: byte for byte, or, for a notebook, as JSON (the
    browser serialises a notebook differently from nbformat's writer), less what JupyterLab
    changes by itself when it opens one (a kernel's language_info, cell ids)."""
    if not disk["exists"]:
        return False
    if disk["hash"] == content_hash:
        return True
    if kind != "notebook" or disk.get("bytes") is None:
        return False
    try:
        return _notebook_work(json.loads(content)) == _notebook_work(json.loads(disk["bytes"]))
    except (ValueError, RecursionError):
        return False


# What opening a notebook changes without the user: the kernel's language_info and kernelspec
# (written when a kernel starts), cell ids and nbformat_minor (added by an upgrade on load).
_NOTEBOOK_NOISE = ("language_info", "kernelspec")


def _notebook_work(data: Any) -> Any:
    """A notebook without what JupyterLab changes by itself: equal means nothing to recover."""
    if not isinstance(data, dict):
        return data
    metadata = data.get("metadata")
    cells = data.get("cells")
    return {
        **{k: v for k, v in data.items() if k not in ("metadata", "cells", "nbformat_minor")},
        "metadata": {k: v for k, v in metadata.items() if k not in _NOTEBOOK_NOISE}
        if isinstance(metadata, dict)
        else metadata,
        "cells": [
            {k: v for k, v in cell.items() if k != "id"} if isinstance(cell, dict) else cell
            for cell in cells
        ]
        if isinstance(cells, list)
        else cells,
    }


def _equal_row(row: sqlite3.Row, disk: dict[str, Any]) -> bool:
    if row["content_hash"] == disk["hash"]:
        return True
    if row["kind"] != "notebook":
        return False
    return _equal("notebook", row["content_hash"], _unpack(row["content"]), disk)


def _disk_view(row: sqlite3.Row, disk: dict[str, Any]) -> dict[str, Any]:
    return {
        "exists": disk["exists"],
        "hash": disk["hash"],
        "mtime": disk["mtime"],
        "changed_since_base": row["base_hash"] is not None and disk["hash"] != row["base_hash"],
        "same_as_disk": _equal_row(row, disk) if disk["exists"] else False,
    }


def _meta(row: sqlite3.Row) -> dict[str, Any]:
    meta = {key: row[key] for key in _META}
    meta["base_mtime"] = row["base_mtime"]
    return meta


def _unpack(blob: bytes) -> str:
    return zlib.decompress(blob).decode("utf-8")


def _ids(conn: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> list[int]:
    return [row[0] for row in conn.execute(f"SELECT id FROM snapshots WHERE {where}", params)]


def _load(conn: sqlite3.Connection, snapshot_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM snapshots WHERE id = ?", (snapshot_id,)).fetchone()
    if row is None:
        raise NotFound(f"unknown snapshot id: {snapshot_id}")
    return row
