"""The file watcher: watchdog events on the served root, debounced, filtered, put on the bus.

watchdog calls us on its own thread; we only note the path in a set there and wake the event
loop once per batch, so a burst of 20,000 files costs 20,000 set entries, not 20,000 loop
callbacks and timers. On the loop, each path waits until it has been quiet for `debounce`
seconds (an editor's write-rename-chmod burst on one file yields one `file.changed` event), then
is reported to the listeners (the indexer) in one batch and published on the bus in slices.

Nothing is dropped here, and what the kernel drops is recovered: when a burst of more than
`RESCAN_AFTER_EVENTS` events ends (`debounce` seconds without one), the listeners are asked to
rescan, since inotify overflows its queue (16,384 events by default) in such bursts and
watchdog tells no handler when it does. Events of ignored paths count too (`npm install` in an
ignored node_modules/ fills the same kernel queue).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from .. import protocol
from .events import EventBus
from .ignore import IgnoreRules

log = logging.getLogger(__name__)

RESCAN_AFTER_EVENTS = 4096  # a burst this large may have overflowed the kernel's queue
PUBLISH_SLICE = 256  # bus events per loop turn, so in-process bus queues drain between slices


@dataclass
class Settled:
    """Paths quiet for `debounce` seconds, in the order their last event came."""

    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    deleted_folders: list[str] = field(default_factory=list)
    rescan: bool = False  # events may have been missed: look at the whole tree again


Listener = Callable[[Settled], None]


class FileWatcher(FileSystemEventHandler):
    def __init__(
        self, root: Path, rules: IgnoreRules, bus: EventBus, debounce: float = 0.3
    ) -> None:
        self.root = root.resolve()
        self.rules = rules
        self.bus = bus
        self.debounce = debounce
        self._loop: asyncio.AbstractEventLoop | None = None
        self._observer: BaseObserver | None = None
        self._listeners: list[Listener] = []
        # filled on watchdog's thread: absolute path -> whether an event said it is a folder
        self._lock = threading.Lock()
        self._incoming: dict[str, bool] = {}
        self._woken = False
        self._burst = 0  # events since the watcher was last quiet for `debounce` seconds
        self._last_event = 0.0  # time.monotonic(), as the loop's clock
        # on the loop: root-relative path -> (last event time, is a folder), oldest first
        self._pending: dict[str, tuple[float, bool]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._outbox: deque[dict[str, Any]] = deque()
        self._publisher: asyncio.Task[None] | None = None
        self.error: str | None = None

    @property
    def running(self) -> bool:
        return self._observer is not None and self._observer.is_alive()

    def listen(self, listener: Listener) -> None:
        """Call `listener` with every batch of settled paths (on the event loop)."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Start watching; the recursive set-up walks the tree, so it runs off the loop."""
        self._loop = asyncio.get_running_loop()
        try:
            self._observer = await self._loop.run_in_executor(None, self._start_observer)
        except OSError as e:  # e.g. inotify watch limit reached
            self.error = f"file watcher could not start: {e}"
            log.warning(self.error)

    def _start_observer(self) -> BaseObserver:
        observer = Observer()
        observer.schedule(self, str(self.root), recursive=True)
        observer.daemon = True
        observer.start()
        return observer

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending.clear()
        if self._publisher is not None:
            self._publisher.cancel()
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            await asyncio.get_running_loop().run_in_executor(None, observer.join, 5)

    # -- watchdog thread -----------------------------------------------------------------------
    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        paths = [event.src_path]
        if event.event_type == "moved":
            paths.append(event.dest_path)
        with self._lock:
            for path in paths:
                path = os.fsdecode(path)
                self._incoming[path] = self._incoming.get(path, False) or event.is_directory
            self._burst += 1
            self._last_event = time.monotonic()
            if self._woken:
                return
            self._woken = True
        loop.call_soon_threadsafe(self._take_incoming)

    # -- event loop ----------------------------------------------------------------------------
    def _take_incoming(self) -> None:
        with self._lock:
            incoming, self._incoming = self._incoming, {}
            self._woken = False
        now = time.monotonic()
        for path, is_directory in incoming.items():
            try:
                rel = Path(path).relative_to(self.root).as_posix()
            except ValueError:
                continue
            if rel in ("", ".") or self.rules.ignored(rel):
                continue
            previous = self._pending.pop(rel, None)  # re-inserted last: the order stays by time
            self._pending[rel] = (now, is_directory or (previous is not None and previous[1]))
        self._arm()

    def _arm(self) -> None:
        """Settle when the oldest pending path has been quiet long enough, or, with nothing
        pending, when a large burst (of ignored paths' events alone) ends."""
        if self._timer is not None:
            return
        if self._pending:
            at = next(iter(self._pending.values()))[0] + self.debounce
        elif self._burst >= RESCAN_AFTER_EVENTS:
            at = self._last_event + self.debounce
        else:
            return
        assert self._loop is not None
        self._timer = self._loop.call_later(max(at - time.monotonic(), 0.0), self._settle)

    def _settle(self) -> None:
        """Report every path quiet for `debounce` seconds, in one batch."""
        self._timer = None
        now = time.monotonic()
        quiet_since = now - self.debounce
        due: list[tuple[str, bool]] = []
        for rel, (seen, is_directory) in self._pending.items():
            if seen > quiet_since:
                break
            due.append((rel, is_directory))
        for rel, _ in due:
            del self._pending[rel]
        settled = self._classify(due)
        with self._lock:
            burst = self._burst
            ended = now - self._last_event >= self.debounce
            if ended:
                self._burst = 0
        if ended and burst >= RESCAN_AFTER_EVENTS:
            log.info("%d file events in one burst: some may be lost, rescanning", burst)
            settled.rescan = True
        self._arm()
        if not (settled.changed or settled.deleted or settled.deleted_folders or settled.rescan):
            return
        for listener in self._listeners:
            try:
                listener(settled)
            except Exception:  # one listener must not stop the others
                log.exception("file watcher listener failed")
        self._publish(settled)

    def _classify(self, due: list[tuple[str, bool]]) -> Settled:
        settled = Settled()
        for rel, is_directory in due:
            full = self.root / rel
            if full.is_file():
                settled.changed.append(rel)
            elif not full.exists():
                (settled.deleted_folders if is_directory else settled.deleted).append(rel)
            # folders that still exist: their files report for themselves (watchdog reports
            # the files of a folder moved in or renamed, too)
        return settled

    def _publish(self, settled: Settled) -> None:
        self._outbox.extend({"type": protocol.FILE_CHANGED, "path": rel} for rel in settled.changed)
        self._outbox.extend({"type": protocol.FILE_DELETED, "path": rel} for rel in settled.deleted)
        self._outbox.extend(
            {"type": protocol.FILE_DELETED, "path": rel, "directory": True}
            for rel in settled.deleted_folders
        )
        if self._outbox and self._publisher is None:
            self._publisher = asyncio.ensure_future(self._drain_outbox())

    async def _drain_outbox(self) -> None:
        """Publish in slices, yielding between them: the bus's in-process queues (pipelines,
        indexer) are bounded, and their readers empty them whenever the loop turns."""
        try:
            while self._outbox:
                for _ in range(min(PUBLISH_SLICE, len(self._outbox))):
                    self.bus.publish(self._outbox.popleft())
                await asyncio.sleep(0)
        finally:
            self._publisher = None
