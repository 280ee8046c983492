"""`WorkspaceApp`: the coordinator, loaded into the Jupyter server as an ExtensionApp.

`jupyter workspace [PATH]` launches JupyterLab on PATH with the workspace loaded; installed
with pip, the extension is also enabled in any `jupyter lab` / `jupyter server`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Enum, Float, Int, Unicode, default

from .. import __version__
from . import handlers
from .events import EventBus
from .fields import Limits
from .ignore import IgnoreRules
from .notes import NotesManager
from .store import Store
from .tasks import TasksManager
from .watcher import FileWatcher

DATABASE_NAME = "workspace.sqlite"


class WorkspaceApp(ExtensionApp):
    name = "jupyter_workspace"
    description = "An AI-augmented engineering workspace inside JupyterLab."
    app_version = __version__
    version = __version__
    extension_url = "/lab"
    load_other_extensions = True

    state_dir = Unicode(
        "",
        config=True,
        help="""Folder for the workspace's state (the SQLite database, later the index).
        Relative paths are taken from the served root. Default: .jupyter-workspace in the
        served root.""",
    )
    max_body_bytes = Int(
        1024 * 1024, config=True, help="Largest request body the API accepts, in bytes."
    )
    max_title_chars = Int(200, config=True, help="Longest note or task title, in characters.")
    watch_files = Bool(
        True, config=True, help="Watch the served root for file changes (file.* events)."
    )
    watch_debounce = Float(
        0.3, config=True, help="Seconds a file must stay quiet before its change is reported."
    )
    sqlite_synchronous = Enum(
        ["FULL", "NORMAL"],
        "FULL",
        config=True,
        help="""SQLite `synchronous` in WAL mode. FULL survives power loss; NORMAL is faster
        but may lose the last commits on power loss (never on a process crash).""",
    )

    @default("default_url")
    def _default_url_default(self) -> str:
        return "/lab"

    # -- set-up --------------------------------------------------------------------------------
    @property
    def root_dir(self) -> Path:
        return Path(self.serverapp.root_dir).expanduser().resolve()

    @property
    def state_path(self) -> Path:
        path = Path(self.state_dir or ".jupyter-workspace").expanduser()
        return path if path.is_absolute() else self.root_dir / path

    def initialize_settings(self) -> None:
        self.limits = Limits(max_body_bytes=self.max_body_bytes,
                             max_title_chars=self.max_title_chars)
        self.bus = EventBus()
        self.store = Store(self.state_path / DATABASE_NAME, synchronous=self.sqlite_synchronous)
        self.schema_version = self.store.open()
        self.notes = NotesManager(self.store, self.bus, self.limits)
        self.tasks = TasksManager(self.store, self.bus, self.limits, self.root_dir)
        self.rules = IgnoreRules(self.root_dir, self.state_path)
        self.watcher = FileWatcher(self.root_dir, self.rules, self.bus, self.watch_debounce)
        self.log.info("jupyter-workspace %s: state in %s", __version__, self.state_path)

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers.default_handlers)

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        if self.watch_files:
            await self.watcher.start()

    async def stop_extension(self) -> None:
        await self.watcher.stop()
        self.store.close()

    # -- status --------------------------------------------------------------------------------
    async def status(self) -> dict[str, Any]:
        journal_mode = await self.store.run(
            lambda conn: conn.execute("PRAGMA journal_mode").fetchone()[0]
        )
        return {
            "version": __version__,
            "root_dir": str(self.root_dir),
            "state_dir": str(self.state_path),
            "database": {
                "path": str(self.store.path),
                "schema_version": self.schema_version,
                "journal_mode": journal_mode,
            },
            "watcher": {"running": self.watcher.running, "error": self.watcher.error},
            "clients": self.bus.client_count,
            "limits": {
                "max_body_bytes": self.limits.max_body_bytes,
                "max_title_chars": self.limits.max_title_chars,
            },
        }


def main() -> None:
    """`jupyter workspace [PATH]`: JupyterLab on PATH with the workspace loaded."""
    WorkspaceApp.launch_instance()


if __name__ == "__main__":
    main()
