"""Periodic copies of the workspace database, and `jupyter workspace restore-backup`.

The coordinator copies `workspace.sqlite` with SQLite's online backup API (a consistent
snapshot that includes what is still in the WAL) every `interval_s` seconds into a backups
folder, keeping the last `keep`. A copy is written under a temporary name, checked with
`PRAGMA integrity_check` and only then renamed, so a failed backup (disk full, a database
locked past the timeout) never replaces or removes an earlier good one, and the server goes on.

While it runs, `start()` writes `<state dir>/server.pid`: the restore command refuses to
replace a database that a live server has open.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
import os
import re
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from traitlets import Bool, Unicode
from traitlets.config import Application

from .tasking import cancel_and_wait

DATABASE_NAME = "workspace.sqlite"  # app.DATABASE_NAME; app.py imports far too much for a CLI
BACKUP_DIR_NAME = "backups"
PID_FILE_NAME = "server.pid"
_PREFIX = "workspace-"
_SUFFIX = ".sqlite"
_STAMP = "%Y%m%d-%H%M%S"
_PARTIAL = re.compile(r"\.partial-(?P<pid>\d+)(?:-journal|-wal|-shm)?$")
_NAME = re.compile(r"workspace-(?P<stamp>\d{8}-\d{6})(?:-(?P<number>\d+))?\.sqlite")


class BackupError(Exception):
    """A backup or a restore that did not happen; the message says why, for a person."""


class DatabaseBackups:
    """Copies the database at `store_path` into `backup_dir` every `interval_s` seconds
    (none if `interval_s <= 0`; the pid file is written all the same)."""

    def __init__(
        self,
        store_path: Path,
        backup_dir: Path,
        interval_s: float = 900,
        keep: int = 4,
        log: logging.Logger | logging.LoggerAdapter[Any] | None = None,
        *,
        pages: int = 256,
        page_pause_s: float = 0.002,
        paged_budget_s: float = 10.0,
        busy_timeout_s: float = 30.0,
    ) -> None:
        self.store_path = Path(store_path)
        self.backup_dir = Path(backup_dir)
        self.interval_s = interval_s
        self.keep = max(1, keep)
        self.log = log or logging.getLogger(__name__)
        self.pages = pages
        self.page_pause_s = page_pause_s
        self.paged_budget_s = paged_budget_s
        self.busy_timeout_s = busy_timeout_s
        self.last_error: str | None = None
        self.last_backup: Path | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def pid_path(self) -> Path:
        return self.store_path.parent / PID_FILE_NAME

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Write the pid file and start the periodic task (on the running event loop)."""
        try:
            self.pid_path.parent.mkdir(parents=True, exist_ok=True)
            self.pid_path.write_text(f"{os.getpid()}\n")
        except OSError as error:
            self.log.error("workspace: could not write %s: %s", self.pid_path, error)
        if self.interval_s > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._every_interval())

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        # Only our own: a second server on the same state dir may have written its pid since.
        with contextlib.suppress(OSError, ValueError):
            if int(self.pid_path.read_text().strip()) == os.getpid():
                self.pid_path.unlink()

    def describe(self) -> dict[str, Any]:
        """For the status endpoint."""
        return {
            "dir": str(self.backup_dir),
            "interval_s": self.interval_s,
            "keep": self.keep,
            "last_backup": str(self.last_backup) if self.last_backup else None,
            "last_error": self.last_error,
        }

    def first_delay(self) -> float:
        """Seconds until the first backup: a server restarted more often than the interval
        would otherwise never take one, so the newest backup's age counts."""
        try:
            newest = Path(self.list()[0]["path"]).stat().st_mtime
        except (IndexError, OSError):
            return self.interval_s
        return min(self.interval_s, max(0.0, newest + self.interval_s - time.time()))

    async def _every_interval(self) -> None:
        await asyncio.sleep(await asyncio.to_thread(self.first_delay))
        while True:
            try:
                await self.backup_now()
            except BackupError:
                pass  # logged by backup_now; try again next time
            except Exception:  # a bug must not end the backups for the server's lifetime
                self.log.exception("workspace: database backup failed")
            await asyncio.sleep(self.interval_s)

    # -- work ----------------------------------------------------------------------------------
    async def backup_now(self) -> Path:
        """Take a backup now (in a thread) and prune old ones; returns the new file. Raises
        BackupError, after logging it, if it failed; earlier backups are left as they were."""
        async with self._lock:  # the timer and a manual call never write at once
            try:
                path = await asyncio.to_thread(self.backup_sync)
            except BackupError as error:
                self.last_error = str(error)
                self.log.error("workspace: database backup failed: %s", error)
                raise
        self.last_error = None
        self.last_backup = path
        self.log.info("workspace: database backed up to %s", path)
        return path

    def backup_sync(self) -> Path:
        """Blocking: copy the database, check the copy, rename it into place, prune."""
        if not self.store_path.is_file():
            raise BackupError(f"no database at {self.store_path}")
        try:
            self.backup_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise BackupError(f"cannot create {self.backup_dir}: {error}") from error
        self._remove_partial_copies()
        final = self._new_name()
        temporary = final.with_name(f".{final.name}.partial-{os.getpid()}")
        try:
            paged = copy_database(
                self.store_path,
                temporary,
                pages=self.pages,
                page_pause_s=self.page_pause_s,
                paged_budget_s=self.paged_budget_s,
                busy_timeout_s=self.busy_timeout_s,
            )
            os.replace(temporary, final)
            _fsync_dir(self.backup_dir)
            if not paged:
                self.log.info(
                    "workspace: the database kept changing for %g s during its paged backup; "
                    "copied it in one step",
                    self.paged_budget_s,
                )
        except (OSError, sqlite3.Error, BackupError) as error:
            for leftover in ("", "-journal", "-wal", "-shm"):
                _remove_quietly(Path(f"{temporary}{leftover}"))
            if isinstance(error, BackupError):
                raise
            raise BackupError(f"copying {self.store_path} to {final}: {error}") from error
        self.prune()
        return final

    def _remove_partial_copies(self) -> None:
        """Delete what a backup killed mid-copy (the server's `kill -9`) left behind."""
        for path in self.backup_dir.glob(f".{_PREFIX}*{_SUFFIX}.partial-*"):
            match = _PARTIAL.search(path.name)
            if match is None:
                continue
            pid = int(match["pid"])
            if pid == os.getpid() or not _alive(pid):
                _remove_quietly(path)

    def _new_name(self) -> Path:
        stamp = datetime.now(UTC).strftime(_STAMP)
        # Two in one second (a manual one next to the timer's) are numbered after every backup
        # of that second, even one pruned since: a name is never reused.
        taken = [entry["number"] for entry in self.list() if entry["stamp"] == stamp]
        if not taken and not (self.backup_dir / f"{_PREFIX}{stamp}{_SUFFIX}").exists():
            return self.backup_dir / f"{_PREFIX}{stamp}{_SUFFIX}"
        return self.backup_dir / f"{_PREFIX}{stamp}-{max(taken, default=1) + 1}{_SUFFIX}"

    def prune(self) -> list[Path]:
        """Delete all but the newest `keep` backups; returns the deleted files."""
        old = [Path(entry["path"]) for entry in self.list()[self.keep :]]
        for path in old:
            try:
                path.unlink()
            except OSError as error:
                self.log.warning("workspace: could not delete old backup %s: %s", path, error)
        return old

    def list(self) -> builtins.list[dict[str, Any]]:
        """The backups, newest first: `{path, name, created, size, ...}` (list_backups)."""
        return list_backups(self.backup_dir)


# -- copying ---------------------------------------------------------------------------------
def copy_database(
    source: Path,
    destination: Path,
    *,
    pages: int = 256,
    page_pause_s: float = 0.002,
    paged_budget_s: float = 10.0,
    busy_timeout_s: float = 30.0,
    journal_mode: str = "DELETE",
) -> bool:
    """Copy the SQLite database `source` into a new file `destination` with the online backup
    API, check it, and fsync it. Blocking. Returns whether the paged copy finished (False: it
    was taken in one step).

    The copy goes `pages` pages at a time with a short pause between steps, so the source's
    lock is held only briefly. A write to the source from another connection restarts a paged
    copy, so under continuous writes it may never end: past `paged_budget_s` the copy is taken
    again in one step (one read transaction; in WAL mode readers never block writers).
    """
    _remove_quietly(destination)
    src = sqlite3.connect(source, timeout=busy_timeout_s, isolation_level=None)
    try:
        dst = sqlite3.connect(destination, isolation_level=None)
        try:
            deadline = time.monotonic() + paged_budget_s
            locked_since: float | None = None

            def watch(status: int, remaining: int, total: int, paged: bool = True) -> None:
                # Python's backup() retries a locked source for ever: bound it here.
                nonlocal locked_since
                now = time.monotonic()
                if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                    locked_since = locked_since or now
                    if now - locked_since > busy_timeout_s:
                        raise BackupError(
                            f"{source} stayed locked for more than {busy_timeout_s:g} s"
                        )
                    return
                locked_since = None
                if paged:
                    if now > deadline:
                        raise _PagedTooLong
                    time.sleep(page_pause_s)

            paged = True

            def watch_one_step(status: int, remaining: int, total: int) -> None:
                watch(status, remaining, total, paged=False)

            try:
                try:
                    src.backup(dst, pages=pages, progress=watch, sleep=0.05)
                except _PagedTooLong:
                    paged = False
                    locked_since = None
                    src.backup(dst, pages=-1, progress=watch_one_step, sleep=0.05)
            except sqlite3.Error as error:  # disk full, I/O error, ...
                raise BackupError(f"copying {source} to {destination}: {error}") from error
            dst.execute(f"PRAGMA journal_mode={journal_mode}")
            problems = [row[0] for row in dst.execute("PRAGMA integrity_check").fetchall()]
            if problems != ["ok"]:
                raise BackupError(
                    f"the copy of {source} fails integrity_check: {'; '.join(problems[:5])}"
                )
        finally:
            dst.close()
    finally:
        src.close()
    with open(destination, "rb+") as handle:
        os.fsync(handle.fileno())
    return paged


class _PagedTooLong(Exception):
    pass


def list_backups(backup_dir: Path) -> list[dict[str, Any]]:
    """The backups in `backup_dir`, newest first: `{path, name, created, size, stamp, number}`
    (`created` is ISO 8601 UTC, from the name the backup was given)."""
    found: list[dict[str, Any]] = []
    try:
        entries = list(Path(backup_dir).iterdir())
    except OSError:
        return []
    for path in entries:
        match = _NAME.fullmatch(path.name)
        if match is None:
            continue
        try:
            created = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
            size = path.stat().st_size
        except (ValueError, OSError):
            continue
        found.append(
            {
                "path": str(path),
                "name": path.name,
                "created": created.isoformat().replace("+00:00", "Z"),
                "size": size,
                "stamp": match["stamp"],
                "number": int(match["number"] or 1),
            }
        )
    found.sort(key=lambda entry: (entry["stamp"], entry["number"]), reverse=True)
    return found


# -- restoring -------------------------------------------------------------------------------
def running_server_pid(state_dir: Path) -> int | None:
    """The pid in `<state_dir>/server.pid` if that process is alive, else None."""
    try:
        pid = int((Path(state_dir) / PID_FILE_NAME).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid > 0 and _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except PermissionError:  # alive, someone else's
        return True
    except OSError:  # ProcessLookupError: gone
        return False
    return True


def restore_backup(state_dir: Path, backup: Path) -> Path | None:
    """Put `backup` in place of `<state_dir>/workspace.sqlite`. The current database, if any,
    is first copied (WAL included) to `workspace.sqlite.before-restore-<time>`, whose path is
    returned. Refuses (BackupError) while a server has the database open."""
    state_dir = Path(state_dir)
    pid = running_server_pid(state_dir)
    if pid is not None:
        raise BackupError(
            f"a Jupyter server (pid {pid}) is using {state_dir}; stop it, then restore "
            f"(if no server runs there, that pid belongs to another program: delete "
            f"{state_dir / PID_FILE_NAME})"
        )
    if not backup.is_file():
        raise BackupError(f"no backup at {backup}")
    target = state_dir / DATABASE_NAME
    stamp = datetime.now(UTC).strftime(_STAMP)
    aside: Path | None = None
    incoming = target.with_name(f".{DATABASE_NAME}.restoring-{os.getpid()}")
    try:
        if target.exists():
            aside = target.with_name(f"{DATABASE_NAME}.before-restore-{stamp}")
            copy_database(target, aside)
        # A complete new file renamed over the old one: no half-restored database, ever.
        copy_database(backup, incoming, journal_mode="WAL")
        for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            _remove_quietly(stale)
        os.replace(incoming, target)
        _fsync_dir(state_dir)
    except (OSError, sqlite3.Error) as error:
        raise BackupError(f"restoring {backup} to {target}: {error}") from error
    finally:
        for leftover in (incoming, Path(f"{incoming}-wal"), Path(f"{incoming}-shm")):
            _remove_quietly(leftover)
    return aside


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _fsync_dir(path: Path) -> None:
    """Make a rename durable (POSIX; Windows has no directory handles)."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- the command -----------------------------------------------------------------------------
class RestoreBackupApp(Application):
    """`jupyter workspace restore-backup [--list] [NAME] [--root PATH] [--state-dir DIR]`."""

    name = "jupyter-workspace-restore-backup"
    description = """List the workspace database's backups, or restore one (NAME, as --list
    shows it; the newest if none is given). Refuses while a server runs on the state dir; the
    current database is kept as workspace.sqlite.before-restore-<time>."""

    list_backups = Bool(False, config=True, help="List the backups instead of restoring one.")
    root = Unicode("", config=True, help="The served root (default: the current folder).")
    state_dir = Unicode(
        "",
        config=True,
        help="""The workspace's state folder (WorkspaceApp.state_dir), relative to --root;
        empty: .jupyter-workspace in the root.""",
    )
    examples = """
    jupyter workspace restore-backup --list
    jupyter workspace restore-backup workspace-20261204-161040.sqlite --root ~/project
    """

    aliases = {"root": "RestoreBackupApp.root", "state-dir": "RestoreBackupApp.state_dir"}
    flags = {
        "list": ({"RestoreBackupApp": {"list_backups": True}}, "List the backups."),
    }

    @property
    def state_path(self) -> Path:
        root = Path(self.root or ".").expanduser().resolve()
        path = Path(self.state_dir or ".jupyter-workspace").expanduser()
        return path if path.is_absolute() else root / path

    @property
    def backup_dir(self) -> Path:
        return self.state_path / BACKUP_DIR_NAME

    def start(self) -> None:
        try:
            self.run()
        except BackupError as error:
            print(f"restore-backup: {error}", file=sys.stderr)
            self.exit(1)

    def run(self) -> None:
        backups = list_backups(self.backup_dir)
        if self.list_backups:
            if not backups:
                print(f"no backups in {self.backup_dir}")
            for entry in backups:
                print(f"{entry['name']}  {entry['created']}  {_size(entry['size'])}")
            return
        if len(self.extra_args) > 1:
            raise BackupError("give one backup NAME (see --list)")
        if not backups:
            raise BackupError(f"no backups in {self.backup_dir}")
        if self.extra_args:
            wanted = Path(self.extra_args[0]).name
            chosen = next((b for b in backups if b["name"] == wanted), None)
            if chosen is None:
                raise BackupError(f"no backup named {wanted} in {self.backup_dir} (see --list)")
        else:
            chosen = backups[0]
        aside = restore_backup(self.state_path, Path(chosen["path"]))
        print(f"restored {chosen['name']} ({chosen['created']}) to {self.state_path}")
        if aside is not None:
            print(f"the database it replaced is kept as {aside}")


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    amount = size / 1024
    for unit in ("KB", "MB"):
        if amount < 1024:
            return f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GB"


# For WorkspaceApp: `subcommands = SUBCOMMANDS` makes `jupyter workspace restore-backup` this
# command (by import string: the server does not import it to start).
SUBCOMMANDS = {
    "restore-backup": (
        "jupyter_workspace.server.backups.RestoreBackupApp",
        "List the workspace database's backups, or restore one (the server must be stopped).",
    )
}


def main_restore(argv: list[str] | None = None) -> None:
    """`python -m jupyter_workspace.server.backups [--list] [NAME] ...`."""
    RestoreBackupApp.launch_instance(argv)


if __name__ == "__main__":
    main_restore()
