"""The events WebSocket: every change reaches every connected client, tagged with its origin."""

import asyncio
import base64
import json
import os
import socket

from jupyter_workspace.server.events import MAX_SOCKET_BACKLOG, socket_backlog
from jupyter_workspace.server.handlers import EventsHandler


async def test_note_events_reach_every_client(api, events):
    first, second = await events(), await events()
    _, note = await api(
        "POST", "notes", {"title": "shared"}, headers={"X-Workspace-Client": "tab-a"}
    )
    for client in (first, second):
        event = await client.next("note.created")
        assert event["note"] == note and event["origin"] == "tab-a"

    _, updated = await api("PATCH", f"notes/{note['id']}", {"body": "new"})
    for client in (first, second):
        event = await client.next("note.updated")
        assert event["note"] == updated and event["origin"] is None

    await api("DELETE", f"notes/{note['id']}")
    for client in (first, second):
        assert (await client.next("note.deleted"))["id"] == note["id"]


async def test_task_events(api, events):
    client = await events()
    _, task = await api("POST", "tasks", {"title": "t"})
    assert (await client.next("task.created"))["task"] == task
    _, done = await api("PATCH", f"tasks/{task['id']}", {"done": True})
    assert (await client.next("task.updated"))["task"] == done
    await api("DELETE", f"tasks/{task['id']}")
    assert (await client.next("task.deleted"))["id"] == task["id"]


async def test_refused_changes_and_no_op_edits_send_nothing(api, events):
    _, task = await api("POST", "tasks", {"title": "t"})
    client = await events()
    await api("PATCH", f"tasks/{task['id']}", {"priority": "nope"})
    await api("PATCH", f"tasks/{task['id']}", {})
    assert await client.none_within(0.3) == []


async def test_ping_pong_and_client_count(api, events, jp_ws_fetch):
    client = await events()
    await client.connection.write_message(json.dumps({"type": "ping"}))
    assert (await client.next())["type"] == "pong"
    await client.connection.write_message("not json at all")  # ignored, socket stays up
    await client.connection.write_message(json.dumps({"type": "ping"}))
    assert (await client.next())["type"] == "pong"
    _, status = await api("GET", "status")
    assert status["clients"] == 1


async def test_closed_client_does_not_break_fan_out(api, events, workspace):
    gone, staying = await events(), await events()
    gone.connection.close()
    await asyncio.sleep(0.1)
    await api("POST", "notes", {"title": "after close"})
    assert (await staying.next("note.created"))["note"]["title"] == "after close"
    assert workspace.bus.client_count == 1


async def raw_event_socket(port: int, base_url: str, auth: dict[str, str]) -> socket.socket:
    """An events WebSocket opened by hand that never reads after the handshake (a stalled
    client: a suspended laptop, a frozen tab), with a small receive buffer so that the
    kernel does not absorb what the server sends."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    headers = {
        "Host": f"127.0.0.1:{port}",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": key,
        "Sec-WebSocket-Version": "13",
        **auth,
    }
    request = (
        f"GET {base_url}workspace/api/events HTTP/1.1\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        + "\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += await loop.sock_recv(sock, 1)  # byte by byte: leave the frames unread
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock


async def test_stalled_client_is_dropped_with_bounded_backlog(
    api, workspace, jp_http_port, jp_base_url, jp_auth_header, monkeypatch
):
    """A client that stops reading costs at most the socket bound, then is closed (it
    reconnects and refetches); the server does not buffer every event for it."""
    sockets = []
    open_socket = EventsHandler.open

    def remember(self, *args, **kwargs):
        sockets.append(self)
        open_socket(self, *args, **kwargs)

    monkeypatch.setattr(EventsHandler, "open", remember)
    stalled = await raw_event_socket(jp_http_port, jp_base_url, jp_auth_header)
    (handler,) = sockets
    size, count = 900_000, 48  # ~43 MB of events: past the bound plus any kernel buffers
    most = 0
    for i in range(count):
        status, _ = await api("POST", "notes", {"title": f"big {i}", "body": "x" * size})
        assert status == 201
        most = max(most, socket_backlog(handler))
    assert most <= MAX_SOCKET_BACKLOG + 2 * size
    assert socket_backlog(handler) == 0
    received = 0
    loop = asyncio.get_running_loop()
    while chunk := await loop.sock_recv(stalled, 65536):  # the server closed it: EOF
        received += len(chunk)
    stalled.close()
    assert received < count * size
    assert workspace.bus.client_count == 0
