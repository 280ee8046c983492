"""The MCP server (server/mcp.py) driven by the official SDK's own client over streamable HTTP,
against a real Jupyter server: tools listed and called, their answers checked against the REST
API's, Jupyter's authentication in front (no token, a wrong token: refused), each tool's own
permission, the read-only default, confinement of `read`, and what an agent wrote shown as
written by it."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types import Implementation

from jupyter_workspace import protocol

WRITE_TOOLS = {"note_create", "task_create", "task_update", "research_start", "pipeline_run"}
READ_TOOLS = {
    "search",
    "read",
    "symbols",
    "index_status",
    "notes_list",
    "note_read",
    "tasks_list",
    "research_status",
    "research_result",
    "run_status",
}


@pytest.fixture
def mcp_url(jp_fetch, jp_http_port, jp_base_url) -> str:
    """The route's URL on the test server (`jp_fetch` is what makes that server listen)."""
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}workspace/mcp"


@pytest.fixture
def connect(mcp_url, jp_auth_header):
    """`async with connect() as client`: the SDK's client on /workspace/mcp with the token."""

    @contextlib.asynccontextmanager
    async def open_client(
        headers: dict[str, str] | None = None, name: str = "test-agent", mode: str = "auto"
    ) -> AsyncIterator[Client]:
        http = httpx2.AsyncClient(
            headers=jp_auth_header if headers is None else headers, timeout=30
        )
        async with http:
            transport = streamable_http_client(mcp_url, http_client=http)
            async with Client(
                transport, client_info=Implementation(name=name, version="1.0"), mode=mode
            ) as client:
                yield client

    return open_client


def structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    if result.structured_content is not None:
        return result.structured_content  # type: ignore[no-any-return]
    return json.loads(result.content[0].text)  # type: ignore[no-any-return]


def error_text(result: Any) -> str:
    assert result.is_error, result
    return " ".join(block.text for block in result.content)


async def test_the_read_only_tools_are_listed_and_answer_as_rest_does(connect, api, jp_root_dir):
    (jp_root_dir / "pump.c").write_text("int pump_rate(void)\n{\n    return 42;\n}\n")
    _, note = await api("POST", "notes", {"title": "Pump review", "body": "flow is *fine*"})
    _, task = await api("POST", "tasks", {"title": "Check the pump", "priority": "high"})
    async with connect() as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == READ_TOOLS
        listed = structured(await client.call_tool("notes_list", {}))
        assert [n["id"] for n in listed["notes"]] == [note["id"]]
        got = structured(await client.call_tool("note_read", {"id": note["id"]}))
        _, rest = await api("GET", f"notes/{note['id']}")
        assert got == rest
        tasks = structured(await client.call_tool("tasks_list", {"status": "all"}))
        _, rest_tasks = await api("GET", "tasks")
        assert tasks["tasks"] == rest_tasks["tasks"] and tasks["tasks"][0]["id"] == task["id"]
        lines = structured(
            await client.call_tool("read", {"path": "pump.c", "start_line": 3, "end_line": 3})
        )
        assert lines["text"] == "3:     return 42;" and lines["lines"] == 4
        # the resources: a note's markdown, the index's state
        resource = await client.read_resource(f"workspace://notes/{note['id']}")
        assert resource.contents[0].text == "# Pump review\n\nflow is *fine*"
        with pytest.raises(Exception, match="unknown note id"):
            await client.read_resource("workspace://notes/4242")


async def test_connections_without_the_token_or_with_a_wrong_one_are_refused(
    jp_fetch, connect, jp_http_port
):
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "stranger", "version": "0"},
        },
    }
    for authorization in ("", "token not-the-token"):
        response = await jp_fetch(
            "workspace",
            "mcp",
            method="POST",
            body=json.dumps(initialize),
            headers={
                "Authorization": authorization,
                "Content-Type": "application/json",
                "Accept": "application/json, text/event-stream",
            },
            raise_error=False,
        )
        assert response.code == 403, (authorization, response.code)
        assert b"jupyter-workspace" not in response.body
    with pytest.raises(Exception):  # noqa: B017 - the SDK's own error, whichever it is
        async with connect(headers={"Authorization": "token not-the-token"}) as client:
            await client.list_tools()


async def test_writing_tools_are_off_by_default(connect, api):
    async with connect() as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert not names & WRITE_TOOLS
        for name, args in (
            ("note_create", {"title": "x", "body": "y"}),
            ("task_create", {"title": "x"}),
            ("pipeline_run", {"name": "build"}),
            ("research_start", {"question": "why?"}),
        ):
            message = error_text(await client.call_tool(name, args))
            assert "WorkspaceApp.mcp_write_tools" in message
    _, notes = await api("GET", "notes")
    _, tasks = await api("GET", "tasks")
    assert notes["notes"] == [] and tasks["tasks"] == []


async def test_read_stays_inside_the_root_and_away_from_secrets(connect, jp_root_dir, tmp_path):
    (jp_root_dir / ".env").write_text("API_KEY=hunter2\n")
    (jp_root_dir / "blob.bin").write_bytes(b"\x00\x01hunter2\x00" * 50)
    outside = tmp_path / "outside.txt"
    outside.write_text("hunter2\n")
    (jp_root_dir / "link.txt").symlink_to(outside)
    (jp_root_dir / "ok.txt").write_text("one\ntwo\n")
    async with connect() as client:
        for path in ("../outside.txt", str(outside), "link.txt", ".env", "blob.bin", "gone.c"):
            result = await client.call_tool("read", {"path": path})
            assert result.is_error, path
            assert "hunter2" not in error_text(result)
        for args, says in (
            ({"path": "ok.txt", "start_line": 0}, "1 or more"),
            ({"path": "ok.txt", "start_line": 9}, "has 2 lines"),
            ({"path": "ok.txt", "start_line": 2, "end_line": 1}, "before start_line"),
        ):
            assert says in error_text(await client.call_tool("read", args))
        whole = structured(await client.call_tool("read", {"path": "ok.txt"}))
        assert whole["text"] == "1: one\n2: two" and whole["end_line"] == 2
        # unknown ids and bad arguments are the tool's errors, never a crash
        assert "unknown note id" in error_text(await client.call_tool("note_read", {"id": 999}))
        assert error_text(await client.call_tool("note_read", {"id": "x"}))
        assert "search" in error_text(await client.call_tool("search", {"query": "pump"}))


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28, and the handshake era's
async def test_with_writing_on_an_agents_writes_are_marked_as_its_own(
    connect, api, workspace, mode
):
    workspace.mcp_write_tools = True
    async with connect(name="claude code/2.1", mode=mode) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == READ_TOOLS | WRITE_TOOLS
        note = structured(
            await client.call_tool("note_create", {"title": "Findings", "body": "pump ok"})
        )
        assert note["written_by"] == "mcp:claude-code-2.1"
        task = structured(
            await client.call_tool(
                "task_create",
                {"title": "Retune the PID", "priority": "urgent", "path": "pid.c", "line": 12},
            )
        )
        assert task["written_by"] == "mcp:claude-code-2.1"
        assert task["source"] == {"path": "pid.c", "line": 12}
        done = structured(await client.call_tool("task_update", {"id": task["id"], "done": True}))
        assert done["done"] is True and done["revision"] == 2
        for bad, says in (
            ({"title": "x", "priority": "whenever"}, "priority"),
            ({"title": "x", "path": "../../etc/passwd"}, "served root"),
            ({"title": ""}, "title"),
        ):
            assert says in error_text(await client.call_tool("task_create", bad))
        assert "unknown task id" in error_text(
            await client.call_tool("task_update", {"id": 4242, "done": True})
        )
        # a pipeline that does not exist is the tool's error, not a crash
        assert error_text(await client.call_tool("pipeline_run", {"name": "build"}))
    # the REST API and the panels' events see the same rows, marked
    _, rest_note = await api("GET", f"notes/{note['id']}")
    assert rest_note == note
    _, rest_task = await api("GET", f"tasks/{task['id']}")
    assert rest_task == done and rest_task["written_by"] == "mcp:claude-code-2.1"
    # a person's edit makes it theirs again
    _, edited = await api("PATCH", f"notes/{note['id']}", {"body": "pump fine"})
    assert edited["written_by"] is None


class RefusingAuthorizer:
    """Jupyter's authorizer, minus what `refused` names: (action, resource) pairs."""

    def __init__(self, inner, refused):
        self.inner, self.refused = inner, refused

    def is_authorized(self, handler, user, action, resource):
        if (action, resource) in self.refused:
            return False
        return self.inner.is_authorized(handler, user, action, resource)


async def test_each_tool_asks_for_the_permission_of_its_rest_route(
    connect, api, workspace, jp_serverapp
):
    workspace.mcp_write_tools = True
    settings = jp_serverapp.web_app.settings
    settings["authorizer"] = RefusingAuthorizer(
        settings["authorizer"],
        {("execute", "terminals"), ("read", "jupyter_workspace:notes")},
    )
    _, note = await api("POST", "notes", {"title": "Private", "body": "not for this agent"})
    async with connect() as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert "pipeline_run" not in names and "notes_list" not in names
        assert "note_create" in names and "tasks_list" in names
        message = error_text(await client.call_tool("pipeline_run", {"name": "build"}))
        assert "'execute' permission on 'terminals'" in message
        message = error_text(await client.call_tool("notes_list", {}))
        assert "'read' permission on 'jupyter_workspace:notes'" in message
        with pytest.raises(Exception, match="jupyter_workspace:notes"):
            await client.read_resource(f"workspace://notes/{note['id']}")
        status = await client.read_resource("workspace://index/status")
        assert json.loads(status.contents[0].text)["state"] == "off"
    # a user who may not read the workspace at all cannot reach the route
    settings["authorizer"] = RefusingAuthorizer(
        settings["authorizer"].inner, {("read", "jupyter_workspace:mcp")}
    )
    with pytest.raises(Exception):  # noqa: B017 - the SDK's own error, whichever it is
        async with connect() as client:
            await client.list_tools()


async def test_jupyter_workspace_mcp_relays_stdio_to_the_server(
    api, jp_fetch, jp_http_port, jp_base_url, jp_serverapp, tmp_path
):
    """The command an agent launches: the SDK's client drives it as a subprocess over stdio;
    it finds the server through the variables the magics read, and relays to it."""
    _, note = await api("POST", "notes", {"title": "Relay check", "body": "over stdio"})
    command = Path(sys.executable).parent / "jupyter-workspace"
    env = {
        **os.environ,
        protocol.WORKSPACE_URL_ENV: f"http://127.0.0.1:{jp_http_port}{jp_base_url}",
        protocol.WORKSPACE_TOKEN_ENV: jp_serverapp.identity_provider.token,
        "JUPYTER_RUNTIME_DIR": str(tmp_path),
    }
    params = StdioServerParameters(command=str(command), args=["mcp"], env=env)
    async with Client(params, client_info=Implementation(name="stdio-agent", version="1")) as c:
        names = {tool.name for tool in (await c.list_tools()).tools}
        assert names == READ_TOOLS
        got = structured(await c.call_tool("note_read", {"id": note["id"]}))
        assert got["body"] == "over stdio"
        assert "WorkspaceApp.mcp_write_tools" in error_text(
            await c.call_tool("note_create", {"title": "x", "body": "y"})
        )
    # a wrong token: the command says why on stderr and exits, the agent sees no tools
    env[protocol.WORKSPACE_TOKEN_ENV] = "not-the-token"
    bad = StdioServerParameters(command=str(command), args=["mcp"], env=env)
    with pytest.raises(Exception):  # noqa: B017 - the SDK's own error, whichever it is
        async with Client(bad, read_timeout_seconds=20) as c:
            await c.list_tools()


async def test_symbols_finds_definitions_as_the_lookup_does(connect, api, workspace):
    """The definitions the sidecar's chunker reported for a real fixture file."""
    from jupyter_workspace.server.catalog import Content

    from .test_lookup import indexed

    result = indexed("nav/kalman.cpp")
    await workspace.catalog.mark_changed(result["path"])
    await workspace.catalog.record(
        [result], {result["path"]: Content(result["path"], "", "h", 1, 1.0)}
    )
    async with connect() as client:
        found = structured(await client.call_tool("symbols", {"name": "gai"}))
    _, rest = await api("GET", "lookup", params={"q": "gai", "types": "symbol", "k": "10"})
    assert (
        [(s["name"], s["path"], s["line"]) for s in found["symbols"]]
        == [(h["name"], h["path"], h["line"]) for h in rest["results"]]
        == [("nav.Kalman::gain", "nav/kalman.cpp", 15)]
    )
