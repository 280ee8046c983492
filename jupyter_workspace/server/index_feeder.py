"""The indexer: keeps the sidecar's index in step with the served folder.

Scans (at start-up, after a burst of events that may have lost some, and after a quiet
`rescan_interval`) and the watcher's batches update the catalog (the durable queue); this loop
sends pending files to the sidecar in batches bounded by their encoded size, records the
outcome, removes deleted files, and publishes `index.progress` events. If the sidecar goes away
it waits and resumes: nothing is lost, since the queue lives in SQLite. One file never stalls
the queue: after a failed batch its files go alone, and a file in `MAX_ATTEMPTS` failed batches
is marked `error` and left until it changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

from .. import protocol
from .catalog import Catalog, Content, Observed, SizeLimit, read_text, scan
from .detections import Detections, note_text
from .errors import NotFound
from .events import EventBus
from .ignore import IgnoreRules
from .notes import NotesManager
from .sidecar_client import SidecarGone, SidecarRefused
from .supervisor import Supervisor
from .tasking import cancel_and_wait
from .watcher import Settled

log = logging.getLogger(__name__)

NOTES_PREFIX = protocol.NOTES_PREFIX  # the workspace's own notes are indexed as `@notes/<id>`
BATCH_FILES = 16
BATCH_BYTES = 512 * 1024  # of JSON: control characters grow sixfold when encoded
# the largest file the sidecar can take, as JSON, with room for the batch around it
MAX_ITEM_BYTES = protocol.SIDECAR_MAX_BODY - 64 * 1024
MAX_ATTEMPTS = 3  # failed batches a file may be in before it is marked `error`
# Seconds a note's change waits for more autosaves before it is queued: the index then writes
# each edited note once, with its last text (a write per autosave made a table version each).
NOTE_SETTLE = 1.0


class Indexer:
    def __init__(
        self,
        root: Path,
        rules: IgnoreRules,
        catalog: Catalog,
        bus: EventBus,
        supervisor: Supervisor,
        max_file_bytes: int | SizeLimit,
        logger: logging.Logger | None = None,
        notes: NotesManager | None = None,
        extracted: Detections | None = None,
        rescan_interval: float = 0.0,
    ) -> None:
        self.notes = notes
        self.extracted = extracted
        self.root = root.resolve()
        self.rules = rules
        self.catalog = catalog
        self.bus = bus
        self.supervisor = supervisor
        self.max_file_bytes = max_file_bytes
        self.rescan_interval = rescan_interval  # seconds; 0: only at start and after bursts
        self.log = logger or log
        # starting | waiting | scanning | indexing | embedding | idle | failed
        self.state = "starting"
        self.error: str | None = None
        self.model_id: str | None = None
        self._index_id: str | None = None  # the index the catalog was filled for
        self._rebuilt_for: int | None = None  # the sidecar pid whose rebuild was handled
        self.rate = 0.0  # chunks/s of the last batch
        # chunks written without vectors yet (the sidecar embeds them behind); -1: ask it
        self.vectors_pending = -1
        # a shared base index under the sidecar's local one: its URI, commit and chunks, and
        # the overlay's counts, as the sidecar last told them (None: no base)
        self.base: dict[str, Any] | None = None
        self.scanned = asyncio.Event()  # the first scan is in the catalog
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._events: asyncio.Queue[dict[str, Any]] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._last_progress = 0.0
        self._dirty = False  # written to the index since its last optimize
        # the watcher's changes not yet in the catalog, path -> change, latest last
        self._changes: dict[str, str] = {}
        self._changes_ready = asyncio.Event()
        self._recorder: asyncio.Task[None] | None = None
        self._catalog_lock = asyncio.Lock()  # a scan and the watcher's changes take turns
        self._rescan = False
        self._failures: dict[str, int] = {}  # path -> failed batches it was in
        self._notes_changed: set[str] = set()  # notes edited within the last NOTE_SETTLE s
        self._notes_timer: asyncio.TimerHandle | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self._events = self.bus.queue()
        self._listener = asyncio.ensure_future(self._listen())
        self._recorder = asyncio.ensure_future(self._record())
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        for task in (self._task, self._listener, self._recorder):
            await cancel_and_wait(task)
        if self._notes_timer is not None:
            self._notes_timer.cancel()
        if self._events is not None:
            self.bus.drop_queue(self._events)

    async def status(self) -> dict[str, Any]:
        summary = await self.catalog.summary()
        total = summary["indexed"] + summary["pending"] + summary["error"]
        return {
            "state": self.state,
            "error": self.error,
            "model_id": self.model_id,
            "files_total": total,
            "files_indexed": summary["indexed"],
            "files_pending": summary["pending"],
            "files_skipped": summary["skipped"],
            "files_error": summary["error"],
            "files_deleting": summary["deleting"],
            "chunks": summary["chunks"],
            "chunks_per_s": round(self.rate, 1),
            "vectors_pending": max(self.vectors_pending, 0),
            **({"base": self.base} if self.base is not None else {}),
        }

    # -- changes from the watcher --------------------------------------------------------------
    def files_settled(self, settled: Settled) -> None:
        """The watcher's batch, coalesced by path (no queue to overflow: the latest change of
        each path wins), written to the catalog by `_record`."""
        for change, paths in (
            ("deleted-directory", settled.deleted_folders),
            ("deleted", settled.deleted),
            ("changed", settled.changed),
        ):
            for path in paths:
                self._changes.pop(path, None)  # re-inserted last: applied after older changes
                self._changes[path] = change
        if settled.rescan:
            self._rescan = True
            self._wake.set()
        if self._changes:
            self._changes_ready.set()

    async def _record(self) -> None:
        while True:
            await self._changes_ready.wait()
            async with self._catalog_lock:  # not mid-scan: a change is newer than its view
                self._changes_ready.clear()
                changes, self._changes = self._changes, {}
                try:
                    await self.catalog.apply(changes)
                except Exception:  # a rescan finds them again
                    self.log.exception("index: cannot queue %d changed files", len(changes))
                    self._rescan = True
            self._wake.set()

    # -- events from the bus -------------------------------------------------------------------
    async def _listen(self) -> None:
        assert self._events is not None
        while True:
            event = await self._events.get()
            kind = event.get("type")
            try:
                if kind in (protocol.NOTE_CREATED, protocol.NOTE_UPDATED):
                    self._note_changed(f"{NOTES_PREFIX}{event['note']['id']}")
                    continue
                elif kind == protocol.NOTE_DELETED:
                    self._notes_changed.discard(f"{NOTES_PREFIX}{event['id']}")
                    await self.catalog.mark_deleted(f"{NOTES_PREFIX}{event['id']}")
                elif kind == protocol.SIDECAR_STATE:
                    # a new sidecar may have rebuilt its index: the loop looks (_check_index)
                    if event.get("sidecar", {}).get("state") != "ready":
                        continue
                else:
                    continue
            except Exception:  # a bad event never stops the listener
                self.log.exception("index: cannot queue %s", event)
                continue
            self._wake.set()

    def _note_changed(self, path: str) -> None:
        """Queue a note's change with the others made within `NOTE_SETTLE` s (through the
        watcher's `_changes`). Nothing is lost if the server stops meanwhile: the start-up scan
        compares each note's revision with the catalog."""
        self._notes_changed.add(path)
        if self._notes_timer is None:
            self._notes_timer = asyncio.get_running_loop().call_later(
                NOTE_SETTLE, self._notes_settled
            )

    def _notes_settled(self) -> None:
        self._notes_timer = None
        for path in self._notes_changed:
            self._changes.pop(path, None)
            self._changes[path] = "changed"
        self._notes_changed.clear()
        self._changes_ready.set()

    # -- the loop ------------------------------------------------------------------------------
    async def _set(self, state: str, force: bool = False) -> None:
        changed = state != self.state
        self.state = state
        now = time.monotonic()
        if changed or force or now - self._last_progress >= 0.5:
            self._last_progress = now
            self.bus.publish({"type": protocol.INDEX_PROGRESS, **(await self.status())})

    async def _run(self) -> None:
        scanned = False
        while True:
            try:
                if not scanned:  # before the sidecar is up: search reads pending files
                    await self._scan(first=True)
                    scanned = True
                    self.scanned.set()
                client = await self._sidecar()
                if self._rescan:
                    await self._scan(first=False)
                worked = await self._delete_batch(client) or await self._index_batch(client)
                if worked:
                    self._dirty = True
                    continue
                if self._dirty:  # the queue just emptied: compact the index's new fragments
                    await client.call("POST", "/index/optimize", {}, timeout=600)
                    self._dirty = False
                if await self._embedding(client):
                    continue
                await self._set("idle", force=self.state != "idle")
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.rescan_interval or None)
                except TimeoutError:
                    self._rescan = True  # quiet for a while: look for what no event told
            except (SidecarGone, SidecarRefused) as e:
                self.error = str(e)
                self.vectors_pending = -1
                await self._set("waiting")
                await asyncio.sleep(1.0)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # keep indexing alive, say what happened
                self.log.exception("index loop failed")
                self.error = f"{type(e).__name__}: {e}"
                await self._set("failed")
                await asyncio.sleep(5.0)

    async def _scan(self, first: bool) -> None:
        """Compare the tree with the catalog. Cheap when little changed (one `stat` per file,
        one catalog read); the watcher's changes wait meanwhile, since they are newer."""
        self._rescan = False
        if first:
            await self._set("scanning")
        async with self._catalog_lock:
            observed = await asyncio.get_running_loop().run_in_executor(
                None, scan, self.root, self.rules, self.max_file_bytes
            )
            observed.update(await self._observe_notes())
            counts = await self.catalog.reconcile(observed)
        if first or counts["new"] or counts["changed"] or counts["gone"]:
            self.log.info("index scan: %s", counts)

    async def _embedding(self, client: Any) -> bool:
        """While the sidecar still embeds chunks written text-first: say so, look again in a
        second (or at once when a file changes). False once every chunk has its vector."""
        if not self.vectors_pending:
            return False
        stats = await client.call("GET", "/index")
        self.vectors_pending = int(stats.get("vectors_pending") or 0)
        if not self.vectors_pending:
            return False
        await self._set("embedding")
        self._wake.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), 1.0)
        return True

    async def _observe_notes(self) -> dict[str, Observed]:
        """Notes take part in the scan like files: the revision stands in for the mtime."""
        if self.notes is None:
            return {}
        return {
            f"{NOTES_PREFIX}{n['id']}": Observed(
                f"{NOTES_PREFIX}{n['id']}", len(n["body"]), float(n["revision"])
            )
            for n in await self.notes.list()
        }

    async def _read_note(self, path: str) -> Content:
        try:
            note = await self.notes.get(int(path[len(NOTES_PREFIX) :])) if self.notes else None
        except (NotFound, ValueError):
            note = None
        if note is None:
            return Content(path, None, None, 0, 0.0, "cannot read: the note was deleted")
        text = note_text(note)
        digest = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
        return Content(path, text, digest, len(note["body"]), float(note["revision"]))

    async def _sidecar(self) -> Any:
        """The sidecar client once its index is loaded; checks the model it was built with."""
        while True:
            client = self.supervisor.client
            if self.supervisor.state == "ready" and client is not None:
                health = await client.health()
                index = health.get("index", {})
                if index.get("state") == "ready":
                    self.base = index.get("base")
                    await self._check_index(index, self.supervisor.pid)
                    self.error = None
                    return client
                if index.get("state") in ("failed", "off"):
                    self.error = index.get("error") or "the index is switched off"
                    await self._set("failed")
            await self._set("waiting")
            await asyncio.sleep(0.5)

    async def _check_index(self, index: dict[str, Any], pid: int | None) -> None:
        """Send every file again when the index the sidecar opened is not the one the catalog
        was filled for: another embedding model or index format (`index_id`), or a table the
        sidecar had to drop and start afresh (`rebuilt`, once per sidecar process)."""
        self.model_id = index.get("model_id") or self.model_id
        identity = index.get("index_id") or index.get("model_id")
        if identity is not None and identity != self._index_id:
            previous = await self.catalog.meta("index_id")
            if previous != identity:
                self.log.info(
                    "index changed (%s -> %s): re-indexing every file", previous, identity
                )
                await self.catalog.requeue_all()
                await self.catalog.set_meta("index_id", identity)
            self._index_id = identity
        if index.get("rebuilt") and pid != self._rebuilt_for:
            self._rebuilt_for = pid
            self.log.info("the sidecar rebuilt the index: re-indexing every file")
            await self.catalog.requeue_all()

    async def _delete_batch(self, client: Any) -> bool:
        paths = await self.catalog.take("deleting", 500)
        if not paths:
            return False
        await client.call("POST", "/index/delete", {"paths": paths})
        if self.extracted is not None:
            await self.extracted.forget(paths)
        await self.catalog.forget(paths)
        await self._set(self.state)
        return True

    async def _index_batch(self, client: Any) -> bool:
        paths = await self.catalog.take("pending", BATCH_FILES)
        if not paths:
            return False
        await self._set("indexing")
        contents: dict[str, Content] = {}
        to_send: list[dict[str, Any]] = []
        gone: list[str] = []
        size = 0
        for path in paths:
            content = await self._read(path)
            if content.text is None and content.skip and content.skip.startswith("cannot read"):
                gone.append(path)  # deleted since it was queued, or no longer ours to read
                continue
            if content.skip:
                if await self.catalog.skip(content):
                    gone.append(path)
                continue
            if await self.catalog.unchanged(content):
                continue
            item = {"path": path, "text": content.text}
            if path.startswith(NOTES_PREFIX):
                item["language"] = "markdown"
            encoded = _encoded_size(item)
            if encoded > MAX_ITEM_BYTES:
                await self._give_up(
                    content,
                    f"{encoded // (1024 * 1024)} MB as JSON, more than "
                    "the AI sidecar takes in one request",
                )
                continue
            suspect = path in self._failures  # in a failed batch: goes alone
            if to_send and (suspect or size + encoded > BATCH_BYTES):
                break  # the rest stays pending for the next batch
            contents[path] = content
            to_send.append(item)
            size += encoded
            if suspect:
                break
        if gone:
            await self.catalog.mark_deleted_many(gone)
        if to_send:
            answer = await self._send(client, to_send, contents)
            await self.catalog.record(answer["files"], contents)
            if self.extracted is not None:
                for result in answer["files"]:
                    if not result.get("error") and "tasks" in result:
                        await self.extracted.apply(result["path"], result)
        await self._set("indexing")
        return True

    async def _read(self, path: str) -> Content:
        if path.startswith(NOTES_PREFIX):
            return await self._read_note(path)
        return await asyncio.get_running_loop().run_in_executor(
            None, read_text, self.root, path, self.max_file_bytes, self.rules
        )

    async def _send(
        self, client: Any, files: list[dict[str, Any]], contents: dict[str, Content]
    ) -> dict[str, Any]:
        """POST a batch; when it fails, count it against each of its files (the sidecar may
        have cut the connection over one of them), and give up on a file after MAX_ATTEMPTS."""
        started = time.monotonic()
        try:
            answer = await client.call("POST", "/index/files", {"files": files})
        except (SidecarGone, SidecarRefused) as e:
            if not (isinstance(e, SidecarRefused) and e.status == 503):  # 503: not ready yet
                for item in files:
                    path = item["path"]
                    self._failures[path] = self._failures.get(path, 0) + 1
                    if self._failures[path] >= MAX_ATTEMPTS:
                        await self._give_up(
                            contents[path], f"indexing failed {MAX_ATTEMPTS} times, the last: {e}"
                        )
            raise
        for item in files:
            self._failures.pop(item["path"], None)
        elapsed = max(time.monotonic() - started, 1e-6)
        self.rate = answer.get("chunks", 0) / elapsed
        self.vectors_pending = int(answer.get("vectors_pending") or 0)
        self.base = answer.get("base", self.base)
        return answer

    async def _give_up(self, content: Content, reason: str) -> None:
        """Mark a file `error` (until it changes) so that the files after it go on."""
        self._failures.pop(content.path, None)
        self.log.warning("index: %s not indexed: %s", content.path, reason)
        await self.catalog.fail(content, reason)


def _encoded_size(item: dict[str, Any]) -> int:
    """Bytes of `item` in the request body, encoded as the sidecar client encodes it."""
    return len(json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode())
