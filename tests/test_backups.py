"""Periodic copies of the workspace database, and `jupyter workspace restore-backup`."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jupyter_workspace.server.backups import (
    BackupError,
    DatabaseBackups,
    RestoreBackupApp,
    list_backups,
)
from jupyter_workspace.server.events import EventBus
from jupyter_workspace.server.fields import Limits
from jupyter_workspace.server.notes import NotesManager
from jupyter_workspace.server.store import Store


@pytest.fixture
def state(tmp_path):
    """A state dir with an open workspace database; closed at the end."""
    state_dir = tmp_path / ".jupyter-workspace"
    store = Store(state_dir / "workspace.sqlite", synchronous="NORMAL")
    store.open()
    yield state_dir, store, NotesManager(store, EventBus(), Limits())
    store.close()


def note_titles(database: Path) -> list[str]:
    conn = sqlite3.connect(database)
    try:
        return [row[0] for row in conn.execute("SELECT title FROM notes ORDER BY id")]
    finally:
        conn.close()


def integrity(database: Path) -> str:
    conn = sqlite3.connect(database)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def restore(*argv: str) -> None:
    app = RestoreBackupApp()
    app.initialize(list(argv))
    app.run()


async def test_backup_taken_while_writes_go_on_holds_what_was_committed(state):
    state_dir, store, notes = state
    for number in range(200):
        await notes.create({"title": f"before {number}", "body": "x" * 2000})
    backups = DatabaseBackups(store.path, state_dir / "backups")  # the server's settings

    written = 0
    stop = asyncio.Event()

    async def keep_writing() -> None:
        nonlocal written
        while not stop.is_set():
            await notes.create({"title": f"during {written}"})
            written += 1

    writer = asyncio.create_task(keep_writing())
    await asyncio.sleep(0.05)
    path = await backups.backup_now()
    during_backup = written
    await asyncio.sleep(0.05)
    stop.set()
    await writer

    assert path.parent == state_dir / "backups"
    assert path.name.startswith("workspace-") and path.name.endswith(".sqlite")
    assert integrity(path) == "ok"
    titles = note_titles(path)
    assert titles[:200] == [f"before {n}" for n in range(200)]
    assert all(t.startswith("during ") for t in titles[200:])
    # writers went on while the copy was taken, and after it
    assert during_backup > 0 and written > during_backup
    assert [p.name for p in (state_dir / "backups").iterdir()] == [path.name]  # no temp files
    assert backups.list()[0]["path"] == str(path) and backups.list()[0]["size"] > 200 * 2000


async def test_paged_copy_that_keeps_restarting_falls_back_to_one_step(state, caplog):
    state_dir, store, notes = state
    for number in range(100):
        await notes.create({"title": f"n{number}", "body": "y" * 4000})
    # one page per step, slow steps, and a budget far too short: the one-step copy finishes it
    log = logging.getLogger("test-backups")
    backups = DatabaseBackups(
        store.path,
        state_dir / "backups",
        pages=1,
        page_pause_s=0.01,
        paged_budget_s=0.05,
        log=log,
    )
    caplog.set_level(logging.INFO, logger="test-backups")
    stop = asyncio.Event()

    async def keep_writing() -> None:
        while not stop.is_set():
            await notes.create({"title": "during"})

    writer = asyncio.create_task(keep_writing())
    path = await asyncio.wait_for(backups.backup_now(), timeout=30)
    stop.set()
    await writer
    assert integrity(path) == "ok"
    assert note_titles(path)[:100] == [f"n{n}" for n in range(100)]
    assert "copied it in one step" in caplog.text


async def test_keeps_the_newest_k(state):
    state_dir, store, notes = state
    await notes.create({"title": "one"})
    backups = DatabaseBackups(store.path, state_dir / "backups", keep=2)
    made = [await backups.backup_now() for _ in range(4)]
    assert len(set(made)) == 4  # names stay apart within one second
    listed = backups.list()
    assert [entry["path"] for entry in listed] == [str(made[3]), str(made[2])]
    assert sorted(p.name for p in (state_dir / "backups").iterdir()) == sorted(
        p.name for p in made[2:]
    )
    assert all(entry["created"].endswith("Z") for entry in listed)


async def test_a_backup_that_cannot_be_written_leaves_earlier_ones(state, tmp_path):
    """The file-size limit makes every write past 64 KB fail (EFBIG, as a full disk would),
    for root too, in a child process so that the tests' own files are not limited."""
    state_dir, store, notes = state
    for number in range(50):
        await notes.create({"title": f"n{number}", "body": "z" * 4000})
    backups = DatabaseBackups(store.path, state_dir / "backups")
    first = await backups.backup_now()
    before = first.read_bytes()

    script = textwrap.dedent(
        f"""
        import asyncio, logging, resource, signal, sys
        from pathlib import Path
        from jupyter_workspace.server.backups import BackupError, DatabaseBackups
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
        backups = DatabaseBackups(Path({str(store.path)!r}), Path({str(first.parent)!r}))
        try:
            asyncio.run(backups.backup_now())
        except BackupError as error:
            print("raised:", error)
            sys.exit(3)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3, done.stderr
    assert "raised: copying" in done.stdout
    assert "database backup failed" in done.stderr
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no partial file left
    assert first.read_bytes() == before
    # and the server's database goes on working
    await notes.create({"title": "after"})
    assert (await backups.backup_now()).exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
async def test_a_read_only_backup_folder_is_reported(state, caplog):
    state_dir, store, notes = state
    await notes.create({"title": "one"})
    backups = DatabaseBackups(
        store.path, state_dir / "backups", log=logging.getLogger("test-backups")
    )
    first = await backups.backup_now()
    os.chmod(first.parent, 0o555)
    try:
        with pytest.raises(BackupError), caplog.at_level(logging.ERROR):
            await backups.backup_now()
    finally:
        os.chmod(first.parent, 0o755)
    assert "database backup failed" in caplog.text and backups.last_error
    assert [p.name for p in first.parent.iterdir()] == [first.name]


async def test_a_missing_database_is_an_error_not_an_empty_backup(tmp_path):
    backups = DatabaseBackups(tmp_path / "nothing.sqlite", tmp_path / "backups")
    with pytest.raises(BackupError, match="no database"):
        await backups.backup_now()
    assert backups.list() == []


async def test_backups_on_an_interval_until_stopped(state):
    state_dir, store, notes = state
    await notes.create({"title": "one"})
    backups = DatabaseBackups(store.path, state_dir / "backups", interval_s=0.05, keep=10)
    backups.start()
    assert backups.pid_path.read_text().strip() == str(os.getpid())
    for _ in range(100):
        if len(backups.list()) >= 2:
            break
        await asyncio.sleep(0.05)
    await backups.stop()
    count = len(backups.list())
    assert count >= 2
    assert not backups.pid_path.exists()
    await asyncio.sleep(0.2)
    assert len(backups.list()) == count  # nothing more after stop()


async def test_restore_lists_and_restores_into_the_state_dir(state, tmp_path, capsys):
    state_dir, store, notes = state
    root = state_dir.parent
    await notes.create({"title": "kept"})
    backups = DatabaseBackups(store.path, state_dir / "backups")
    older = await backups.backup_now()
    await notes.create({"title": "second"})
    newer = await backups.backup_now()
    await notes.create({"title": "lost after the backup"})
    store.close()

    restore("--list", "--root", str(root))
    listing = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listing] == [newer.name, older.name]
    assert listing[0].split()[1].endswith("Z") and listing[0].endswith("KB")

    restore(older.name, "--root", str(root))
    out = capsys.readouterr().out
    assert f"restored {older.name}" in out and "before-restore-" in out
    database = state_dir / "workspace.sqlite"
    assert note_titles(database) == ["kept"]
    assert integrity(database) == "ok"
    aside = next(state_dir.glob("workspace.sqlite.before-restore-*"))
    assert note_titles(aside) == ["kept", "second", "lost after the backup"]

    # without a name: the newest; the restored database opens and migrates like any other
    restore("--state-dir", str(state_dir))
    assert note_titles(database) == ["kept", "second"]
    reopened = Store(database)
    reopened.open()
    try:
        assert reopened.pragma("journal_mode") == "wal"
    finally:
        reopened.close()


async def test_restore_refuses_while_a_server_runs_on_the_state_dir(state, capsys):
    state_dir, store, notes = state
    await notes.create({"title": "one"})
    backups = DatabaseBackups(store.path, state_dir / "backups", interval_s=0)
    made = await backups.backup_now()
    backups.start()  # this process is the live "server"
    try:
        with pytest.raises(BackupError, match=f"pid {os.getpid()}"):
            restore(made.name, "--state-dir", str(state_dir))
    finally:
        await backups.stop()
    # a pid file left by a process that is gone does not block
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    ).stdout.strip()
    backups.pid_path.write_text(dead)
    store.close()
    restore(made.name, "--state-dir", str(state_dir))
    assert f"restored {made.name}" in capsys.readouterr().out


def test_unknown_name_and_the_module_entry_point(tmp_path):
    state_dir = tmp_path / "state"
    store = Store(state_dir / "workspace.sqlite")
    store.open()
    store.run_sync(
        lambda conn: conn.execute(
            "INSERT INTO notes(title, created, updated) VALUES ('x', 'now', 'now')"
        )
    )
    made = DatabaseBackups(store.path, state_dir / "backups").backup_sync()
    store.close()

    def command(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "jupyter_workspace.server.backups", *argv],
            capture_output=True,
            text=True,
            timeout=60,
        )

    listed = command("--list", "--root", str(tmp_path), "--state-dir", "state")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split()[0] == made.name
    wrong = command("workspace-19990101-000000.sqlite", "--state-dir", str(state_dir))
    assert wrong.returncode == 1 and "no backup named" in wrong.stderr
    empty = command("--list", "--state-dir", str(tmp_path / "elsewhere"))
    assert empty.returncode == 0 and "no backups in" in empty.stdout
    assert list_backups(tmp_path / "elsewhere" / "backups") == []


def test_jupyter_workspace_restore_backup_lists_them(tmp_path):
    """The real command: `jupyter workspace restore-backup --list`."""
    state_dir = tmp_path / ".jupyter-workspace"
    store = Store(state_dir / "workspace.sqlite")
    store.open()
    made = DatabaseBackups(store.path, state_dir / "backups").backup_sync()
    store.close()
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_workspace.server.app", "restore-backup", "--list"]
        + ["--root", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == made.name


async def test_a_database_locked_past_the_timeout_fails_the_backup(tmp_path):
    database = tmp_path / "locked.sqlite"
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("CREATE TABLE t(x)")
    holder.execute("BEGIN EXCLUSIVE")  # rollback-journal mode: no reader gets in
    holder.execute("INSERT INTO t VALUES (1)")
    try:
        backups = DatabaseBackups(database, tmp_path / "backups", busy_timeout_s=0.3)
        with pytest.raises(BackupError, match="locked"):
            await asyncio.wait_for(backups.backup_now(), timeout=20)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [p.name for p in (tmp_path / "backups").iterdir()] == []
    assert (await backups.backup_now()).exists()  # once released, it works


async def test_a_restarted_server_backs_up_when_the_newest_backup_is_old(state):
    state_dir, store, notes = state
    await notes.create({"title": "one"})
    backups = DatabaseBackups(store.path, state_dir / "backups", interval_s=3600, keep=10)
    old = backups.backup_sync()
    assert 3590 < backups.first_delay() <= 3600  # a fresh backup: a whole interval to wait
    hour_ago = old.stat().st_mtime - 3600
    os.utime(old, (hour_ago, hour_ago))
    assert backups.first_delay() == 0
    backups.start()
    try:
        for _ in range(100):
            if len(backups.list()) == 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await backups.stop()
    assert len(backups.list()) == 2
    assert backups.describe()["last_error"] is None
    assert backups.describe()["last_backup"] == backups.list()[0]["path"]


async def test_the_server_backs_up_its_live_database(jp_serverapp, workspace, api):
    """The coordinator's own backups (WorkspaceApp.backup_interval): taken while it writes,
    reported in the status, the pid file naming this server."""
    await jp_serverapp._post_start()  # the extension's start: the backups' timer and pid file
    assert (workspace.state_path / "server.pid").read_text().strip() == str(os.getpid())
    for number in range(5):
        status, _ = await api("POST", "notes", {"title": f"live {number}"})
        assert status == 201
    path = await workspace.backups.backup_now()
    status, _ = await api("POST", "notes", {"title": "after the backup"})
    assert status == 201  # the server goes on writing
    assert note_titles(path) == [f"live {n}" for n in range(5)]
    assert integrity(path) == "ok"
    _, described = await api("GET", "status")
    assert described["backups"]["interval_s"] == 15 * 60


async def test_a_copy_left_half_written_by_a_killed_server_is_cleaned_up(state):
    state_dir, store, notes = state
    await notes.create({"title": "one"})
    backups = DatabaseBackups(store.path, state_dir / "backups")
    first = await backups.backup_now()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    ).stdout.strip()
    left = first.parent / f".workspace-20260101-000000.sqlite.partial-{dead}"
    left.write_bytes(b"half a database")
    Path(f"{left}-journal").write_bytes(b"its journal")
    someone_elses = first.parent / f".workspace-20260101-000000.sqlite.partial-{os.getppid()}"
    someone_elses.write_bytes(b"still being written")
    second = await backups.backup_now()
    assert sorted(p.name for p in first.parent.iterdir()) == sorted(
        [first.name, second.name, someone_elses.name]
    )
    assert [entry["name"] for entry in backups.list()] == [second.name, first.name]
