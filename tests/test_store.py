"""The database: WAL mode, foreign keys, numbered migrations, atomic transactions."""

import sqlite3

import pytest

from jupyter_workspace.server.migrations import MIGRATIONS, SCHEMA_VERSION
from jupyter_workspace.server.store import Store, migrate


def test_fresh_database_is_wal_with_foreign_keys_and_latest_schema(tmp_path):
    store = Store(tmp_path / "state" / "workspace.sqlite")
    assert store.open() == SCHEMA_VERSION
    assert store.pragma("journal_mode") == "wal"
    assert store.pragma("foreign_keys") == 1
    assert store.pragma("user_version") == SCHEMA_VERSION
    store.close()


def test_old_schema_is_migrated_and_keeps_its_data(tmp_path):
    path = tmp_path / "workspace.sqlite"
    old = sqlite3.connect(path, isolation_level=None)
    assert migrate(old, MIGRATIONS[:1]) == 1  # a database written by schema version 1
    old.execute(
        "INSERT INTO notes(title, body, created, updated) "
        "VALUES ('Legacy', 'reaction wheel notes', 't', 't')"
    )
    old.close()

    store = Store(path)
    assert store.open() == SCHEMA_VERSION
    # migration 2 built the full-text index over the notes that were already there
    hits = store.run_sync(
        lambda conn: conn.execute(
            "SELECT notes.title FROM notes JOIN notes_fts ON notes_fts.rowid = notes.id "
            "WHERE notes_fts MATCH 'wheel'"
        ).fetchall()
    )
    assert [h[0] for h in hits] == ["Legacy"]
    store.close()


def test_opening_twice_is_a_no_op(tmp_path):
    path = tmp_path / "workspace.sqlite"
    for _ in range(2):
        store = Store(path)
        assert store.open() == SCHEMA_VERSION
        store.close()


def test_newer_schema_is_refused_with_a_clear_error(tmp_path):
    path = tmp_path / "workspace.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(RuntimeError, match="newer than this jupyter-workspace"):
        Store(path).open()


def test_failing_migration_rolls_back_entirely(tmp_path):
    path = tmp_path / "workspace.sqlite"
    broken = MIGRATIONS + ["CREATE TABLE extra(x INTEGER);\nTHIS IS NOT SQL;"]
    store = Store(path)
    with pytest.raises(sqlite3.OperationalError):
        store.open(broken)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("SELECT name FROM sqlite_master WHERE name='extra'").fetchone() is None


def test_a_failing_transaction_leaves_nothing_behind(tmp_path):
    store = Store(tmp_path / "workspace.sqlite")
    store.open()

    def half_done(conn):
        conn.execute("INSERT INTO tasks(title, created, updated) VALUES ('a', 't', 't')")
        raise ValueError("boom")

    with pytest.raises(ValueError):
        store.run_sync(half_done)
    assert store.run_sync(lambda c: c.execute("SELECT count(*) FROM tasks").fetchone()[0]) == 0
    store.close()


async def test_status_reports_the_database(api, workspace, jp_serverapp):
    await jp_serverapp._post_start()  # what the server's running loop does after start-up
    status, data = await api("GET", "status")
    assert status == 200
    assert data["database"]["journal_mode"] == "wal"
    assert data["database"]["schema_version"] == SCHEMA_VERSION
    assert data["state_dir"].endswith(".jupyter-workspace")
    assert data["database"]["path"].startswith(data["state_dir"])
    assert data["watcher"]["running"] is True


def test_a_failed_commit_is_rolled_back_and_the_next_write_works(tmp_path):
    """A COMMIT that fails (here a deferred foreign key) leaves no transaction open."""
    store = Store(tmp_path / "workspace.sqlite")
    store.open(
        MIGRATIONS
        + [
            "CREATE TABLE parent(id INTEGER PRIMARY KEY);\n"
            "CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id) "
            "DEFERRABLE INITIALLY DEFERRED);"
        ]
    )

    def orphan(conn):
        conn.execute("INSERT INTO tasks(title, created, updated) VALUES ('lost', 't', 't')")
        conn.execute("INSERT INTO child(parent_id) VALUES (42)")  # checked only at COMMIT

    with pytest.raises(sqlite3.IntegrityError):
        store.run_sync(orphan)

    def kept(conn):
        conn.execute("INSERT INTO tasks(title, created, updated) VALUES ('kept', 't', 't')")

    store.run_sync(kept)
    titles = store.run_sync(lambda c: [r[0] for r in c.execute("SELECT title FROM tasks")])
    assert titles == ["kept"]
    assert store.run_sync(lambda c: c.execute("SELECT count(*) FROM child").fetchone()[0]) == 0
    store.close()
