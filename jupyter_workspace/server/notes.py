"""Notes: markdown documents kept in the workspace database."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from .. import protocol
from . import fields
from .errors import Conflict, NotFound
from .events import EventBus
from .store import Store

_WORD = re.compile(r"\w+", re.UNICODE)
_FIELDS = {"title", "body", "base_revision"}


def _note(row: sqlite3.Row) -> dict[str, Any]:
    keys = ("id", "title", "body", "revision", "created", "updated", "written_by")
    return {key: row[key] for key in keys}


def fts_query(text: str) -> str | None:
    """Turn what a user types into a safe FTS5 query: every word, as a prefix, all required."""
    words = _WORD.findall(text)
    if not words:
        return None
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words[:32])


class NotesManager:
    def __init__(self, store: Store, bus: EventBus, limits: fields.Limits) -> None:
        self.store = store
        self.bus = bus
        self.limits = limits

    async def list(self, q: str | None = None) -> list[dict[str, Any]]:
        match = fts_query(fields.text(q, "q", max_chars=1000)) if q else None

        def read(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            if match is None:
                rows = conn.execute("SELECT * FROM notes ORDER BY updated DESC, id DESC")
            else:
                rows = conn.execute(
                    "SELECT notes.* FROM notes JOIN notes_fts ON notes_fts.rowid = notes.id "
                    "WHERE notes_fts MATCH ? ORDER BY notes.updated DESC, notes.id DESC",
                    (match,),
                )
            return [_note(row) for row in rows]

        return await self.store.run(read)

    async def get(self, note_id: int) -> dict[str, Any]:
        return await self.store.run(lambda conn: _load(conn, note_id))

    async def create(
        self, data: dict[str, Any], origin: str | None = None, written_by: str | None = None
    ) -> dict[str, Any]:
        """`origin`: the tab or client whose request it is (events carry it back); `written_by`:
        an agent's name ('mcp:<client>'), None for the user."""
        fields.reject_unknown(data, {"title", "body"}, "note")
        title = fields.title(data.get("title", "Untitled"), self.limits)
        body = fields.text(data.get("body", ""), "body")

        def insert(conn: sqlite3.Connection) -> dict[str, Any]:
            stamp = fields.now()
            cursor = conn.execute(
                "INSERT INTO notes(title, body, created, updated, written_by) "
                "VALUES (?, ?, ?, ?, ?)",
                (title, body, stamp, stamp, written_by),
            )
            return _load(conn, cursor.lastrowid)

        note = await self.store.run(insert)
        self.bus.publish({"type": protocol.NOTE_CREATED, "note": note, "origin": origin})
        return note

    async def update(
        self,
        note_id: int,
        data: dict[str, Any],
        origin: str | None = None,
        written_by: str | None = None,
    ) -> dict[str, Any]:
        fields.reject_unknown(data, _FIELDS, "note")
        changes: dict[str, Any] = {}
        if "title" in data:
            changes["title"] = fields.title(data["title"], self.limits)
        if "body" in data:
            changes["body"] = fields.text(data["body"], "body")
        base = data.get("base_revision")
        if base is not None:
            base = fields.integer(base, "base_revision", minimum=1)

        def write(conn: sqlite3.Connection) -> dict[str, Any]:
            current = _load(conn, note_id)
            if base is not None and base != current["revision"]:
                raise Conflict(
                    f"note {note_id} was changed elsewhere (revision {current['revision']}, "
                    f"yours is based on {base})",
                    current=current,
                )
            if not changes:
                return current
            assignments = ", ".join(f"{name} = ?" for name in changes)
            conn.execute(
                f"UPDATE notes SET {assignments}, revision = revision + 1, updated = ?, "
                "written_by = ? WHERE id = ?",
                (*changes.values(), fields.now(), written_by, note_id),
            )
            return _load(conn, note_id)

        note = await self.store.run(write)
        if changes:
            self.bus.publish({"type": protocol.NOTE_UPDATED, "note": note, "origin": origin})
        return note

    async def delete(self, note_id: int, origin: str | None = None) -> None:
        def remove(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM notes WHERE id = ?", (note_id,)).rowcount == 0:
                raise NotFound(f"unknown note id: {note_id}")

        await self.store.run(remove)
        self.bus.publish({"type": protocol.NOTE_DELETED, "id": note_id, "origin": origin})


def _load(conn: sqlite3.Connection, note_id: int | None) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM notes WHERE id = ?", (note_id,)).fetchone()
    if row is None:
        raise NotFound(f"unknown note id: {note_id}")
    return _note(row)
