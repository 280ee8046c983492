"""The workspace database: one SQLite file in WAL mode, worked by one thread.

Every statement runs on a single dedicated thread (the datasette shape): the event loop never
blocks on disk, and writes never contend with each other. Callers hand a function of the
connection to `Store.run` and await its result; the function runs inside one transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from .migrations import MIGRATIONS

T = TypeVar("T")


class Store:
    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        self.path = Path(path)
        self.synchronous = synchronous
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workspace-db")
        self._conn: sqlite3.Connection | None = None
        self._thread_id: int | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def open(self, migrations: list[str] = MIGRATIONS) -> int:
        """Open (creating if needed) and migrate; returns the schema version. Blocking."""
        return self._executor.submit(self._open, migrations).result()

    def _open(self, migrations: list[str]) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        self._conn = conn
        self._thread_id = threading.get_ident()
        return migrate(conn, migrations)

    def close(self) -> None:
        if self._conn is not None:
            self._executor.submit(self._close).result()
        self._executor.shutdown(wait=True)

    def _close(self) -> None:
        assert self._conn is not None
        self._conn.close()
        self._conn = None

    # -- work ----------------------------------------------------------------------------------
    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(conn)` in one transaction on the database thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._transaction, fn)

    def run_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Blocking variant for start-up code and scripts (never call it on the event loop)."""
        return self._executor.submit(self._transaction, fn).result()

    def _transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn
        if conn is None:
            raise RuntimeError("the workspace database is closed")
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise
        return result

    def pragma(self, name: str) -> object:
        return self.run_sync(lambda conn: conn.execute(f"PRAGMA {name}").fetchone()[0])


def migrate(conn: sqlite3.Connection, migrations: list[str] = MIGRATIONS) -> int:
    """Apply the migrations newer than the database's `user_version`, each atomically."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(migrations):
        raise RuntimeError(
            f"the workspace database has schema version {version}, newer than this "
            f"jupyter-workspace knows ({len(migrations)}); upgrade jupyter-workspace"
        )
    for number, script in enumerate(migrations[version:], start=version + 1):
        # executescript would commit on its own; run statements inside one transaction.
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number}")
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise
    return len(migrations)


def _rollback(conn: sqlite3.Connection) -> None:
    """End a failed transaction. A failed COMMIT (a deferred constraint, a busy or full disk)
    leaves it open, and every later BEGIN would then fail; some errors have rolled it back
    already, and a second ROLLBACK would hide the error that matters."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (triggers contain `;` inside BEGIN…END)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
