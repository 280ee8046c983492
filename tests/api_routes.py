"""The workspace's HTTP routes as the server declares them (handlers.default_handlers), so the
security tests cover every route and verb, including ones added after the tests were written."""

from __future__ import annotations

import re
from collections.abc import Iterator

import tornado.web

from jupyter_workspace.server import handlers

VERBS = ("get", "post", "patch", "put", "delete")
_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
# what each URL parameter is filled with unless a test says otherwise
SAMPLE = {"record_id": "1", "name": "build", "stream_id": "s1"}


def verbs(handler: type) -> list[str]:
    """The HTTP verbs a handler class implements (tornado answers 405 for the others)."""
    return [
        verb.upper()
        for verb in VERBS
        if getattr(handler, verb) is not tornado.web.RequestHandler._unimplemented_method
    ]


def path(pattern: str, **values: str) -> str:
    """The route's path under /workspace/api/ with its URL parameters filled in."""
    filled = _GROUP.sub(lambda m: values.get(m.group(1), SAMPLE[m.group(1)]), pattern)
    return filled.removeprefix("/workspace/api/")


def http_routes() -> Iterator[tuple[str, str, type]]:
    """(method, pattern, handler class) for every HTTP verb of every workspace route."""
    for pattern, handler in handlers.default_handlers:
        if issubclass(handler, tornado.websocket.WebSocketHandler):
            continue
        if not pattern.startswith("/workspace/api/"):
            # /workspace/mcp speaks MCP, not the REST API: tests/test_mcp.py covers its
            # authentication (no token, a wrong one) and bad input with the SDK's client
            continue
        for method in verbs(handler):
            yield method, pattern, handler
