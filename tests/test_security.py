"""Keep the audit's findings closed (issue 13): every route refuses strangers without reading
what they send, and nothing a stranger sends is written.

The routes come from the server's own handler table (tests/api_routes.py), so a route added
later is covered without editing this file."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from jupyter_workspace.server.handlers import WorkspaceHandler

from .api_routes import http_routes, path

BODY_ROUTES = [(method, pattern) for method, pattern, _ in http_routes()
               if method in ("POST", "PATCH", "PUT")]


async def raw_request(port: int, head: str, body: bytes = b"") -> bytes:
    """Send a request by hand, close our sending side, and read the answer to its end."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, ("127.0.0.1", port))
        await loop.sock_sendall(sock, head.encode() + body)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := await loop.sock_recv(sock, 65536):
            answer += chunk
        return answer
    finally:
        sock.close()


@pytest.mark.parametrize("method,pattern", BODY_ROUTES)
@pytest.mark.parametrize("server_refuses_strangers", [True, False])
async def test_unauthenticated_body_is_refused_before_it_is_read(
    api, jp_serverapp, jp_http_port, jp_base_url, method, pattern, server_refuses_strangers
):
    """A stranger announces 200 MiB and sends none of it: the 403 comes from the headers
    alone (before, the server waited for, and buffered, the whole body)."""
    jp_serverapp.web_app.settings["allow_unauthenticated_access"] = not server_refuses_strangers
    head = (f"{method} {jp_base_url}workspace/api/{path(pattern)} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{jp_http_port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {200 * 1024 * 1024}\r\n\r\n")
    answer = await raw_request(jp_http_port, head, b'{"title": ')
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]
    _, notes = await api("GET", "notes")
    assert notes["notes"] == []


async def test_oversize_chunked_body_is_413_and_never_held(api, jp_fetch, workspace,
                                                           monkeypatch):
    """A signed-in client's body past the limit, sent without a Content-Length: counted as
    it arrives, never held beyond the limit, and answered 413."""
    limit = workspace.limits.max_body_bytes
    held = []
    receive = WorkspaceHandler.data_received

    def measure(self, chunk):
        receive(self, chunk)
        held.append(len(self.request.body))

    monkeypatch.setattr(WorkspaceHandler, "data_received", measure)

    async def chunks(write):
        await write(b'{"title": "big", "body": "')
        for _ in range(8):
            await write(b"x" * limit)
        await write(b'"}')

    response = await jp_fetch("workspace", "api", "notes", method="POST",
                              body_producer=chunks, raise_error=False)
    assert response.code == 413 and "limit" in json.loads(response.body)["error"]
    assert held and max(held) <= limit
    _, notes = await api("GET", "notes")
    assert notes["notes"] == []
