"""HTTP and WebSocket handlers: translate HTTP <-> manager calls, nothing more.

Every verb is `@web.authenticated` + `@authorized` with a `jupyter_workspace:*` resource; the
WebSocket is `@ws_authenticated` and authorized by hand (the decorator needs a verb). Domain
errors become `{"error": message}` with their 4xx status in `write_error`; anything unexpected
is a 500 whose body never carries a traceback.
"""

from __future__ import annotations

import json
import re
import zlib
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.extension.handler import ExtensionHandlerMixin
from jupyter_server.utils import ensure_async
from tornado import web, websocket

from .. import __version__, protocol
from . import events, fields, mcp
from .errors import BadRequest, TooLarge, WorkspaceError
from .snapshots import MAX_CLIENT_CHARS

if TYPE_CHECKING:
    from .app import WorkspaceApp

# The URL table's patterns are regular expressions.
API = re.escape(protocol.API_PREFIX)
ID = r"(?P<record_id>[^/]+)"


def _gunzip(data: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=31)  # gzip framing only
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        raise BadRequest("the body is not valid gzip") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise TooLarge(f"the body inflates to more than the limit of {limit} bytes")
    if not inflater.eof:
        raise BadRequest("the gzip body is truncated")
    return out


@web.stream_request_body
class WorkspaceHandler(ExtensionHandlerMixin, APIHandler):
    """The base of every workspace route. Bodies are streamed so that no route buffers one
    it will refuse: tornado would otherwise read up to the server's `max_body_size` (512 MB)
    into memory, for anyone, before a verb could answer 403 or 413."""

    auth_resource = "jupyter_workspace"

    async def prepare(self) -> None:  # type: ignore[override]  # as APIHandler.prepare
        """Refuse a body from a user we do not know before reading any of it; the verb's
        own decorators still decide everything else.

        An answer given here leaves the body unread, so tornado closes the connection after
        it; the answer says so (`Connection: close`, in write_error). Without it a proxy that
        keeps connections alive (JupyterHub's configurable-http-proxy) sends the next request,
        perhaps the server owner's, down the closed socket and answers it 503."""
        announced = {"Content-Length", "Transfer-Encoding"} & set(self.request.headers)
        self._body_unread = bool(announced)
        await super().prepare()
        self.request.body = bytearray()  # type: ignore[assignment]  # grown in place
        self._body_bytes = 0
        if announced and self.current_user is None:
            raise web.HTTPError(403)
        self._body_unread = False  # the verb runs once tornado has read the whole body

    def data_received(self, chunk: bytes) -> None:
        """Keep the body up to the limit and only count the rest (json_body answers 413)."""
        self._body_bytes += len(chunk)
        if self._body_bytes <= self.body_limit:
            self.request.body += chunk

    @property
    def workspace(self) -> WorkspaceApp:
        return self.extensionapp  # type: ignore[return-value]

    @property
    def origin(self) -> str | None:
        value = self.request.headers.get(protocol.CLIENT_HEADER)
        return value[:64] if value else None

    @property
    def body_limit(self) -> int:
        """The largest body this route reads (a route that takes more overrides it)."""
        return self.workspace.limits.max_body_bytes

    def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object, or a 4xx that says what is wrong with it.

        A body sent with `Content-Encoding: gzip` (the browser compresses big snapshots) is
        inflated up to the same limit, never further: a small bomb is a 413, not a 1 GB buffer.
        """
        limit = self.body_limit
        if self._body_bytes > limit:
            raise TooLarge(f"request body is {self._body_bytes} bytes; the limit is {limit}")
        encoding = self.request.headers.get("Content-Encoding", "").strip().lower()
        if encoding in ("", "identity"):
            return fields.json_object(self.request.body)
        if encoding != "gzip":
            raise BadRequest(f"unsupported Content-Encoding {encoding[:40]!r}: send gzip or none")
        return fields.json_object(_gunzip(bytes(self.request.body), limit))

    def reply(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        body: dict[str, Any]
        if isinstance(exc, WorkspaceError):
            body = {"error": exc.message, **exc.extra}
        elif isinstance(exc, web.HTTPError) and status_code < 500:
            message = exc.log_message % exc.args if exc.log_message else None
            body = {"error": message or exc.reason or HTTPStatus(status_code).phrase}
        elif status_code < 500:
            body = {"error": HTTPStatus(status_code).phrase}
        else:
            body = {"error": "internal error in jupyter-workspace; see the server log"}
        if getattr(self, "_body_unread", False):
            self.set_header("Connection", "close")
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def log_exception(self, typ, value, tb) -> None:  # type: ignore[no-untyped-def]
        if isinstance(value, WorkspaceError):
            self.log.info(
                "%s %s -> %d: %s",
                self.request.method,
                self.request.path,
                value.status,
                value.message,
            )
            return
        super().log_exception(typ, value, tb)

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, WorkspaceError):
            status_code = exc.status
        super().send_error(status_code, **kwargs)


class StatusHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:status"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(await self.workspace.status())


class NotesHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:notes"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        notes = await self.workspace.notes.list(self.get_query_argument("q", None))
        self.reply({"notes": notes})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        note = await self.workspace.notes.create(self.json_body(), self.origin)
        self.reply(note, 201)


class NoteHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:notes"

    @web.authenticated
    @authorized
    async def get(self, record_id: str) -> None:
        self.reply(await self.workspace.notes.get(fields.record_id(record_id, "note")))

    @web.authenticated
    @authorized
    async def patch(self, record_id: str) -> None:
        note_id = fields.record_id(record_id, "note")
        self.reply(await self.workspace.notes.update(note_id, self.json_body(), self.origin))

    @web.authenticated
    @authorized
    async def delete(self, record_id: str) -> None:
        await self.workspace.notes.delete(fields.record_id(record_id, "note"), self.origin)
        self.set_status(204)
        self.finish()


class TasksHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:tasks"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        tasks = await self.workspace.tasks.list(
            self.get_query_argument("status", "all"),
            self.get_query_argument("q", None),
            self.get_query_argument("origin", None),
        )
        self.reply({"tasks": tasks})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        task = await self.workspace.tasks.create(self.json_body(), self.origin)
        self.reply(task, 201)


class TaskHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:tasks"

    @web.authenticated
    @authorized
    async def get(self, record_id: str) -> None:
        self.reply(await self.workspace.tasks.get(fields.record_id(record_id, "task")))

    @web.authenticated
    @authorized
    async def patch(self, record_id: str) -> None:
        task_id = fields.record_id(record_id, "task")
        self.reply(await self.workspace.tasks.update(task_id, self.json_body(), self.origin))

    @web.authenticated
    @authorized
    async def delete(self, record_id: str) -> None:
        await self.workspace.tasks.delete(fields.record_id(record_id, "task"), self.origin)
        self.set_status(204)
        self.finish()


class SidecarRestartHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:sidecar"

    @web.authenticated
    @authorized
    async def post(self) -> None:
        await self.workspace.supervisor.restart()
        self.reply({"sidecar": self.workspace.supervisor.describe()}, 202)


class LLMCheckHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:chat"

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Whether the configured LLM (or the one a chat with these overrides would ask)
        answers; `force` probes again even if it was checked a moment ago."""
        data = self.json_body()
        fields.reject_unknown(data, {"model", "api_base", "force"}, "LLM check")
        model = fields.text(data.get("model", ""), "model", max_chars=200, strip=True)
        api_base = fields.text(data.get("api_base", ""), "api_base", max_chars=500, strip=True)
        force = fields.boolean(data.get("force", False), "force")
        probe = self.workspace.llm_probe
        self.reply(await probe.check(probe.target(model, api_base), force=force))


class ChatHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:chat"

    @web.authenticated
    @authorized
    async def post(self) -> None:
        self.reply(await self.workspace.chat.send(self.json_body(), self.origin), 202)


class ChatCancelHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:chat"

    @web.authenticated
    @authorized
    async def post(self, stream_id: str) -> None:
        await self.workspace.chat.cancel(stream_id)
        self.reply({"cancelled": True})


class ConversationsHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:chat"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply({"conversations": await self.workspace.chat.conversations()})


class ConversationHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:chat"

    @web.authenticated
    @authorized
    async def get(self, record_id: str) -> None:
        cid = fields.record_id(record_id, "conversation")
        self.reply(await self.workspace.chat.conversation(cid))

    @web.authenticated
    @authorized
    async def patch(self, record_id: str) -> None:
        cid = fields.record_id(record_id, "conversation")
        self.reply(await self.workspace.chat.rename(cid, self.json_body()))

    @web.authenticated
    @authorized
    async def delete(self, record_id: str) -> None:
        await self.workspace.chat.delete(fields.record_id(record_id, "conversation"))
        self.set_status(204)
        self.finish()


class SearchHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:search"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        args = {
            name: self.get_query_argument(name, None)
            for name in ("q", "k", "mode", "lang", "kind", "path")
        }
        self.reply(await self.workspace.search.search(args))


class LookupHandler(WorkspaceHandler):
    """`GET lookup?q=&types=&k=`: type-ahead over files, definitions and notes (SQLite only)."""

    auth_resource = "jupyter_workspace:search"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        args = {name: self.get_query_argument(name, None) for name in ("q", "types", "k")}
        self.reply(await self.workspace.lookup.lookup(args))


class IndexFilesHandler(WorkspaceHandler):
    """`GET index/files?state=`: the catalog, with why files were skipped or cut short."""

    auth_resource = "jupyter_workspace:search"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        state = self.get_query_argument("state", None)
        if state is not None:
            state = fields.choice(state, "state", FILE_STATES)
        self.reply({"files": await self.workspace.catalog.files(state)})


FILE_STATES = ("pending", "indexed", "skipped", "error", "deleting")


class EntitiesHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:entities"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = {
            name: self.get_query_argument(name, None) for name in ("kind", "q", "source", "limit")
        }
        limit = _whole_number(query["limit"], "limit", 200, 1000)
        if limit < 1:
            raise BadRequest("'limit' must be between 1 and 1000")
        entities = await self.workspace.extracted.entities(
            kind=fields.text(query["kind"], "kind", max_chars=64) if query["kind"] else None,
            q=fields.text(query["q"], "q", max_chars=200) if query["q"] else None,
            source=fields.text(query["source"], "source", max_chars=4096)
            if query["source"]
            else None,
            limit=limit,
        )
        self.reply({"entities": entities, "config_errors": self.workspace.config_errors})


class EntityHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:entities"

    @web.authenticated
    @authorized
    async def get(self, record_id: str) -> None:
        self.reply(await self.workspace.extracted.entity(fields.record_id(record_id, "entity")))


class EntityRefineHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:entities"

    @web.authenticated
    @authorized
    async def post(self) -> None:
        data = self.json_body()
        fields.reject_unknown(data, {"note"}, "refine request")
        note_id = fields.integer(data.get("note"), "note", minimum=1)
        self.reply({"entities": await self.workspace.refine_entities(note_id)})


NAME = r"(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]{0,63})"


def _whole_number(value: str | None, name: str, default: int, maximum: int) -> int:
    return fields.whole_number(value, name, default=default, maximum=maximum)


class PipelinesHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:pipelines"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(await self.workspace.pipelines.list())


class PipelineRunHandler(WorkspaceHandler):
    """Starting a run is running a command in a terminal: `execute` on `terminals`, the
    permission JupyterLab's terminal socket checks."""

    auth_resource = "terminals"

    @web.authenticated
    @authorized("execute")
    async def post(self, name: str) -> None:
        data = self.json_body() if (self.request.body or b"").strip() else {}
        fields.reject_unknown(data, {"trigger"}, "run request")
        self.reply(await self.workspace.pipelines.run(name, data.get("trigger", "user")), 202)


class RunsHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:pipelines"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        pipeline = self.get_query_argument("pipeline", None)
        if pipeline is not None:
            pipeline = fields.text(pipeline, "pipeline", max_chars=64)
        limit = _whole_number(self.get_query_argument("limit", None), "limit", 50, 500)
        self.reply({"runs": await self.workspace.pipelines.runs(pipeline, max(limit, 1))})


class RunHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:pipelines"

    @web.authenticated
    @authorized
    async def get(self, record_id: str) -> None:
        run_id = fields.record_id(record_id, "run")
        self.reply(await self.workspace.pipelines.get_run(run_id, with_output=True))


class RunOutputHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:pipelines"

    @web.authenticated
    @authorized
    async def get(self, record_id: str) -> None:
        run_id = fields.record_id(record_id, "run")
        offset = _whole_number(self.get_query_argument("offset", None), "offset", 0, 2**53)
        self.reply(await self.workspace.pipelines.output(run_id, offset))


class PipelineTrustHandler(WorkspaceHandler):
    """Trusting `workspace.toml` lets its commands run, watch mode included: only a user who
    may run commands in a terminal can do it."""

    auth_resource = "terminals"

    @web.authenticated
    @authorized("execute")
    async def post(self) -> None:
        data = self.json_body()
        fields.reject_unknown(data, {"hash"}, "trust request")
        digest = data.get("hash")
        if not isinstance(digest, str) or not SHA256.fullmatch(digest):
            raise BadRequest(
                "'hash' must be the config's SHA-256 (64 hex digits) as GET pipelines reports it"
            )
        user = getattr(self.current_user, "username", None)
        self.reply(await self.workspace.pipelines.approve(digest, user))


SHA256 = re.compile(r"[0-9a-f]{64}")


class RunStopHandler(WorkspaceHandler):
    auth_resource = "terminals"

    @web.authenticated
    @authorized("execute")
    async def post(self, record_id: str) -> None:
        self.reply(await self.workspace.pipelines.stop_run(fields.record_id(record_id, "run")))


class RunSummarizeHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:pipelines"

    @web.authenticated
    @authorized
    async def post(self, record_id: str) -> None:
        run_id = fields.record_id(record_id, "run")
        self.reply(await self.workspace.pipelines.summarize(run_id))


class ResearchJobsHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:research"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        limit = _whole_number(self.get_query_argument("limit", None), "limit", 500, 5000)
        self.reply({"jobs": await self.workspace.research.list(max(limit, 1))})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        self.reply(await self.workspace.research.create(self.json_body()), 201)


class ResearchJobHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:research"

    @web.authenticated
    @authorized
    async def get(self, record_id: str) -> None:
        self.reply(await self.workspace.research.get(fields.record_id(record_id, "research job")))

    @web.authenticated
    @authorized
    async def patch(self, record_id: str) -> None:
        job_id = fields.record_id(record_id, "research job")
        self.reply(await self.workspace.research.update(job_id, self.json_body()))

    @web.authenticated
    @authorized
    async def delete(self, record_id: str) -> None:
        await self.workspace.research.delete(fields.record_id(record_id, "research job"))
        self.set_status(204)
        self.finish()


class ResearchCancelHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:research"

    @web.authenticated
    @authorized
    async def post(self, record_id: str) -> None:
        job_id = _research_action(self, record_id, "cancel")
        self.reply(await self.workspace.research.cancel(job_id))


class ResearchRerunHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:research"

    @web.authenticated
    @authorized
    async def post(self, record_id: str) -> None:
        job_id = _research_action(self, record_id, "rerun")
        self.reply(await self.workspace.research.rerun(job_id))


def _research_action(handler: WorkspaceHandler, record_id: str, action: str) -> int:
    """The job id of `POST research/{id}/<action>`, whose body is empty or `{}`."""
    job_id = fields.record_id(record_id, "research job")
    data = handler.json_body() if (handler.request.body or b"").strip() else {}
    fields.reject_unknown(data, set(), f"research {action} request")
    return job_id


class IndexStatusHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:search"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(await self.workspace.index_status())


class EventsHandler(
    ExtensionHandlerMixin, WebSocketMixin, JupyterHandler, websocket.WebSocketHandler
):
    """`WS /workspace/api/events`: every workspace event, as JSON text frames."""

    auth_resource = "jupyter_workspace:events"

    def set_default_headers(self) -> None:
        """JupyterHandler's default headers make no sense on a WebSocket upgrade."""

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        allowed = await ensure_async(
            self.authorizer.is_authorized(self, self.current_user, "read", self.auth_resource)
        )
        if not allowed:
            raise web.HTTPError(403)
        await super().get(*args, **kwargs)

    def open(self, *args: Any, **kwargs: Any) -> None:
        super().open(*args, **kwargs)
        bus = self.extensionapp.bus  # type: ignore[attr-defined]
        bus.subscribe(self._send)
        # the tab's id: its snapshots are a live buffer, not lost work, while it is connected
        self._client = self.get_query_argument("client", "")[:MAX_CLIENT_CHARS]
        bus.client_opened(self._client)
        self._send(
            json.dumps(
                {
                    "type": protocol.HELLO,
                    "server_version": __version__,
                    "client_count": bus.client_count,
                }
            )
        )

    def _send(self, message: str) -> None:
        """Write one event; a client that fell more than MAX_SOCKET_BACKLOG behind is closed
        at once, dropping what it holds (it reconnects and refetches what it shows)."""
        self.write_message(message)
        if events.socket_backlog(self) > events.MAX_SOCKET_BACKLOG:
            self.log.warning("closing an events socket that stopped reading")
            self.extensionapp.bus.unsubscribe(self._send)  # type: ignore[attr-defined]
            self.ws_connection.stream.close()  # type: ignore[union-attr]

    def on_message(self, message: str | bytes) -> None:
        try:
            data = json.loads(message)
        except (ValueError, RecursionError):
            return
        if isinstance(data, dict) and data.get("type") == protocol.PING:
            self._send(json.dumps({"type": protocol.PONG}))

    def on_close(self) -> None:
        bus = self.extensionapp.bus  # type: ignore[attr-defined]
        bus.unsubscribe(self._send)
        bus.client_closed(getattr(self, "_client", ""))


class SnapshotsHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:snapshots"

    @property
    def body_limit(self) -> int:
        # a document up to the snapshot cap, JSON-escaped (a notebook's quotes and newlines)
        return max(self.workspace.limits.max_body_bytes, 2 * self.workspace.snapshot_max_bytes)

    @web.authenticated
    @authorized
    async def get(self) -> None:
        snapshots = await self.workspace.snapshots.list(self.get_query_argument("path", None))
        self.reply({"snapshots": snapshots})

    @web.authenticated
    @authorized
    async def put(self) -> None:
        status, answer = await self.workspace.snapshots.put(self.json_body(), self.origin)
        self.reply(answer, status)

    @web.authenticated
    @authorized
    async def delete(self) -> None:
        path = self.get_query_argument("path", None)
        if path is None:
            raise BadRequest("say which document's snapshots to discard: ?path=")
        self.reply({"deleted": await self.workspace.snapshots.delete_path(path, self.origin)})


class SnapshotHandler(WorkspaceHandler):
    auth_resource = "jupyter_workspace:snapshots"

    @web.authenticated
    @authorized
    async def get(self, record_id: str) -> None:
        self.reply(await self.workspace.snapshots.get(fields.record_id(record_id, "snapshot")))

    @web.authenticated
    @authorized
    async def delete(self, record_id: str) -> None:
        snapshot_id = fields.record_id(record_id, "snapshot")
        await self.workspace.snapshots.delete(snapshot_id, self.origin)
        self.set_status(204)
        self.finish()


class MCPHandler(WorkspaceHandler):
    """`/workspace/mcp`: MCP's streamable HTTP (mcp.py). Jupyter authenticates here; each tool
    then asks for its own permission (mcp.TOOLS)."""

    auth_resource = "jupyter_workspace:mcp"

    @web.authenticated
    @authorized("read")
    async def post(self) -> None:
        if self._body_bytes > self.body_limit:
            raise TooLarge(
                f"request body is {self._body_bytes} bytes; the limit is {self.body_limit}"
            )
        await mcp.serve(self, self.workspace.mcp)

    @web.authenticated
    @authorized("read")
    async def get(self) -> None:
        await mcp.serve(self, self.workspace.mcp)

    @web.authenticated
    @authorized("read")
    async def delete(self) -> None:
        await mcp.serve(self, self.workspace.mcp)


default_handlers = [
    (r"/workspace/mcp", MCPHandler),
    (rf"{API}/status", StatusHandler),
    (rf"{API}/notes", NotesHandler),
    (rf"{API}/notes/{ID}", NoteHandler),
    (rf"{API}/tasks", TasksHandler),
    (rf"{API}/tasks/{ID}", TaskHandler),
    (rf"{API}/sidecar/restart", SidecarRestartHandler),
    (rf"{API}/llm/check", LLMCheckHandler),
    (rf"{API}/chat", ChatHandler),
    (rf"{API}/chat/(?P<stream_id>[^/]+)/cancel", ChatCancelHandler),
    (rf"{API}/conversations", ConversationsHandler),
    (rf"{API}/conversations/{ID}", ConversationHandler),
    (rf"{API}/search", SearchHandler),
    (rf"{API}/lookup", LookupHandler),
    (rf"{API}/index", IndexStatusHandler),
    (rf"{API}/index/files", IndexFilesHandler),
    (rf"{API}/pipelines", PipelinesHandler),
    (rf"{API}/pipelines/trust", PipelineTrustHandler),
    (rf"{API}/pipelines/{NAME}/run", PipelineRunHandler),
    (rf"{API}/runs", RunsHandler),
    (rf"{API}/runs/{ID}", RunHandler),
    (rf"{API}/runs/{ID}/output", RunOutputHandler),
    (rf"{API}/runs/{ID}/stop", RunStopHandler),
    (rf"{API}/runs/{ID}/summarize", RunSummarizeHandler),
    (rf"{API}/entities", EntitiesHandler),
    (rf"{API}/entities/refine", EntityRefineHandler),
    (rf"{API}/entities/{ID}", EntityHandler),
    (rf"{API}/research", ResearchJobsHandler),
    (rf"{API}/research/{ID}", ResearchJobHandler),
    (rf"{API}/research/{ID}/cancel", ResearchCancelHandler),
    (rf"{API}/research/{ID}/rerun", ResearchRerunHandler),
    (rf"{API}/snapshots", SnapshotsHandler),
    (rf"{API}/snapshots/{ID}", SnapshotHandler),
    (rf"{API}/events", EventsHandler),
]
