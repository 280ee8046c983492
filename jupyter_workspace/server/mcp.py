"""The workspace as an MCP server: its index, notes, tasks, research and pipelines as tools for
any agent (Claude Code, Codex, jupyter-ai's agents, an editor's), on the official SDK (`mcp`).

`/workspace/mcp` speaks MCP's streamable HTTP inside the Jupyter server: the route is a
`WorkspaceHandler`, so Jupyter authenticates the caller (its token, or the hub's) and checks
the Origin and XSRF rules before the SDK sees a byte; the request is then handed to the SDK's
`StreamableHTTPSessionManager` as an ASGI call (`_asgi`). Each tool asks the server's
authorizer for the same permission as the REST route it stands for (`Tool.resource`,
`Tool.action`): `pipeline_run` needs `execute` on `terminals`, as a terminal does. `jupyter
workspace mcp` (kernel/mcp_stdio.py) relays stdio to this route for agents that speak only stdio.

Read-only by default: tools that write (notes, tasks, research jobs, pipeline runs) are neither
listed nor run unless `WorkspaceApp.mcp_write_tools` is on, and what they write carries
`written_by: "mcp:<client name>"` (shown in the panels), runs `trigger: "mcp"`.

The tools call the same managers as the REST handlers, in this process: no second hop.
The SDK (pydantic, starlette) loads on the first MCP request, not at server start.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import WorkspaceApp
    from .handlers import WorkspaceHandler

MCP_ROUTE = "/workspace/mcp"
SCOPE_KEY = "jupyter_workspace.handler"  # where the ASGI scope carries the Jupyter handler
MAX_READ_LINES = 2000
MAX_READ_CHARS = 200_000
MAX_SNIPPET_CHARS = 1200


@dataclass(frozen=True)
class Tool:
    name: str
    resource: str  # the authorizer's resource, as the REST route's `auth_resource`
    action: str  # "read", "write" or "execute"
    writes: bool = False  # off unless WorkspaceApp.mcp_write_tools


TOOLS = {
    tool.name: tool
    for tool in (
        Tool("search", "jupyter_workspace:search", "read"),
        Tool("read", "contents", "read"),
        Tool("symbols", "jupyter_workspace:search", "read"),
        Tool("index_status", "jupyter_workspace:search", "read"),
        Tool("notes_list", "jupyter_workspace:notes", "read"),
        Tool("note_read", "jupyter_workspace:notes", "read"),
        Tool("note_create", "jupyter_workspace:notes", "write", writes=True),
        Tool("tasks_list", "jupyter_workspace:tasks", "read"),
        Tool("task_create", "jupyter_workspace:tasks", "write", writes=True),
        Tool("task_update", "jupyter_workspace:tasks", "write", writes=True),
        Tool("research_start", "jupyter_workspace:research", "write", writes=True),
        Tool("research_status", "jupyter_workspace:research", "read"),
        Tool("research_result", "jupyter_workspace:research", "read"),
        Tool("pipeline_run", "terminals", "execute", writes=True),
        Tool("run_status", "jupyter_workspace:pipelines", "read"),
    )
}


class MCPService:
    """The SDK's session manager, started on the first MCP request, stopped with the server."""

    def __init__(self, app: WorkspaceApp) -> None:
        self.app = app
        self._manager: Any = None
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._lock = asyncio.Lock()

    async def manager(self) -> Any:
        async with self._lock:
            if self._manager is None:
                from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
                from mcp.server.transport_security import TransportSecuritySettings

                from .mcp_tools import build_server

                server = build_server(self.app)
                manager = StreamableHTTPSessionManager(
                    server._lowlevel_server,
                    json_response=True,
                    # Jupyter has checked the Host and Origin already (and the token)
                    security_settings=TransportSecuritySettings(
                        enable_dns_rebinding_protection=False
                    ),
                    max_request_body_size=self.app.limits.max_body_bytes,
                )
                ready = asyncio.Event()

                async def run() -> None:
                    async with manager.run():
                        ready.set()
                        await self._stop.wait()

                self._task = asyncio.create_task(run())
                ready_wait = asyncio.create_task(ready.wait())
                await asyncio.wait({self._task, ready_wait}, return_when=asyncio.FIRST_COMPLETED)
                if not ready.is_set():
                    ready_wait.cancel()
                    await self._task  # raises what stopped it
                self._manager = manager
        return self._manager

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 5)
            except (TimeoutError, Exception):
                self._task.cancel()


async def serve(handler: WorkspaceHandler, service: MCPService) -> None:
    """Hand the (authenticated) request to the SDK as an ASGI call, and its answer back."""
    manager = await service.manager()
    request = handler.request
    disconnected = asyncio.Event()
    handler.on_connection_close = disconnected.set  # type: ignore[method-assign]
    body_sent = False

    async def receive() -> dict[str, Any]:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": bytes(request.body), "more_body": False}
        await disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if disconnected.is_set():
            return
        if message["type"] == "http.response.start":
            handler.set_status(message["status"])
            handler.clear_header("Content-Type")
            for name, value in message.get("headers", []):
                key = name.decode("latin-1")
                if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                    handler.add_header(key, value.decode("latin-1"))
        elif message["type"] == "http.response.body":
            if message.get("body"):
                handler.write(message["body"])
            if message.get("more_body"):
                await handler.flush()
            elif not handler._finished:
                handler.finish()

    host, _, port = request.host.partition(":")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": request.protocol,
        "path": MCP_ROUTE,
        "raw_path": MCP_ROUTE.encode(),
        "root_path": "",
        "query_string": (request.query or "").encode("latin-1"),
        "headers": [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in request.headers.get_all()
        ],
        "client": (request.remote_ip or "", 0),
        "server": (host, int(port) if port.isdigit() else 80),
        "state": {},
        SCOPE_KEY: handler,
    }
    await manager.handle_request(scope, receive, send)
    if not handler._finished:
        handler.finish()
