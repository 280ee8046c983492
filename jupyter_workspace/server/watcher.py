"""The file watcher: watchdog events on the served root, debounced, filtered, put on the bus.

watchdog calls us on its own thread; we hop to the event loop at once and debounce there, so
an editor's write-rename-chmod burst on one file yields one `file.changed` event.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from .. import protocol
from .events import EventBus
from .ignore import IgnoreRules

log = logging.getLogger(__name__)


class FileWatcher(FileSystemEventHandler):
    def __init__(
        self, root: Path, rules: IgnoreRules, bus: EventBus, debounce: float = 0.3
    ) -> None:
        self.root = root.resolve()
        self.rules = rules
        self.bus = bus
        self.debounce = debounce
        self._loop: asyncio.AbstractEventLoop | None = None
        self._observer: Observer | None = None
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self.error: str | None = None

    @property
    def running(self) -> bool:
        return self._observer is not None and self._observer.is_alive()

    async def start(self) -> None:
        """Start watching; the recursive set-up walks the tree, so it runs off the loop."""
        self._loop = asyncio.get_running_loop()
        try:
            self._observer = await self._loop.run_in_executor(None, self._start_observer)
        except OSError as e:  # e.g. inotify watch limit reached
            self.error = f"file watcher could not start: {e}"
            log.warning(self.error)

    def _start_observer(self) -> Observer:
        observer = Observer()
        observer.schedule(self, str(self.root), recursive=True)
        observer.daemon = True
        observer.start()
        return observer

    async def stop(self) -> None:
        for handle in self._pending.values():
            handle.cancel()
        self._pending.clear()
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            await asyncio.get_running_loop().run_in_executor(None, observer.join, 5)

    # -- watchdog thread -----------------------------------------------------------------------
    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        paths = [event.src_path]
        if event.event_type == "moved":
            paths.append(event.dest_path)
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        for path in paths:
            path = os.fsdecode(path)
            loop.call_soon_threadsafe(self._schedule, path, event.is_directory)

    # -- event loop ----------------------------------------------------------------------------
    def _schedule(self, path: str, is_directory: bool) -> None:
        try:
            rel = Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return
        if rel in ("", ".") or self.rules.ignored(rel):
            return
        previous = self._pending.pop(rel, None)
        if previous is not None:
            previous.cancel()
        assert self._loop is not None
        self._pending[rel] = self._loop.call_later(
            self.debounce, self._settle, rel, is_directory
        )

    def _settle(self, rel: str, is_directory: bool) -> None:
        self._pending.pop(rel, None)
        full = self.root / rel
        if full.is_file():
            self.bus.publish({"type": protocol.FILE_CHANGED, "path": rel})
        elif not full.exists():
            event = {"type": protocol.FILE_DELETED, "path": rel}
            if is_directory:
                event["directory"] = True
            self.bus.publish(event)
        # directories that still exist: their files report for themselves
