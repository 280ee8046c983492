"""The index catalog: path → content hash, size, mtime, language, chunks, state.

It is also the indexing queue: rows in state `pending` wait to be (re)indexed, rows in state
`deleting` wait to leave the index. Both survive a crash of the sidecar or of the server, so
indexing resumes where it stopped. An unchanged file (same size and mtime, or same hash) is
never sent to the sidecar again.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from stat import S_ISREG
from typing import Any

from ..languages import EXTENSIONS
from . import fields
from .ignore import IgnoreRules, Level
from .store import Store

BINARY_PROBE = 8192
MAX_REPLACEMENT_SHARE = 0.01  # more undecodable bytes than this: not a text file


@dataclass
class Observed:
    """What the file system says about one path right now."""

    path: str
    size: int | None = None  # None: the file is gone
    mtime: float | None = None
    skip: str | None = None  # why it is not indexed (too large, binary, ...)


@dataclass
class Content:
    path: str
    text: str | None
    hash: str | None
    size: int
    mtime: float
    skip: str | None = None


@dataclass(frozen=True)
class SizeLimit:
    """How large a file may be and still be indexed, in bytes: source code in a language the
    chunker parses gets `source` (an amalgamated `zstd.c` is 2.2 MB, `sqlite3.c` 9 MB, of real
    code), other text `text` (logs and data are rarely worth thousands of chunks)."""

    text: int
    source: int | None = None

    def of(self, rel: str) -> int:
        if self.source is not None and PurePosixPath(rel).suffix.lower() in EXTENSIONS:
            return max(self.source, self.text)
        return self.text


def _limit_of(limit: int | SizeLimit, rel: str) -> int:
    return limit.of(rel) if isinstance(limit, SizeLimit) else limit


def _too_large(limit: int) -> str:
    return f"larger than the {limit // (1024 * 1024)} MB limit"


REFUSED = "cannot read: outside the served root, hidden or secret"


def read_text(
    root: Path, rel: str, max_bytes: int | SizeLimit, rules: IgnoreRules | None = None
) -> Content:
    """Read a file for indexing: confined, bounded, binary-checked, decoded (blocking).

    Confined at read time, not only at scan: a symlink made or changed after the scan must not
    lead out of the root, nor to a file the rules keep out (`notes.txt -> .env`)."""
    max_bytes = _limit_of(max_bytes, rel)
    real = resolve_inside(root, rel, rules)
    if real is None:
        return Content(rel, None, None, 0, 0.0, REFUSED)
    try:
        # the resolved path, not the link: O_NOFOLLOW refuses a last component turned into a
        # link since; O_NONBLOCK keeps a FIFO put there from blocking the read
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            stat = os.fstat(f.fileno())
            if not S_ISREG(stat.st_mode):
                return Content(rel, None, None, 0, 0.0, "cannot read: not a regular file")
            if stat.st_size > max_bytes:
                return Content(rel, None, None, stat.st_size, stat.st_mtime, _too_large(max_bytes))
            data = f.read(max_bytes + 1)
    except OSError as e:
        return Content(rel, None, None, 0, 0.0, f"cannot read: {e.strerror or e}")
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    if b"\x00" in data[:BINARY_PROBE]:
        return Content(rel, None, digest, stat.st_size, stat.st_mtime, "binary file")
    text = data.decode("utf-8", errors="replace")
    if "\ufffd" in text:
        bad = text.count("\ufffd")
        if bad > max(1, len(text) * MAX_REPLACEMENT_SHARE):
            return Content(
                rel,
                None,
                digest,
                stat.st_size,
                stat.st_mtime,
                "not UTF-8 text (too many undecodable bytes)",
            )
    return Content(rel, text, digest, stat.st_size, stat.st_mtime)


def resolve_inside(root: Path, rel: str, rules: IgnoreRules | None) -> Path | None:
    """The real path of the file `rel` names, or None if it (or what it links to) is outside
    the root or kept out by the rules. Compares resolved path components, never prefixes."""
    real_root = root.resolve()
    if rules is not None and rules.ignored(rel):
        return None
    try:
        real = (real_root / rel).resolve(strict=True)
    except (OSError, RuntimeError):  # gone, or a symlink loop
        return None
    if not real.is_relative_to(real_root):
        return None
    target = real.relative_to(real_root).as_posix()
    if rules is not None and target != rel and rules.ignored(target):
        return None
    return real


def scan(root: Path, rules: IgnoreRules, max_bytes: int | SizeLimit) -> dict[str, Observed]:
    """Every indexable file under root with its size and mtime (blocking; no contents read).

    Symlinks to directories are not followed (no loops); a symlinked file counts only if it
    resolves inside the root to a file the rules let through. Walks the tree with `os.scandir`
    carrying each directory's `.gitignore` specs down (`IgnoreRules.descend`), so each
    `.gitignore` is looked at once and each file costs one `stat`; what it keeps is what
    `IgnoreRules.ignored` lets through.
    """
    root = root.resolve()
    seen: dict[str, Observed] = {}
    stack: list[tuple[str, Level]] = [(str(root), rules.top())]
    while stack:
        directory, level = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = list(it)
        except OSError:
            continue
        prefix = f"{level.rel}/" if level.rel else ""
        subdirs: list[tuple[str, str]] = []
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if not entry.is_symlink() and not rules.ignored_in(level, name):
                    subdirs.append((name, entry.path))
                continue
            if rules.ignored_in(level, name):
                continue
            try:
                if entry.is_symlink() and resolve_inside(root, prefix + name, rules) is None:
                    continue
                stat = entry.stat()
            except (OSError, RuntimeError):  # RuntimeError: a symlink loop
                continue
            if not S_ISREG(stat.st_mode):
                continue
            rel = prefix + name
            limit = _limit_of(max_bytes, rel)
            skip = _too_large(limit) if stat.st_size > limit else None
            seen[rel] = Observed(rel, stat.st_size, stat.st_mtime, skip)
        # depth first, sorted (as os.walk with sorted dirnames did)
        for name, path in sorted(subdirs, reverse=True):
            below = rules.descend(level, name)
            if below is not None:
                stack.append((path, below))
    return seen


class Catalog:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def reconcile(self, observed: dict[str, Observed]) -> dict[str, int]:
        """Compare a full scan with the catalog: new/changed → pending, gone → deleting."""

        def write(conn: sqlite3.Connection) -> dict[str, int]:
            known = {
                row["path"]: row
                for row in conn.execute("SELECT path, size, mtime, state FROM files")
            }
            counts = {"new": 0, "changed": 0, "gone": 0, "unchanged": 0}
            for path, seen in observed.items():
                row = known.pop(path, None)
                if seen.skip:
                    conn.execute(
                        "INSERT INTO files(path, size, mtime, state, reason) "
                        "VALUES (?, ?, ?, 'skipped', ?) ON CONFLICT(path) DO UPDATE SET "
                        "size = excluded.size, mtime = excluded.mtime, state = CASE WHEN "
                        "files.chunks > 0 THEN 'deleting' ELSE 'skipped' END, "
                        "reason = excluded.reason",
                        (path, seen.size, seen.mtime, seen.skip),
                    )
                    continue
                if row is None:
                    counts["new"] += 1
                    conn.execute(
                        "INSERT INTO files(path, size, mtime, state) VALUES (?, ?, ?, 'pending')",
                        (path, seen.size, seen.mtime),
                    )
                elif (
                    row["size"] != seen.size
                    or row["mtime"] != seen.mtime
                    or row["state"] == "deleting"
                ):
                    counts["changed"] += 1
                    conn.execute("UPDATE files SET state = 'pending' WHERE path = ?", (path,))
                else:
                    counts["unchanged"] += 1
            for path in known:
                counts["gone"] += 1
                conn.execute("UPDATE files SET state = 'deleting' WHERE path = ?", (path,))
            return counts

        return await self.store.run(write)

    async def mark_changed(self, path: str) -> None:
        await self.store.run(
            lambda conn: conn.execute(
                "INSERT INTO files(path, state) VALUES (?, 'pending') "
                "ON CONFLICT(path) DO UPDATE SET state = 'pending'",
                (path,),
            )
        )

    async def mark_deleted(self, path: str, directory: bool = False) -> int:
        return await self.store.run(lambda conn: _mark_deleted(conn, path, directory))

    async def apply(self, changes: dict[str, str]) -> None:
        """Queue what the watcher saw, in one transaction: path -> "changed", "deleted" or
        "deleted-directory", applied in order (a folder deleted, then a file made in it anew)."""

        def write(conn: sqlite3.Connection) -> None:
            for path, change in changes.items():
                if change == "changed":
                    conn.execute(
                        "INSERT INTO files(path, state) VALUES (?, 'pending') "
                        "ON CONFLICT(path) DO UPDATE SET state = 'pending'",
                        (path,),
                    )
                else:
                    _mark_deleted(conn, path, change == "deleted-directory")

        await self.store.run(write)

    async def fail(self, content: Content, reason: str) -> None:
        """A file the sidecar could not take: `error`, with why, until it changes (its size
        and mtime are recorded, so a rescan leaves it be)."""

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE files SET hash = NULL, size = ?, mtime = ?, state = 'error', "
                "reason = ?, indexed_at = ? WHERE path = ?",
                (content.size, content.mtime, reason, fields.now(), content.path),
            )
            _replace_symbols(conn, content.path, [])

        await self.store.run(write)

    async def mark_deleted_many(self, paths: list[str]) -> None:
        await self.store.run(
            lambda conn: conn.executemany(
                "UPDATE files SET state = 'deleting' WHERE path = ?", [(p,) for p in paths]
            )
        )

    async def take(self, state: str, limit: int) -> list[str]:
        return await self.store.run(
            lambda conn: [
                row[0]
                for row in conn.execute(
                    "SELECT path FROM files WHERE state = ? ORDER BY path LIMIT ?", (state, limit)
                )
            ]
        )

    async def record(self, results: list[dict[str, Any]], contents: dict[str, Content]) -> None:
        """Store what the sidecar did with a batch (and why files were skipped)."""

        def write(conn: sqlite3.Connection) -> None:
            stamp = fields.now()
            for result in results:
                content = contents[result["path"]]
                state = "error" if result.get("error") else "indexed"
                conn.execute(
                    "UPDATE files SET hash = ?, size = ?, mtime = ?, language = ?, chunks = ?, "
                    "state = ?, reason = ?, indexed_at = ?, detail = ? WHERE path = ?",
                    (
                        content.hash,
                        content.size,
                        content.mtime,
                        result.get("language"),
                        result.get("chunks", 0),
                        state,
                        result.get("error"),
                        stamp,
                        _detail(result),
                        result["path"],
                    ),
                )
                _replace_symbols(conn, result["path"], result.get("symbols") or [])

        await self.store.run(write)

    async def unchanged(self, content: Content) -> bool:
        """Same bytes as what was indexed: only refresh size/mtime (no re-embedding)."""

        def check(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "SELECT hash, chunks FROM files WHERE path = ?", (content.path,)
            ).fetchone()
            if row is None or row["hash"] != content.hash or content.hash is None:
                return False
            conn.execute(
                "UPDATE files SET size = ?, mtime = ?, state = 'indexed' WHERE path = ?",
                (content.size, content.mtime, content.path),
            )
            return True

        return await self.store.run(check)

    async def skip(self, content: Content) -> bool:
        """Record why a file is not indexed; True if it had chunks that must now go."""

        def write(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "SELECT chunks FROM files WHERE path = ?", (content.path,)
            ).fetchone()
            had = bool(row and row["chunks"])
            _replace_symbols(conn, content.path, [])
            conn.execute(
                "UPDATE files SET hash = ?, size = ?, mtime = ?, chunks = 0, state = 'skipped', "
                "reason = ?, indexed_at = ? WHERE path = ?",
                (
                    content.hash,
                    content.size,
                    content.mtime,
                    content.skip,
                    fields.now(),
                    content.path,
                ),
            )
            return had

        return await self.store.run(write)

    async def forget(self, paths: list[str]) -> None:
        def write(conn: sqlite3.Connection) -> None:
            gone = [(p,) for p in paths]
            conn.executemany("DELETE FROM files WHERE path = ? AND state = 'deleting'", gone)
            conn.executemany(
                "DELETE FROM symbols WHERE path = ? AND NOT EXISTS "
                "(SELECT 1 FROM files WHERE files.path = symbols.path)",
                gone,
            )

        await self.store.run(write)

    async def requeue_all(self) -> None:
        """Send every file again (the index was rebuilt): forget the hashes too, or an
        unchanged file would count as indexed already."""
        await self.store.run(
            lambda conn: conn.execute(
                "UPDATE files SET state = 'pending', hash = NULL "
                "WHERE state IN ('indexed', 'error')"
            )
        )

    async def summary(self) -> dict[str, int]:
        def read(conn: sqlite3.Connection) -> dict[str, int]:
            counts = {
                row[0]: row[1]
                for row in conn.execute("SELECT state, count(*) FROM files GROUP BY state")
            }
            chunks = conn.execute(
                "SELECT coalesce(sum(chunks), 0) FROM files WHERE state = 'indexed'"
            ).fetchone()[0]
            return {
                "indexed": counts.get("indexed", 0),
                "pending": counts.get("pending", 0),
                "skipped": counts.get("skipped", 0),
                "error": counts.get("error", 0),
                "deleting": counts.get("deleting", 0),
                "chunks": chunks,
            }

        return await self.store.run(read)

    async def meta(self, key: str) -> str | None:
        row = await self.store.run(
            lambda conn: conn.execute(
                "SELECT value FROM index_meta WHERE key = ?", (key,)
            ).fetchone()
        )
        return row[0] if row else None

    async def set_meta(self, key: str, value: str) -> None:
        await self.store.run(
            lambda conn: conn.execute(
                "INSERT INTO index_meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
        )

    async def files(self, state: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        def read(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            sql = "SELECT * FROM files"
            params: tuple[Any, ...] = ()
            if state:
                sql += " WHERE state = ?"
                params = (state,)
            sql += " ORDER BY path LIMIT ?"
            return [dict(row) for row in conn.execute(sql, (*params, limit))]

        return await self.store.run(read)


def _mark_deleted(conn: sqlite3.Connection, path: str, directory: bool) -> int:
    if directory:
        prefix = path.rstrip("/") + "/"
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return conn.execute(
            "UPDATE files SET state = 'deleting' WHERE path LIKE ? ESCAPE '\\'", (escaped + "%",)
        ).rowcount
    return conn.execute("UPDATE files SET state = 'deleting' WHERE path = ?", (path,)).rowcount


def short_name(symbol: str) -> str:
    """`nav.Kalman::gain` → `gain`: the part of a name a user types (and `@mentions`)."""
    return symbol.split(".")[-1].split("::")[-1]


def _replace_symbols(conn: sqlite3.Connection, path: str, symbols: list[list[Any]]) -> None:
    """The file's definitions, as the sidecar reported them: `[name, kind, start, end, cell]`."""
    conn.execute("DELETE FROM symbols WHERE path = ?", (path,))
    rows = []
    for item in symbols:
        match item:  # checked where it enters: a malformed entry is left out, not a failed batch
            case [str(name), str(kind), int(start), int(end), int(cell)] if (
                name and len(name) < 500
            ):
                short = short_name(name).lower()
                rows.append((path, name, short, kind, start, end, None if cell < 0 else cell))
    conn.executemany(
        "INSERT INTO symbols(path, name, short, kind, line, end_line, cell) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def _detail(result: dict[str, Any]) -> str | None:
    """What indexing left out of a file that was indexed (the extractor's caps, its error)."""
    notes = []
    kept, total = len(result.get("tasks") or []), result.get("tasks_total") or 0
    if total > kept:
        notes.append(f"kept {kept} of {total} tasks found in this file")
    if result.get("extract_error"):
        notes.append(f"task and entity extraction failed: {result['extract_error']}")
    return "; ".join(notes) or None
