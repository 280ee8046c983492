"""The MCP tools (mcp.py says how they are served): each calls the manager its REST route
calls, with the caller's permission checked per tool (mcp.TOOLS). Loaded on the first MCP
request: the SDK (pydantic models) stays out of the server's start."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_REQUEST, CallToolResult, ListToolsResult, TextContent

from .. import __version__
from . import fields
from .catalog import read_text
from .errors import WorkspaceError
from .mcp import MAX_READ_CHARS, MAX_READ_LINES, MAX_SNIPPET_CHARS, SCOPE_KEY, TOOLS, Tool
from .paths import confine

if TYPE_CHECKING:
    from .app import WorkspaceApp
    from .handlers import WorkspaceHandler

_CLIENT_NAME = re.compile(r"[^A-Za-z0-9._-]+")
CLIENT_INFO_META = "io.modelcontextprotocol/clientInfo"


def _context(ctx: Any) -> Any:
    """The SDK's request context: a tool's `Context` holds it, a handler is given it."""
    return ctx.request_context if isinstance(ctx, Context) else ctx


def client_name(ctx: Any) -> str:
    """'mcp:<the client's name>', cleaned: from `initialize` (handshake-era protocol) or the
    request's own envelope (2026-07-28 and later); 'mcp:client' without one."""
    context = _context(ctx)
    name: Any = None
    params = None
    for holder in (getattr(context, "connection", None), getattr(context, "session", None)):
        params = params or getattr(holder, "client_params", None)
    if params is not None:
        name = params.client_info.name
    else:
        info = (getattr(context, "meta", None) or {}).get(CLIENT_INFO_META)
        name = info.get("name") if isinstance(info, dict) else None
    cleaned = _CLIENT_NAME.sub("-", str(name or "")).strip("-")[:40]
    return f"mcp:{cleaned or 'client'}"


def _handler(ctx: Any) -> WorkspaceHandler:
    request = _context(ctx).request
    handler = None if request is None else request.scope.get(SCOPE_KEY)
    if handler is None:  # pragma: no cover - every request comes through MCPHandler
        raise PermissionError("no authenticated Jupyter request behind this call")
    return handler


def _allowed(handler: WorkspaceHandler, tool: Tool) -> bool:
    return bool(
        handler.authorizer.is_authorized(handler, handler.current_user, tool.action, tool.resource)
    )


def build_server(app: WorkspaceApp) -> Any:
    """The MCP server: the SDK's MCPServer, with the tools listed and run per caller."""

    def refusal(ctx: Any, name: str) -> str | None:
        """Why the caller may not run tool `name`, or None."""
        tool = TOOLS.get(name)
        if tool is None:
            return None  # the SDK answers an unknown tool itself
        if tool.writes and not app.mcp_write_tools:
            return (
                f"'{name}' writes to the workspace, and writing tools are off: the user can "
                "turn them on with WorkspaceApp.mcp_write_tools = True"
            )
        if not _allowed(_handler(ctx), tool):
            return f"'{name}' needs the '{tool.action}' permission on '{tool.resource}'"
        return None

    class WorkspaceMCP(MCPServer):
        async def _handle_list_tools(self, ctx: Any, params: Any) -> Any:
            tools = await self.list_tools()
            shown = [tool for tool in tools if refusal(ctx, tool.name) is None]
            return ListToolsResult(tools=shown)

        async def _handle_read_resource(self, ctx: Any, params: Any) -> Any:
            # a resource stands for the tool that reads the same thing, and its permission
            reader = "note_read" if str(params.uri).startswith("workspace://notes/") else "search"
            tool = TOOLS[reader]
            if not _allowed(_handler(ctx), tool):
                message = f"reading it needs the '{tool.action}' permission on '{tool.resource}'"
                raise MCPError(code=INVALID_REQUEST, message=message)
            return await super()._handle_read_resource(ctx, params)

        async def _handle_call_tool(self, ctx: Any, params: Any) -> Any:
            why = refusal(ctx, params.name)
            if why is not None:
                return CallToolResult(content=[TextContent(type="text", text=why)], is_error=True)
            return await super()._handle_call_tool(ctx, params)

    server = WorkspaceMCP(
        name="jupyter-workspace",
        version=__version__,
        instructions=(
            "The user's engineering workspace: a hybrid (meaning + words) index of the code "
            "under the served folder with file:line answers, their notes, a task list linked "
            "to code, research jobs that write cited reports, and build/test pipelines. "
            "Search first, then read the lines a hit names. Paths are relative to the "
            "served folder; lines are 1-based and inclusive."
        ),
    )

    async def call(coro: Awaitable[Any]) -> Any:
        """A manager's answer; its 4xx (bad argument, unknown id) as the tool's error."""
        try:
            return await coro
        except WorkspaceError as error:
            raise ToolError(error.message) from None

    tool = server.tool

    @tool(
        description=(
            "Search the indexed code and notes. query: what to find, in words or by meaning "
            "(str). k: hits, 1-50 (int, default 10). mode: 'hybrid' (default), 'vector' or "
            "'text'. path: a glob relative to the root, e.g. 'src/**' or '*.f90'. language: "
            "e.g. 'c', 'cpp', 'fortran', 'python'. Returns hits with path, start_line, "
            "end_line, symbol, kind, language and the snippet."
        )
    )
    async def search(
        query: str,
        k: int = 10,
        mode: str = "hybrid",
        path: str | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:
        answer = await call(
            app.search.search(
                {"q": query, "k": str(k), "mode": mode, "lang": language, "path": path}
            )
        )
        hits = [
            {
                key: hit.get(key)
                for key in ("path", "start_line", "end_line", "symbol", "kind", "language")
            }
            | {"snippet": _cut(hit.get("snippet") or "", MAX_SNIPPET_CHARS)}
            | ({"cell": hit["cell"]} if hit.get("cell") is not None else {})
            for hit in answer["results"]
        ]
        extra = {key: answer[key] for key in ("words_only", "index_unavailable") if key in answer}
        return {"hits": hits, **extra}

    @tool(
        description=(
            "Read lines of a text file under the served folder. path: relative to the root "
            "(str). start_line: first line, 1-based (int, default 1). end_line: last line, "
            f"inclusive (int, default start_line + 199; at most {MAX_READ_LINES} lines). "
            "Returns the lines, numbered, and the file's line count."
        )
    )
    async def read(path: str, start_line: int = 1, end_line: int | None = None) -> dict[str, Any]:
        rel = _relative(app.root_dir, path)
        if start_line < 1:
            raise ToolError("start_line is 1 or more")
        last = start_line + 199 if end_line is None else end_line
        if last < start_line:
            raise ToolError("end_line is before start_line")
        last = min(last, start_line + MAX_READ_LINES - 1)
        limit = app.index_max_source_bytes
        content = await asyncio.to_thread(read_text, app.root_dir, rel, limit, app.rules)
        if content.text is None:
            raise ToolError(f"cannot read '{rel}': {_skip_reason(content.skip)}")
        lines = content.text.splitlines()
        if start_line > max(len(lines), 1):
            raise ToolError(f"'{rel}' has {len(lines)} lines")
        shown = lines[start_line - 1 : last]
        text = "\n".join(f"{start_line + i}: {line}" for i, line in enumerate(shown))
        return {
            "path": rel,
            "start_line": start_line,
            "end_line": start_line + len(shown) - 1,
            "lines": len(lines),
            "text": _cut(text, MAX_READ_CHARS),
        }

    @tool(
        description=(
            "Find definitions (functions, types, macros, subroutines) by name, from the index. "
            "name: the name or its start (str). k: 1-50 (int, default 10). Returns each "
            "definition's name, kind, path and lines."
        )
    )
    async def symbols(name: str, k: int = 10) -> dict[str, Any]:
        answer = await call(app.lookup.lookup({"q": name, "types": "symbol", "k": str(k)}))
        found = [
            {key: item.get(key) for key in ("name", "kind", "path", "line", "end_line", "cell")}
            for item in answer["results"]
        ]
        return {"symbols": found}

    @tool(
        description=(
            "The index's state: 'idle' (all indexed), 'indexing', 'embedding' (searchable by "
            "words, meaning catching up), 'off' or 'failed', with file and chunk counts."
        )
    )
    async def index_status() -> dict[str, Any]:
        return await app.index_status()

    @tool(
        description=(
            "List the user's notes, newest first. query: words that must all appear (str, "
            "optional). Returns id, title, updated and the body's first 200 characters."
        )
    )
    async def notes_list(query: str | None = None) -> dict[str, Any]:
        notes = await call(app.notes.list(query))
        return {"notes": [_note_summary(note) for note in notes[:200]]}

    @tool(description="Read a note, whole. id: the note's id (int). Returns title and body.")
    async def note_read(id: int) -> dict[str, Any]:
        return await call(app.notes.get(fields.record_id(str(id), "note")))

    @tool(
        description=(
            "Write a new note (markdown). title (str), body (str). Returns the note with its id."
        )
    )
    async def note_create(title: str, body: str, ctx: Context) -> dict[str, Any]:
        data = {"title": title, "body": body}
        return await call(app.notes.create(data, None, client_name(ctx)))

    @tool(
        description=(
            "List tasks. status: 'open' (default), 'done' or 'all'. query: words (str, optional). "
            "Returns id, title, done, priority, due, source (path and line) and origin "
            "('detected' for TODO/FIXME comments and build failures)."
        )
    )
    async def tasks_list(status: str = "open", query: str | None = None) -> dict[str, Any]:
        return {"tasks": (await call(app.tasks.list(status, query)))[:500]}

    @tool(
        description=(
            "Add a task. title (str). priority: 'low', 'normal' (default), 'high' or 'urgent'. "
            "due: a date, YYYY-MM-DD (optional). path and line: the code it is about (optional)."
        )
    )
    async def task_create(
        title: str,
        ctx: Context,
        priority: str = "normal",
        due: str | None = None,
        path: str | None = None,
        line: int | None = None,
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"title": title, "priority": priority, "due": due}
        if path is not None:
            data["source"] = {"path": path, "line": line}
        return await call(app.tasks.create(data, None, client_name(ctx)))

    @tool(
        description=(
            "Change a task. id (int); any of: title (str), done (bool), priority ('low', "
            "'normal', 'high', 'urgent'), due (YYYY-MM-DD)."
        )
    )
    async def task_update(
        id: int,
        ctx: Context,
        title: str | None = None,
        done: bool | None = None,
        priority: str | None = None,
        due: str | None = None,
    ) -> dict[str, Any]:
        changes = {"title": title, "done": done, "priority": priority, "due": due}
        data = {key: value for key, value in changes.items() if value is not None}
        task_id = fields.record_id(str(id), "task")
        return await call(app.tasks.update(task_id, data, None, client_name(ctx)))

    @tool(
        description=(
            "Queue a research job: it searches the code and notes, reads around the hits and "
            "writes a cited report into a note. question (str). depth: 'quick', 'standard' "
            "(default) or 'deep'. paths: globs to keep to (list of str, optional). Returns the "
            "job; poll research_status, then research_result."
        )
    )
    async def research_start(
        question: str, depth: str = "standard", paths: list[str] | None = None
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"question": question, "depth": depth}
        if paths:
            data["scope"] = {"paths": paths}
        return _job(await call(app.research.create(data)))

    @tool(
        description=(
            "A research job's state. id (int). status is 'queued', 'running', 'done', 'failed' "
            "or 'cancelled'; step and progress (0-1) say where it is."
        )
    )
    async def research_status(id: int) -> dict[str, Any]:
        job_id = fields.record_id(str(id), "research job")
        return _job(await call(app.research.get(job_id, with_sources=False)))

    @tool(
        description=(
            "A finished research job's report (markdown with file:line citations) and the "
            "files it read. id (int)."
        )
    )
    async def research_result(id: int) -> dict[str, Any]:
        job = await call(app.research.get(fields.record_id(str(id), "research job")))
        if job.get("note_id") is None:
            raise ToolError(f"research job {id} has no report yet (status '{job['status']}')")
        note = await call(app.notes.get(job["note_id"]))
        return {**_job(job), "report": note["body"], "sources": job.get("sources", [])}

    @tool(
        description=(
            "Start a pipeline from workspace.toml (a build or test command). name (str). "
            "Returns the run; poll run_status with its id."
        )
    )
    async def pipeline_run(name: str) -> dict[str, Any]:
        return await call(app.pipelines.run(name, "mcp"))

    @tool(
        description=(
            "A pipeline run's state and the end of its output. id (int). status is 'running', "
            "'passed', 'failed' or 'stopped'; failures list the file:line problems it found."
        )
    )
    async def run_status(id: int) -> dict[str, Any]:
        run = await call(app.pipelines.get_run(fields.record_id(str(id), "run"), with_output=True))
        if isinstance(run.get("output"), str):
            run["output"] = run["output"][-20_000:]
        return run

    @server.resource(
        "workspace://index/status",
        name="index-status",
        description="The index's state and counts (as the index_status tool).",
        mime_type="application/json",
    )
    async def index_resource() -> dict[str, Any]:
        return await app.index_status()

    @server.resource(
        "workspace://notes/{note_id}",
        name="note",
        description="A note's markdown, by id.",
        mime_type="text/markdown",
    )
    async def note_resource(note_id: str) -> str:
        try:
            note = await app.notes.get(fields.record_id(note_id, "note"))
        except WorkspaceError as error:
            raise ResourceNotFoundError(error.message) from None
        return f"# {note['title']}\n\n{note['body']}"

    return server


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "\n… (cut)"


def _relative(root: Path, path: str) -> str:
    """A root-relative path as the tools take it, or a ToolError (absolute, `..`, a link out)."""
    try:
        return confine(root, path, "path")
    except WorkspaceError as error:
        raise ToolError(error.message) from None


def _skip_reason(skip: str | None) -> str:
    return skip or "not a text file"


def _note_summary(note: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": note["id"],
        "title": note["title"],
        "updated": note["updated"],
        "preview": note["body"][:200],
        "written_by": note.get("written_by"),
    }


def _job(job: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "question", "status", "step", "progress", "detail", "error", "note_id")
    return {key: job.get(key) for key in keep}
