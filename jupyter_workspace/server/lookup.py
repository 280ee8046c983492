"""Type-ahead over the workspace: files by path, definitions by name, notes by title.

What the chat's `@` picker and Go to Symbol ask while the user types, so it answers from
SQLite (the index catalog, the definitions the sidecar reported while indexing, the notes),
never from the sidecar: no query is embedded, and it works in degraded mode too.
Candidates come from a prefix range on an index, then (when those are too few) a scan with a
subsequence `LIKE` (`kf` finds `kalman_filter`); they are ranked in Python by how the typed
letters fall on the name. bench/bench_lookup.py measures it on a real corpus.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from .. import protocol
from . import fields
from .errors import BadRequest
from .grounding import MENTION
from .store import Store

MAX_QUERY_CHARS = 200
MAX_K = 50
CANDIDATES = 300  # rows of a prefix range that are ranked
SCANNED = 2000  # rows of a scan that are ranked (unordered: sorting all matches costs more)
TYPES = ("file", "symbol", "note")


def parse(args: dict[str, str | None]) -> tuple[str, tuple[str, ...], int]:
    """(query, types, k) from the URL parameters, or a BadRequest saying what is wrong."""
    q = fields.text(args.get("q") or "", "q", max_chars=MAX_QUERY_CHARS, strip=True)
    types = tuple(dict.fromkeys(t for t in (args.get("types") or ",".join(TYPES)).split(",") if t))
    unknown = [t for t in types if t not in TYPES]
    if unknown or not types:
        raise BadRequest(f"'types' is a comma-separated list of {', '.join(TYPES)}")
    k = fields.whole_number(args.get("k") or None, "k", default=20, minimum=1, maximum=MAX_K)
    return q, types, k


class LookupManager:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def lookup(self, args: dict[str, str | None]) -> dict[str, Any]:
        q, types, k = parse(args)
        started = time.monotonic()
        results = await self.store.run(lambda conn: find(conn, q, types, k))
        return {"results": results, "took_ms": round((time.monotonic() - started) * 1000, 1)}


def find(conn: sqlite3.Connection, q: str, types: tuple[str, ...], k: int) -> list[dict[str, Any]]:
    """The `k` best items of the given types for `q` (blocking: runs on the store's thread)."""
    query = q.lower()
    ranked: list[tuple[float, dict[str, Any]]] = []
    if "file" in types:
        ranked += _files(conn, query)
    if "symbol" in types and query:
        ranked += _symbols(conn, query, k)
    if "note" in types:
        ranked += _notes(conn, query)
    ranked.sort(key=lambda pair: -pair[0])
    return [item for _, item in ranked[:k]]


def score(query: str, whole: str, name: str) -> float | None:
    """How well `query` (lower case) names an item: its `name` (a file's base name, a symbol's
    short name, a note's title) exactly, by its start, at a word's start, inside it; else
    anywhere in `whole` (a path), else as a subsequence. None: no match. Shorter wins ties."""
    if not query:
        return 0.0
    whole, name = whole.lower(), name.lower()
    tie = -len(whole) / 1000
    if name == query:
        return 100 + tie
    if name.startswith(query):
        return 80 + tie
    at = name.find(query)
    if at > 0:
        return (60 if not name[at - 1].isalnum() else 50) + tie
    if query in whole:
        return 40 + tie
    return 20 + tie if _subsequence(query, whole) else None


def _subsequence(query: str, text: str) -> bool:
    it = iter(text)
    return all(ch in it for ch in query)


def _like(query: str) -> str:
    """A LIKE pattern matching the query's letters in order, anything between them."""
    escaped = [ch if ch not in "%_\\" else "\\" + ch for ch in query]
    return "%" + "%".join(escaped) + "%"


def mention(ref: str) -> str | None:
    """`@ref` if the chat's grounding reads it as a mention (grounding.MENTION), else None."""
    text = f"@{ref}"
    return text if MENTION.fullmatch(text) else None


def _file_ref(path: str) -> str | None:
    # a bare name (`Makefile`) would be read as a symbol's: not a file the chat can be given
    return mention(path) if "/" in path or "." in path else None


def _files(conn: sqlite3.Connection, query: str) -> list[tuple[float, dict[str, Any]]]:
    live = "state IN ('indexed', 'pending') AND path NOT LIKE '@%'"
    if query:
        rows = conn.execute(
            f"SELECT path FROM files WHERE {live} AND path LIKE ? ESCAPE '\\' LIMIT ?",
            (_like(query), SCANNED),
        )
    else:  # just `@`: the files indexed last
        rows = conn.execute(
            f"SELECT path FROM files WHERE {live} ORDER BY indexed_at DESC LIMIT 10"
        )
    found = []
    for (path,) in rows:
        rank = score(query, path, path.rsplit("/", 1)[-1])
        if rank is not None:
            found.append((rank, {"type": "file", "path": path, "ref": _file_ref(path)}))
    return found


def _symbols(conn: sqlite3.Connection, query: str, k: int) -> list[tuple[float, dict[str, Any]]]:
    columns = "name, short, kind, path, line, end_line, cell"
    # a file being deleted keeps its rows until the sidecar has dropped it (usually none)
    gone = {row[0] for row in conn.execute("SELECT path FROM files WHERE state = 'deleting'")}
    rows = conn.execute(  # the index's range: a name typed from its start is never cut off
        f"SELECT {columns} FROM symbols WHERE short >= ? AND short < ? ORDER BY short LIMIT ?",
        (query, query + "\uffff", CANDIDATES),
    ).fetchall()
    if sum(row[3] not in gone for row in rows) < k:  # else nothing inside a name ranks higher
        rows += conn.execute(
            f"SELECT {columns} FROM symbols WHERE short LIKE ? ESCAPE '\\' LIMIT ?",
            (_like(query), SCANNED),
        ).fetchall()
    found = []
    seen: set[tuple[str, str, int]] = set()
    for name, short, kind, path, line, end_line, cell in rows:
        if (path, name, line) in seen or path in gone:
            continue
        seen.add((path, name, line))
        rank = score(query, short, short)
        if rank is None:
            continue
        item = {
            "type": "symbol",
            "name": name,
            "kind": kind,
            "path": path,
            "line": line,
            "end_line": end_line,
            "cell": cell,
            "ref": mention(short),
        }
        found.append((rank + 0.5, item))  # a definition before a file of the same name
    return found


def _notes(conn: sqlite3.Connection, query: str) -> list[tuple[float, dict[str, Any]]]:
    if query:
        rows = conn.execute(
            "SELECT id, title FROM notes WHERE title LIKE ? ESCAPE '\\' "
            "ORDER BY updated DESC LIMIT ?",
            (_like(query), CANDIDATES),
        )
    else:
        rows = conn.execute("SELECT id, title FROM notes ORDER BY updated DESC LIMIT 5")
    found = []
    for note_id, title in rows:
        rank = score(query, title, title)
        if rank is not None:
            path = f"{protocol.NOTES_PREFIX}{note_id}"
            item = {"type": "note", "id": note_id, "title": title, "path": path, "ref": path}
            found.append((rank, item))
    return found
