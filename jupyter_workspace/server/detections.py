"""What indexing found in files and notes: detected tasks and entity mentions, kept in SQLite.

The sidecar extracts (`sidecar/detect.py`); this stores. A detected task is identified by its
file, tag, text and occurrence (the n-th identical TODO in the file), not by its line, so a
re-scan follows it when lines move, never duplicates it, and marks it resolved (not deleted)
when it is gone. Re-scans only touch the detection's own columns (line, snippet, resolved): the
user's edits (title, priority, due, done) stay. A checkbox ticked in a note is the exception:
when the detected state changes, `done` follows it.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from typing import Any

from .. import protocol
from . import fields
from .assistant import Assistant
from .errors import NotFound
from .events import EventBus
from .store import Store

MAX_TITLE = 500
ENTITY_KINDS_MAX = 64


class Detections:
    def __init__(self, store: Store, bus: EventBus, max_title_chars: int = MAX_TITLE) -> None:
        self.store = store
        self.bus = bus
        self.max_title_chars = max_title_chars

    # -- writing (the indexer) -----------------------------------------------------------------
    async def apply(self, source: str, found: dict[str, Any]) -> dict[str, int]:
        """Store one file's (or note's) detections: `found` is the sidecar's answer for it."""
        tasks = [t for t in found.get("tasks") or [] if isinstance(t, dict)]
        mentions = [m for m in found.get("mentions") or [] if isinstance(m, dict)]

        def write(conn: sqlite3.Connection) -> tuple[dict[str, int], bool]:
            counts = self._apply_tasks(conn, source, tasks)
            changed = _replace_mentions(conn, source, mentions, "rules")
            return counts, changed

        counts, changed = await self.store.run(write)
        self._publish(source, counts, changed, found.get("tasks_total", len(tasks)), len(tasks))
        return counts

    async def forget(self, sources: list[str]) -> None:
        """The files (or notes) left the index: resolve their tasks, drop their mentions."""

        def write(conn: sqlite3.Connection) -> list[tuple[str, dict[str, int], bool]]:
            done = []
            for source in sources:
                counts = self._apply_tasks(conn, source, [])
                changed = _replace_mentions(conn, source, [], None)
                done.append((source, counts, changed))
            return done

        for source, counts, changed in await self.store.run(write):
            self._publish(source, counts, changed, 0, 0)

    def _publish(
        self, source: str, counts: dict[str, int], mentions_changed: bool, total: int, kept: int
    ) -> None:
        if any(counts.values()):
            event = {"type": protocol.TASKS_DETECTED, "path": source, **counts}
            if total > kept:
                event["note"] = f"kept {kept} of {total} tasks found in this file"
            self.bus.publish(event)
        if mentions_changed:
            self.bus.publish({"type": protocol.ENTITIES_CHANGED, "source": source})

    async def apply_scope(
        self, scope: str, tasks: list[dict[str, Any]], resolve_missing: bool
    ) -> dict[str, int]:
        """Tasks found by something other than a file scan (a pipeline's failures): `scope`
        names their finder; each task has its own `path` (or None). Without
        `resolve_missing`, tasks not found this time stay as they are."""
        counts = await self.store.run(
            lambda conn: self._apply_tasks(conn, scope, tasks, resolve_missing)
        )
        if any(counts.values()):
            self.bus.publish({"type": protocol.TASKS_DETECTED, "path": scope, **counts})
        return counts

    def _apply_tasks(
        self,
        conn: sqlite3.Connection,
        scope: str,
        tasks: list[dict[str, Any]],
        resolve_missing: bool = True,
    ) -> dict[str, int]:
        """Make `tasks` what `scope` (a file, a note, a pipeline) has found now."""
        stamp = fields.now()
        existing = {
            row["detected_key"]: row
            for row in conn.execute(
                "SELECT id, detected_key, source_path, source_line, snippet, resolved, "
                "detected_done, done FROM tasks WHERE origin = 'detected' AND scope = ?",
                (scope,),
            )
        }
        source = scope
        counts = {"created": 0, "updated": 0, "resolved": 0}
        seen: Counter[tuple[str, str]] = Counter()
        keys = set()
        for task in tasks:
            tag, text = str(task.get("tag", "TODO"))[:16], str(task.get("text") or "").strip()
            norm = re.sub(r"\s+", " ", text).casefold()
            seen[(tag, norm)] += 1
            path = task.get("path", source)
            key = f"{source}\x1f{path}\x1f{tag}\x1f{norm}\x1f{seen[(tag, norm)]}"
            keys.add(key)
            line = max(1, int(task.get("line") or 1)) if path is not None else None
            snippet = str(task.get("snippet") or "")[:500]
            done = 1 if task.get("done") else 0
            row = existing.get(key)
            if row is None:
                conn.execute(
                    "INSERT INTO tasks(title, done, priority, due, source_path, source_line, "
                    "created, updated, completed, origin, detected_key, scope, tag, owner, "
                    "ref, snippet, detected_done) VALUES (?, ?, 'normal', ?, ?, ?, ?, ?, ?, "
                    "'detected', ?, ?, ?, ?, ?, ?, ?)",
                    (
                        (text or tag)[: self.max_title_chars],
                        done,
                        _iso_date(task.get("due")),
                        path,
                        line,
                        stamp,
                        stamp,
                        stamp if done else None,
                        key,
                        scope,
                        tag,
                        _short(task.get("owner")),
                        _short(task.get("ref")),
                        snippet,
                        done,
                    ),
                )
                counts["created"] += 1
                continue
            changes: dict[str, Any] = {}
            if row["source_line"] != line:
                changes["source_line"] = line
            if row["snippet"] != snippet:
                changes["snippet"] = snippet
            if row["resolved"] is not None:
                changes["resolved"] = None
            if row["detected_done"] != done:  # ticked or unticked in the source: follow it
                changes["detected_done"] = done
                if row["done"] != done:
                    changes["done"] = done
                    changes["completed"] = stamp if done else None
            if changes:
                _update(conn, row["id"], changes, stamp)
                counts["updated"] += 1
        for key, row in existing.items():
            if resolve_missing and key not in keys and row["resolved"] is None:
                _update(conn, row["id"], {"resolved": stamp}, stamp)
                counts["resolved"] += 1
        return counts

    # -- reading (the REST API) ----------------------------------------------------------------
    async def entities(
        self,
        kind: str | None = None,
        q: str | None = None,
        source: str | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        where, params = [], []
        if kind:
            where.append("e.kind = ?")
            params.append(kind)
        if q:
            escaped = q.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append("e.key LIKE ? ESCAPE '\\'")
            params.append(f"{escaped}%")
        if source:
            where.append("e.id IN (SELECT entity_id FROM mentions WHERE source = ?)")
            params.append(source)
        sql = (
            "SELECT e.id, e.kind, e.name, COUNT(*) AS mentions, "
            "COUNT(DISTINCT m.source) AS sources FROM entities e "
            "JOIN mentions m ON m.entity_id = e.id"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " GROUP BY e.id ORDER BY mentions DESC, e.name LIMIT ?"
        )
        return await self.store.run(
            lambda conn: [dict(r) for r in conn.execute(sql, (*params, limit))]
        )

    async def entity(self, entity_id: int) -> dict[str, Any]:
        def read(conn: sqlite3.Connection) -> dict[str, Any]:
            row = conn.execute(
                "SELECT e.id, e.kind, e.name, COUNT(m.entity_id) AS mentions, "
                "COUNT(DISTINCT m.source) AS sources FROM entities e "
                "LEFT JOIN mentions m ON m.entity_id = e.id WHERE e.id = ? GROUP BY e.id",
                (entity_id,),
            ).fetchone()
            if row is None or not row["mentions"]:
                raise NotFound(f"unknown entity id: {entity_id}")
            mentions = [
                dict(r)
                for r in conn.execute(
                    "SELECT source, line, snippet, origin FROM mentions WHERE entity_id = ? "
                    "ORDER BY source, line LIMIT 1000",
                    (entity_id,),
                )
            ]
            sources = sorted({m["source"] for m in mentions})
            note_ids = [
                int(s[len(NOTES) :])
                for s in sources
                if s.startswith(NOTES) and s[len(NOTES) :].isdigit()
            ]
            notes = (
                [
                    dict(r)
                    for r in conn.execute(
                        "SELECT id, title FROM notes WHERE id IN "
                        f"({','.join('?' * len(note_ids))}) ORDER BY id",
                        note_ids,
                    )
                ]
                if note_ids
                else []
            )
            escaped = row["name"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            found = {
                r["id"]: r
                for r in conn.execute(
                    "SELECT * FROM tasks WHERE title LIKE ? ESCAPE '\\' ORDER BY id LIMIT 200",
                    (f"%{escaped}%",),
                )
            }
            for m in mentions:
                for r in conn.execute(
                    "SELECT * FROM tasks WHERE origin = 'detected' AND "
                    "source_path = ? AND source_line = ?",
                    (m["source"], m["line"]),
                ):
                    found[r["id"]] = r
            tasks = [found[i] for i in sorted(found)]
            from .tasks import task_json

            return {
                "entity": dict(row),
                "mentions": mentions,
                "notes": notes,
                "tasks": [task_json(t) for t in tasks],
                "files": [s for s in sources if not s.startswith(NOTES)],
                "paths": workspace_paths(conn, row["name"]) if row["kind"] == "file" else [],
            }

        return await self.store.run(read)

    async def replace_llm_mentions(self, source: str, mentions: list[dict[str, Any]]) -> bool:
        changed = await self.store.run(
            lambda conn: _replace_mentions(conn, source, mentions, "llm")
        )
        if changed:
            self.bus.publish({"type": protocol.ENTITIES_CHANGED, "source": source})
        return changed


NOTES = protocol.NOTES_PREFIX
MAX_PATHS = 20


def workspace_paths(conn: sqlite3.Connection, name: str) -> list[str]:
    """The workspace files a file entity names: a comment or note says `ut_tc_process.c` or
    `../common/mem.h`, the files are `util/src_util/ut_tc_process.c` and `lib/common/mem.h`.
    Matched by whole path components from the end, in the index catalog; shortest first."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    if not parts:
        return []
    tail = "/".join(parts)
    escaped = tail.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return [
        r["path"]
        for r in conn.execute(
            "SELECT path FROM files WHERE state != 'deleting' AND (path = ? OR path LIKE ? "
            "ESCAPE '\\') ORDER BY length(path), path LIMIT ?",
            (tail, f"%/{escaped}", MAX_PATHS),
        )
        if not r["path"].startswith(NOTES)
    ]


def _replace_mentions(
    conn: sqlite3.Connection, source: str, mentions: list[dict[str, Any]], origin: str | None
) -> bool:
    """Make `mentions` the source's mentions of that origin (None: of every origin). Entities
    left without mentions go. True if anything changed."""
    where = "source = ?" + (" AND origin = ?" if origin else "")
    args = (source, origin) if origin else (source,)
    before = {
        (r["entity_id"], r["line"], r["snippet"])
        for r in conn.execute(f"SELECT entity_id, line, snippet FROM mentions WHERE {where}", args)
    }
    after = set()
    for m in mentions:
        kind = str(m.get("kind") or "")[:ENTITY_KINDS_MAX]
        name = re.sub(r"\s+", " ", str(m.get("name") or "")).strip()[:120]
        if not kind or not name:
            continue
        key = name.casefold()
        conn.execute(
            "INSERT INTO entities(kind, name, key) VALUES (?, ?, ?) "
            "ON CONFLICT(kind, key) DO NOTHING",
            (kind, name, key),
        )
        entity_id = conn.execute(
            "SELECT id FROM entities WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()[0]
        after.add((entity_id, max(1, int(m.get("line") or 1)), str(m.get("snippet") or "")[:300]))
    if before == after:
        return False
    conn.execute(f"DELETE FROM mentions WHERE {where}", args)
    conn.executemany(
        "INSERT INTO mentions(entity_id, source, line, snippet, origin) VALUES (?, ?, ?, ?, ?)",
        [(e, source, line, snippet, origin or "rules") for e, line, snippet in sorted(after)],
    )
    gone = {e for e, _, _ in before} - {e for e, _, _ in after}
    if gone:
        conn.execute(
            f"DELETE FROM entities WHERE id IN ({','.join('?' * len(gone))}) AND id "
            "NOT IN (SELECT entity_id FROM mentions)",
            tuple(gone),
        )
    return True


def _update(conn: sqlite3.Connection, task_id: int, changes: dict[str, Any], stamp: str) -> None:
    assignments = ", ".join(f"{name} = ?" for name in changes)
    conn.execute(
        f"UPDATE tasks SET {assignments}, revision = revision + 1, updated = ? WHERE id = ?",
        (*changes.values(), stamp, task_id),
    )


def _iso_date(value: Any) -> str | None:
    try:
        return fields.iso_date(value, "due") if value else None
    except Exception:  # a bad date from the extractor is just no date
        return None


def _short(value: Any) -> str | None:
    return str(value)[:120] if value else None


# -- refinement by the LLM -------------------------------------------------------------------
def note_text(note: dict[str, Any]) -> str:
    """A note as the index reads it (line 1 is its title)."""
    return f"# {note['title']}\n\n{note['body']}"


async def refine_note(
    note: dict[str, Any], assistant: Assistant, detections: Detections
) -> list[dict[str, Any]]:
    """Ask the configured LLM for a note's entities; keep those found in its text."""
    text = note_text(note)
    found = await assistant.find_entities(text)
    lines = text.splitlines()
    mentions = []
    for item in found:
        needle = item["name"].casefold()
        line = next((i for i, t in enumerate(lines, 1) if needle in t.casefold()), None)
        if line is not None:  # grounded in the note, or dropped
            mentions.append({**item, "line": line, "snippet": lines[line - 1].strip()[:200]})
    source = f"{NOTES}{note['id']}"
    await detections.replace_llm_mentions(source, mentions)
    return await detections.entities(source=source)
