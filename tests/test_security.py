"""Keep the audit's findings closed (issue 13): every route refuses strangers without reading
what they send, and nothing a stranger sends is written.

The routes come from the server's own handler table (tests/api_routes.py), so a route added
later is covered without editing this file."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
import tornado.httpclient

from jupyter_workspace.server.handlers import WorkspaceHandler

from .api_routes import http_routes, path

HTTP_ROUTES = [(method, pattern) for method, pattern, _ in http_routes()]
BODY_ROUTES = [
    (method, pattern) for method, pattern in HTTP_ROUTES if method in ("POST", "PATCH", "PUT")
]
# a stranger's request: no credentials, a wrong token in the header, a wrong one in the URL
STRANGERS = {
    "no token": ({"Authorization": ""}, {}),
    "wrong token": ({"Authorization": "token WRONG"}, {}),
    "?token=WRONG": ({"Authorization": ""}, {"token": "WRONG"}),
}
# a body each route would accept from its owner, so that a refusal is what keeps it out
BODIES = {
    "notes": {"title": "hijack", "body": "x"},
    "tasks": {"title": "hijack"},
    "chat": {"message": "hijack"},
    "conversations": {"title": "hijack"},
    "entities": {"note": 1},
    "pipelines": {"hash": "0" * 64},
}


def body_for(method: str, route: str) -> bytes | None:
    if method not in ("POST", "PATCH", "PUT"):
        return None
    return json.dumps(BODIES.get(route.split("/")[0], {"title": "hijack"})).encode()


@pytest.fixture
def everything(api, workspace):
    """`await everything()`: the whole database as SQL text, the sidecar's state and the
    pipeline runs in flight (seeding a note, a task and a conversation first)."""

    async def dump():
        if not await workspace.store.run(
            lambda conn: conn.execute("SELECT count(*) FROM notes").fetchone()[0]
        ):
            await api("POST", "notes", {"title": "private", "body": "secret"})
            await api("POST", "tasks", {"title": "private"})
            await workspace.store.run(
                lambda conn: conn.execute(
                    "INSERT INTO conversations(title, created, updated) VALUES ('c', 'now', 'now')"
                )
            )
        sql = await workspace.store.run(lambda conn: "\n".join(conn.iterdump()))
        return sql, workspace.supervisor.describe(), sorted(workspace.pipelines.active)

    return dump


@pytest.mark.parametrize("method,pattern", HTTP_ROUTES)
async def test_auth_matrix(api, jp_serverapp, everything, method, pattern):
    """Every verb of every route refuses a stranger, whether or not the server refuses
    undecorated handlers by itself (allow_unauthenticated_access), and writes nothing."""
    before = await everything()
    route = path(pattern)
    for server_refuses_strangers in (True, False):
        jp_serverapp.web_app.settings["allow_unauthenticated_access"] = not server_refuses_strangers
        for who, (headers, params) in STRANGERS.items():
            status, data = await api(
                method, route, raw=body_for(method, route), headers=headers, params=params
            )
            assert status in (401, 403), (who, status, data)
    assert await everything() == before


@pytest.mark.parametrize("who", STRANGERS)
@pytest.mark.parametrize("server_refuses_strangers", [True, False])
async def test_events_socket_refuses_strangers(
    jp_ws_fetch, jp_serverapp, workspace, who, server_refuses_strangers
):
    jp_serverapp.web_app.settings["allow_unauthenticated_access"] = not server_refuses_strangers
    headers, params = STRANGERS[who]
    with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
        await jp_ws_fetch("workspace", "api", "events", headers=headers, params=params)
    assert refused.value.code in (401, 403)
    assert workspace.bus.client_count == 0


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
    head = (
        f"{method} {jp_base_url}workspace/api/{path(pattern)} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{jp_http_port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {200 * 1024 * 1024}\r\n\r\n"
    )
    answer = await raw_request(jp_http_port, head, b'{"title": ')
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]
    # the body is left unread and the connection closed: the answer says so, for proxies
    assert b"\r\nConnection: close\r\n" in answer.split(b"\r\n\r\n", 1)[0], answer[:400]
    _, notes = await api("GET", "notes")
    assert notes["notes"] == []


async def test_oversize_chunked_body_is_413_and_never_held(api, jp_fetch, workspace, monkeypatch):
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

    response = await jp_fetch(
        "workspace", "api", "notes", method="POST", body_producer=chunks, raise_error=False
    )
    assert response.code == 413 and "limit" in json.loads(response.body)["error"]
    assert held and max(held) <= limit
    _, notes = await api("GET", "notes")
    assert notes["notes"] == []


async def test_events_socket_refuses_another_origin(
    jp_fetch, jp_ws_fetch, jp_serverapp, jp_http_port
):
    """A page on another site cannot open the events socket with the user's browser session
    (a token in a header is not a browser credential: jupyter_server skips the check then)."""
    token = jp_serverapp.identity_provider.token
    # the session cookie is named after the host, and jp_ws_fetch connects to localhost
    page = await jp_fetch(
        "api",
        "status",
        params={"token": token},
        headers={"Authorization": "", "Host": f"localhost:{jp_http_port}"},
    )
    cookie = "; ".join(c.split(";", 1)[0] for c in page.headers.get_list("Set-Cookie"))
    session = {"Authorization": "", "Cookie": cookie}
    with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
        await jp_ws_fetch(
            "workspace", "api", "events", headers={**session, "Origin": "http://evil.example"}
        )
    assert refused.value.code in (401, 403)
    same = await jp_ws_fetch(
        "workspace",
        "api",
        "events",
        headers={**session, "Origin": f"http://localhost:{jp_http_port}"},
    )
    same.close()


async def test_pipeline_cwd_stays_inside_the_root(api, jp_root_dir, tmp_path_factory, everything):
    """A trusted workspace.toml still cannot run a command outside the served folder: `..`, an
    absolute path, a sibling whose name starts like the root, a symlink out."""
    outside = tmp_path_factory.mktemp("outside")
    sibling = jp_root_dir.parent / (jp_root_dir.name + "-secret")
    sibling.mkdir()
    (jp_root_dir / "out").symlink_to(outside)
    escapes = {"up": "..", "absolute": str(outside), "sibling": f"../{sibling.name}", "link": "out"}
    (jp_root_dir / "workspace.toml").write_text(
        "".join(
            f'[pipelines.{name}]\ncommand = "touch escaped"\ncwd = "{cwd}"\n\n'
            for name, cwd in escapes.items()
        )
    )
    _, listed = await api("GET", "pipelines")
    status, _ = await api("POST", "pipelines/trust", {"hash": listed["config"]["hash"]})
    assert status == 200
    before = await everything()
    for name in escapes:
        status, data = await api("POST", f"pipelines/{name}/run", {})
        assert status == 400 and "outside the served folder" in data["error"], (name, data)
    assert await everything() == before
    assert not [p for p in (outside, sibling, jp_root_dir.parent) if (p / "escaped").exists()]
