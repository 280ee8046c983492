"""The sidecar's HTTP server: loopback only, every request checked for the launch token."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tornado import web
from tornado.iostream import StreamClosedError

from .. import __version__, protocol
from . import code_context, llm
from .index_service import IndexService, ModelLoading

log = logging.getLogger(__name__)

MAX_BODY = protocol.SIDECAR_MAX_BODY


class SidecarState:
    """What the handlers share: the token, the start time, and the loading of heavy modules."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.started = time.monotonic()
        self.versions: dict[str, str] = {
            "jupyter_workspace": __version__,
            "python": platform.python_version(),
        }
        self.loaded: asyncio.Future[None] | None = None
        self.load_error: str | None = None
        # The index opens first, the embedding model and litellm load meanwhile.
        self.index = IndexService.from_environment()
        self.index_loaded: asyncio.Future[None] | None = None
        self.model_loaded: asyncio.Future[None] | None = None
        self.index_error: str | None = None
        self.index_info: dict[str, Any] = {}
        # one writer thread (indexing), one reader thread (search): searches never wait for a
        # whole indexing batch
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="index-writer")
        self.reader = ThreadPoolExecutor(1, thread_name_prefix="index-reader")

    async def load(self) -> None:
        """Import the heavy modules off the loop; the server answers /health meanwhile."""
        loop = asyncio.get_running_loop()
        if self.index_loaded is not None:  # the index opens first: a first search waits less
            await asyncio.wait([self.index_loaded])
        try:
            self.versions["litellm"] = await loop.run_in_executor(None, llm.load)
        except Exception as e:
            self.load_error = llm.mask_keys(f"cannot load litellm: {e}")
            raise

    async def load_index(self) -> None:
        """Open the index, then load its embedding model: the index is `ready` (full-text
        search, writes) as soon as it is open; vectors follow once the model has loaded
        (`vectors` in /health: loading, ready, failed). Neither waits for litellm."""
        if self.index is None:
            return
        loop = asyncio.get_running_loop()
        try:
            early = await loop.run_in_executor(self.writer, self.index.open_early)
        except Exception as e:  # chat keeps working without the index
            self.index_error = llm.mask_keys(f"cannot open the index: {type(e).__name__}: {e}")
            raise
        if early is not None:
            self.index_info = early
            self.model_loaded = asyncio.ensure_future(self._load_model(fatal=False))
            return
        await self._load_model(fatal=True)

    async def _load_model(self, fatal: bool) -> None:
        """Load the embedding model (its own thread: the writer keeps indexing text). Fatal
        when the index could not open without it; else search stays by words only."""
        assert self.index is not None
        try:
            self.index_info = await asyncio.get_running_loop().run_in_executor(
                None, self.index.load_model
            )
        except Exception as e:
            # a remote embedding provider's error may echo the key it was sent
            error = llm.mask_keys(f"cannot load the embedding model: {type(e).__name__}: {e}")
            if fatal:
                self.index_error = error
                raise
            log.error("%s (search stays by words only)", error)
            self.index_info = {**self.index_info, "vectors": "failed", "vectors_error": error}

    @property
    def index_state(self) -> str:
        if self.index is None:
            return "off"
        if self.index_loaded is None or not self.index_loaded.done():
            return "loading"
        return "failed" if self.index_error else "ready"

    @property
    def state(self) -> str:
        if self.loaded is None or not self.loaded.done():
            return "loading"
        return "failed" if self.load_error else "ready"


class SidecarHandler(web.RequestHandler):
    state: SidecarState

    def initialize(self, state: SidecarState) -> None:
        self.state = state

    def prepare(self) -> None:
        given = self.request.headers.get("Authorization", "").encode()
        expected = f"Bearer {self.state.token}".encode()
        if not hmac.compare_digest(given, expected):
            self.set_status(401)
            self.finish({"error": "missing or wrong bearer token"})
            return
        if len(self.request.body or b"") > MAX_BODY:
            self.set_status(413)
            self.finish({"error": "request too large"})

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self._reason = llm.mask_keys(self._reason)  # the status line's reason and the body
        self.finish({"error": self._reason})

    def json_body(self) -> dict[str, Any]:
        try:
            data = json.loads(self.request.body or b"")
        except ValueError:
            raise web.HTTPError(400, reason="body is not JSON") from None
        if not isinstance(data, dict):
            raise web.HTTPError(400, reason="body must be a JSON object")
        return data


class HealthHandler(SidecarHandler):
    def get(self) -> None:
        self.finish(
            {
                "state": self.state.state,
                "error": self.state.load_error,
                "pid": os.getpid(),
                "uptime": round(time.monotonic() - self.state.started, 3),
                "versions": self.state.versions,
                "models": {
                    "llm": "litellm" in self.state.versions,
                    "embedding": self.state.index_info.get("model_id"),
                },
                "index": {
                    "state": self.state.index_state,
                    "error": self.state.index_error,
                    **self.state.index_info,
                    **self._base(),
                },
            }
        )

    def _base(self) -> dict[str, Any]:
        """The base index and the overlay as they are now (their counts move with edits)."""
        index = self.state.index
        base = index.base_status() if index is not None else None
        return {"base": base} if base is not None else {}


class ChatHandler(SidecarHandler):
    """POST /chat: the answer as Server-Sent Events; a closed connection cancels the request."""

    _task: asyncio.Task[None] | None = None

    async def post(self) -> None:
        request = self.json_body()
        messages = request.get("messages")
        if not isinstance(request.get("model"), str) or not isinstance(messages, list):
            raise web.HTTPError(400, reason="'model' (string) and 'messages' (list) are required")
        assert self.state.loaded is not None
        await asyncio.wait([self.state.loaded])
        if self.state.load_error:
            raise web.HTTPError(503, reason=self.state.load_error)
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self._task = asyncio.ensure_future(self._relay(request))
        try:
            await self._task
        except asyncio.CancelledError:
            pass  # the coordinator hung up: the provider request is closed already
        finally:
            self._task = None

    async def _relay(self, request: dict[str, Any]) -> None:
        try:
            await self._send({"type": protocol.SSE_START})
            usage: dict[str, Any] = {}
            async for text in llm.stream_chat(request, usage):
                await self._send({"type": protocol.SSE_TOKEN, "text": text})
            done: dict[str, Any] = {"type": protocol.SSE_DONE, "finish_reason": "stop"}
            if usage:
                done["usage"] = usage
            await self._send(done)
        except llm.ChatError as e:
            await self._send({"type": protocol.SSE_ERROR, "kind": e.kind, "message": e.message})
        except StreamClosedError:
            return
        self.finish()

    async def _send(self, event: dict[str, Any]) -> None:
        self.write(f"data: {json.dumps(event)}\n\n")
        await self.flush()

    def on_connection_close(self) -> None:
        if self._task is not None:
            self._task.cancel()


class IndexHandler(SidecarHandler):
    """The index operations: all JSON in, JSON out, run on the index threads."""

    async def ready_index(self) -> IndexService:
        if self.state.index is None:
            raise web.HTTPError(503, reason="the index is not configured")
        if self.state.index_loaded is not None:
            await asyncio.wait([self.state.index_loaded])
        if self.state.index_error:
            raise web.HTTPError(503, reason=self.state.index_error)
        return self.state.index

    async def run(self, pool: ThreadPoolExecutor, fn: Any, *args: Any) -> None:
        try:
            result = await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        except ModelLoading as e:
            raise web.HTTPError(503, reason=str(e)) from None
        except (ValueError, KeyError, TypeError) as e:
            raise web.HTTPError(400, reason=f"bad index request: {e}") from None
        self.finish(result)


class IndexFilesHandler(IndexHandler):
    async def post(self) -> None:
        service = await self.ready_index()
        files = self.json_body().get("files")
        if not isinstance(files, list):
            raise web.HTTPError(400, reason="'files' must be a list")
        await self.run(self.state.writer, service.index_files, files)


class IndexDeleteHandler(IndexHandler):
    async def post(self) -> None:
        service = await self.ready_index()
        paths = self.json_body().get("paths")
        if not isinstance(paths, list):
            raise web.HTTPError(400, reason="'paths' must be a list")
        await self.run(self.state.writer, service.delete, paths)


class IndexOptimizeHandler(IndexHandler):
    async def post(self) -> None:
        service = await self.ready_index()
        await self.run(self.state.writer, service.optimize_soon)


class IndexStatsHandler(IndexHandler):
    async def get(self) -> None:
        service = await self.ready_index()
        await self.run(self.state.reader, service.stats, self.get_argument("paths", "") == "1")


class SearchHandler(IndexHandler):
    async def post(self) -> None:
        service = await self.ready_index()
        await self.run(self.state.reader, service.search, self.json_body())


class CodeContextHandler(SidecarHandler):
    """POST /code/context: the definition around some lines, its callees, and the calls of
    given names (code_context.py); tree-sitter runs on the reader thread."""

    async def post(self) -> None:
        try:
            request = code_context.check_request(self.json_body(), MAX_BODY)
        except code_context.BadContext as e:
            raise web.HTTPError(400, reason=str(e)) from None
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                self.state.reader, code_context.context, *request
            )
        except (ValueError, UnicodeError) as e:  # text the parser cannot take
            raise web.HTTPError(400, reason=f"cannot parse the text: {type(e).__name__}") from None
        self.finish(result)


def make_app(state: SidecarState) -> web.Application:
    routes = [
        (r"/health", HealthHandler),
        (r"/chat", ChatHandler),
        (r"/index", IndexStatsHandler),
        (r"/index/files", IndexFilesHandler),
        (r"/index/delete", IndexDeleteHandler),
        (r"/index/optimize", IndexOptimizeHandler),
        (r"/search", SearchHandler),
        (r"/code/context", CodeContextHandler),
    ]
    return web.Application(
        [(pattern, handler, {"state": state}) for pattern, handler in routes],
        # no default "Server" header detail, no debug pages
        debug=False,
    )
