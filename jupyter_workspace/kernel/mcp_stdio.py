"""`jupyter workspace mcp`: the workspace's MCP server for agents that speak only stdio.

A client of the running server, as the magics are (hence here, beside kernel/client.py): its
own process, started by the agent.

It finds the running workspace server as the `%workspace` magics do (JUPYTER_WORKSPACE_URL and
JUPYTER_WORKSPACE_TOKEN, else the only running Jupyter server, else JupyterHub's variables) and
relays MCP messages between stdin/stdout and that server's `/workspace/mcp` with its token:
the SDK's stdio transport on one side, its streamable HTTP client on the other. The tools, the
permissions and the read-only default are the server's; nothing runs here but the relay.

Exit status: 0 when stdin closes, 1 when no server is found or it refuses the token (the
reason on stderr; stdout carries MCP only).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from traitlets import Unicode
from traitlets.config import Application

from .. import __version__, protocol

ROUTE = "workspace/mcp"


class MCPStdioApp(Application):
    """`jupyter workspace mcp [--url URL]`."""

    name = "jupyter-workspace-mcp"
    version = __version__
    description = """Serve the running workspace's MCP tools (search, read, symbols, notes,
    tasks, research, pipelines) over stdio, for agents that launch MCP servers as commands.
    Finds the server as the %workspace magics do; the token never appears on the command line."""
    examples = """
    jupyter workspace mcp
    JUPYTER_WORKSPACE_URL=http://127.0.0.1:8888/ JUPYTER_WORKSPACE_TOKEN=... jupyter workspace mcp
    """
    url = Unicode(
        "",
        config=True,
        help=f"""The Jupyter server's URL (with its base URL). Default: as the magics find it
        ({protocol.WORKSPACE_URL_ENV}, the running servers, JupyterHub's variables). The token
        comes from {protocol.WORKSPACE_TOKEN_ENV} or the server's runtime file.""",
    )
    aliases = {"url": "MCPStdioApp.url"}

    def start(self) -> None:
        from .client import NoServer, Server, find_server

        try:
            if self.url:
                token = os.environ.get(protocol.WORKSPACE_TOKEN_ENV, "")
                server = Server(self.url.rstrip("/") + "/", token, "--url")
            else:
                server = find_server()
        except NoServer as error:
            print(f"jupyter workspace mcp: {error}", file=sys.stderr)
            self.exit(1)
        import anyio

        try:
            anyio.run(relay, server.url + ROUTE, server.token)
        except RelayError as error:
            print(f"jupyter workspace mcp: {error}", file=sys.stderr)
            self.exit(1)


class RelayError(RuntimeError):
    pass


async def relay(url: str, token: str) -> None:
    """Pass every message from stdin to the server and every answer back, until stdin ends."""
    import anyio
    import httpx2
    from mcp.client.streamable_http import streamable_http_client
    from mcp.server.stdio import stdio_server

    headers = {"Authorization": f"token {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300)) as http,
        streamable_http_client(url, http_client=http) as (remote_read, remote_write, *_),
        stdio_server() as (local_read, local_write),
        anyio.create_task_group() as group,
    ):

        async def pump(source: Any, sink: Any, stop: bool) -> None:
            async for message in source:
                if isinstance(message, Exception):
                    print(f"jupyter workspace mcp: {message}", file=sys.stderr)
                    continue
                await sink.send(message)
            if stop:  # stdin closed: the agent is gone
                group.cancel_scope.cancel()

        group.start_soon(pump, remote_read, local_write, False)
        group.start_soon(pump, local_read, remote_write, True)


def main(argv: list[str] | None = None) -> None:
    MCPStdioApp.launch_instance(argv)
