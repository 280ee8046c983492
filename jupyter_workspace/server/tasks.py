"""Tasks: to-dos with priority, due date and an optional link to a file and line."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from .. import protocol
from . import fields
from .errors import BadRequest, Conflict, NotFound
from .events import EventBus
from .paths import confine
from .store import Store

_EDITABLE = {"title", "done", "priority", "due", "source"}
_STATUSES = ("open", "done", "resolved", "all")
_ORIGINS = ("user", "detected")
# A pipeline failure's task carries this tag.
FAILURE_TAG = "BUILD"
# Open before done; a broken build before anything else (it blocks everyone, and a big repo
# has ~100 TODOs it would hide under); then priority, due date (none last), newest first; the
# tasks one scan found at once in the order of their file.
_ORDER = (
    f"ORDER BY done, (origin = 'detected' AND tag = '{FAILURE_TAG}') DESC, "
    "CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 "
    "WHEN 'normal' THEN 2 ELSE 3 END, due IS NULL, due, created DESC, source_path IS NULL, "
    "source_path, source_line, id DESC"
)
MAX_LINE = 10_000_000


def task_json(row: sqlite3.Row) -> dict[str, Any]:
    source = None
    if row["source_path"] is not None:
        source = {"path": row["source_path"], "line": row["source_line"]}
    detected = None
    if row["origin"] == "detected":
        detected = {
            "tag": row["tag"],
            "owner": row["owner"],
            "ref": row["ref"],
            "snippet": row["snippet"],
            "resolved": row["resolved"],
        }
    return {
        "id": row["id"],
        "title": row["title"],
        "done": bool(row["done"]),
        "priority": row["priority"],
        "due": row["due"],
        "source": source,
        "revision": row["revision"],
        "created": row["created"],
        "updated": row["updated"],
        "completed": row["completed"],
        "origin": row["origin"],
        "detected": detected,
        "written_by": row["written_by"],
    }


class TasksManager:
    def __init__(self, store: Store, bus: EventBus, limits: fields.Limits, root: Path) -> None:
        self.store = store
        self.bus = bus
        self.limits = limits
        self.root = root

    def _source(self, value: Any) -> tuple[str | None, int | None]:
        if value is None:
            return None, None
        if not isinstance(value, dict):
            raise BadRequest("'source' must be an object {path, line} or null")
        fields.reject_unknown(value, {"path", "line"}, "task source")
        path = confine(self.root, value.get("path"), "source.path")
        line = value.get("line")
        if line is not None:
            line = fields.integer(line, "source.line", minimum=1, maximum=MAX_LINE)
        return path, line

    def _columns(self, data: dict[str, Any]) -> dict[str, Any]:
        """Validate the editable fields present in `data` into database columns."""
        columns: dict[str, Any] = {}
        if "title" in data:
            columns["title"] = fields.title(data["title"], self.limits)
        if "done" in data:
            columns["done"] = int(fields.boolean(data["done"], "done"))
        if "priority" in data:
            columns["priority"] = fields.choice(data["priority"], "priority", protocol.PRIORITIES)
        if "due" in data:
            columns["due"] = fields.iso_date(data["due"], "due")
        if "source" in data:
            columns["source_path"], columns["source_line"] = self._source(data["source"])
        return columns

    async def list(
        self, status: str = "all", q: str | None = None, origin: str | None = None
    ) -> list[dict[str, Any]]:
        status = fields.choice(status, "status", _STATUSES)
        where, params = [], []
        if status == "open":
            where.append("done = 0 AND resolved IS NULL")
        elif status == "done":
            where.append("done = 1")
        elif status == "resolved":
            where.append("resolved IS NOT NULL")
        if origin is not None:
            where.append("origin = ?")
            params.append(fields.choice(origin, "origin", _ORIGINS))
        if q:
            q = fields.text(q, "q", max_chars=1000)
            escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append("title LIKE ? ESCAPE '\\'")
            params.append(f"%{escaped}%")
        sql = "SELECT * FROM tasks"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " " + _ORDER
        return await self.store.run(lambda conn: [task_json(r) for r in conn.execute(sql, params)])

    async def get(self, task_id: int) -> dict[str, Any]:
        return await self.store.run(lambda conn: _load(conn, task_id))

    async def create(
        self, data: dict[str, Any], origin: str | None = None, written_by: str | None = None
    ) -> dict[str, Any]:
        """`origin`: the tab or client whose request it is (events carry it back); `written_by`:
        an agent's name ('mcp:<client>'), None for the user."""
        fields.reject_unknown(data, _EDITABLE, "task")
        if "title" not in data:
            raise BadRequest("a task needs a 'title'")
        columns = self._columns(data)

        def insert(conn: sqlite3.Connection) -> dict[str, Any]:
            stamp = fields.now()
            row = {**columns, "created": stamp, "updated": stamp, "written_by": written_by}
            if row.get("done"):
                row["completed"] = stamp
            names = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            cursor = conn.execute(
                f"INSERT INTO tasks({names}) VALUES ({marks})", tuple(row.values())
            )
            return _load(conn, cursor.lastrowid)

        task = await self.store.run(insert)
        self.bus.publish({"type": protocol.TASK_CREATED, "task": task, "origin": origin})
        return task

    async def update(
        self,
        task_id: int,
        data: dict[str, Any],
        origin: str | None = None,
        written_by: str | None = None,
    ) -> dict[str, Any]:
        fields.reject_unknown(data, _EDITABLE | {"base_revision"}, "task")
        columns = self._columns(data)
        base = data.get("base_revision")
        if base is not None:
            base = fields.integer(base, "base_revision", minimum=1)

        def write(conn: sqlite3.Connection) -> tuple[dict[str, Any], bool]:
            current = _load(conn, task_id)
            if base is not None and base != current["revision"]:
                raise Conflict(
                    f"task {task_id} was changed elsewhere (revision {current['revision']}, "
                    f"yours is based on {base})",
                    current=current,
                )
            changes = dict(columns)
            if "done" in changes and bool(changes["done"]) != current["done"]:
                changes["completed"] = fields.now() if changes["done"] else None
            if not changes:
                return current, False
            assignments = ", ".join(f"{name} = ?" for name in changes)
            conn.execute(
                f"UPDATE tasks SET {assignments}, revision = revision + 1, updated = ?, "
                "written_by = ? WHERE id = ?",
                (*changes.values(), fields.now(), written_by, task_id),
            )
            return _load(conn, task_id), True

        task, changed = await self.store.run(write)
        if changed:
            self.bus.publish({"type": protocol.TASK_UPDATED, "task": task, "origin": origin})
        return task

    async def delete(self, task_id: int, origin: str | None = None) -> None:
        def remove(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM tasks WHERE id = ?", (task_id,)).rowcount == 0:
                raise NotFound(f"unknown task id: {task_id}")

        await self.store.run(remove)
        self.bus.publish({"type": protocol.TASK_DELETED, "id": task_id, "origin": origin})


def _load(conn: sqlite3.Connection, task_id: int | None) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone()
    if row is None:
        raise NotFound(f"unknown task id: {task_id}")
    return task_json(row)
