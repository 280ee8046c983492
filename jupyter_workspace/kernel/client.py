"""How a kernel reaches its workspace: find the Jupyter server, call its REST API, follow its
events. Standard library plus tornado (which every ipykernel has); no AI libraries.

The server: `JUPYTER_WORKSPACE_URL` (+ `JUPYTER_WORKSPACE_TOKEN`) if set; else the running
servers Jupyter lists in its runtime dir, preferring the one that started this kernel (its pid
is an ancestor of ours); else, under JupyterHub, the single-user server the hub's environment
names (`JUPYTERHUB_SERVICE_URL`, with its /user/<name>/ prefix, and `JUPYTERHUB_API_TOKEN`,
which that server accepts); else the only one running.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import queue
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import protocol

API = protocol.API_PREFIX.strip("/") + "/"  # joined to the server's URL, which ends with "/"


class WorkspaceError(Exception):
    """Something the notebook user should read: what went wrong and what to do."""


class NoServer(WorkspaceError):
    pass


class NoExtension(WorkspaceError):
    pass


class Unavailable(WorkspaceError):
    """The server answered 503: the AI sidecar or the index is not ready (degraded)."""


class ApiError(WorkspaceError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Server:
    url: str  # ends with "/", includes the base URL
    token: str
    source: str  # how it was found (for messages)
    root_dir: str | None = None

    @property
    def ws_url(self) -> str:
        return "ws" + self.url[len("http") :] if self.url.startswith("http") else self.url


def find_server(runtime_dir: str | None = None) -> Server:
    url = os.environ.get(protocol.WORKSPACE_URL_ENV, "").strip()
    if url:
        return Server(
            url.rstrip("/") + "/",
            os.environ.get(protocol.WORKSPACE_TOKEN_ENV, ""),
            protocol.WORKSPACE_URL_ENV,
        )
    servers = running_servers(runtime_dir)
    if not servers:
        hub = hub_server()
        if hub is not None:
            return hub
        raise NoServer(
            "no running Jupyter server found (looked in "
            f"{runtime_dir or _runtime_dir()}); start one with `jupyter workspace` "
            f"or set {protocol.WORKSPACE_URL_ENV} (and {protocol.WORKSPACE_TOKEN_ENV})"
        )
    ancestors = _ancestors()
    for info in servers:
        if info.get("pid") in ancestors:
            return _server(info, "the Jupyter server that started this kernel")
    # A kernel of a JupyterHub single-user server inherits the hub's variables for that
    # server: they name it even where its runtime file is out of reach (another runtime dir)
    hub = hub_server()
    if hub is not None:
        return hub
    if len(servers) == 1:
        return _server(servers[0], "the only running Jupyter server")
    listed = ", ".join(info.get("url", "?") for info in servers)
    raise NoServer(
        f"{len(servers)} Jupyter servers are running ({listed}) and none started "
        f"this kernel: set {protocol.WORKSPACE_URL_ENV} (and {protocol.WORKSPACE_TOKEN_ENV}) "
        "to choose one"
    )


def running_servers(runtime_dir: str | None = None) -> list[dict[str, Any]]:
    directory = Path(runtime_dir or _runtime_dir())
    found = []
    for path in sorted(directory.glob("jpserver-*.json")):
        try:
            info = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        pid = info.get("pid")
        if isinstance(pid, int) and _alive(pid) and isinstance(info.get("url"), str):
            found.append(info)
    return found


def _server(info: dict[str, Any], source: str) -> Server:
    token = info.get("token") or ""
    if not token and info.get("base_url") == os.environ.get(protocol.HUB_SERVICE_PREFIX_ENV):
        # JupyterHub's single-user server (its runtime file may carry no token of its own)
        token = os.environ.get(protocol.HUB_API_TOKEN_ENV, "")
    return Server(info["url"].rstrip("/") + "/", token, source, info.get("root_dir"))


def hub_server() -> Server | None:
    """The JupyterHub single-user server whose environment this process inherited, if any.

    Its URL is the address the server listens on (`http://0.0.0.0:8888/user/<name>/` in a
    container, `http://:8888/...` when it listens on every interface): such an address is
    reached on this machine, as 127.0.0.1. Its token is the server's own hub API token, which
    the server accepts as its owner's (JupyterHub's `access:servers!server` scope)."""
    url = os.environ.get(protocol.HUB_SERVICE_URL_ENV, "").strip()
    if not url.startswith(("http://", "https://")):
        return None
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if host in ("", "0.0.0.0", "::"):
        netloc = "127.0.0.1" + (f":{parts.port}" if parts.port else "")
        url = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return Server(
        url.rstrip("/") + "/",
        os.environ.get(protocol.HUB_API_TOKEN_ENV, ""),
        f"JupyterHub's environment ({protocol.HUB_SERVICE_URL_ENV})",
    )


def _runtime_dir() -> str:
    from jupyter_core.paths import jupyter_runtime_dir

    return jupyter_runtime_dir()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ancestors(limit: int = 8) -> set[int]:
    pids: set[int] = set()
    pid = os.getpid()
    for _ in range(limit):
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            pid = os.getppid() if not pids else 0
        if pid <= 1:
            break
        pids.add(pid)
    return pids


class Client:
    """The workspace's REST API, synchronously (a magic runs on the kernel's main thread)."""

    def __init__(self, server: Server, timeout: float = 30.0) -> None:
        self.server = server
        self.timeout = timeout
        self._opener = _opener(server.url)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        query = urllib.parse.urlencode({k: v for k, v in (params or {}).items() if v is not None})
        url = self.server.url + API + path + (f"?{query}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.server.token:
            request.add_header("Authorization", f"token {self.server.token}")
        try:
            with self._opener.open(request, timeout=timeout or self.timeout) as response:
                raw = response.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raise self._error(e, path) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise NoServer(
                f"no Jupyter server answers at {self.server.url} (found as "
                f"{self.server.source}): {reason}"
            ) from None

    def _error(self, e: urllib.error.HTTPError, path: str) -> WorkspaceError:
        try:
            message = json.loads(e.read() or b"{}").get("error") or e.reason
        except ValueError:
            message = e.reason
        if e.code == 404 and path == "status":
            return NoExtension(
                f"the Jupyter server at {self.server.url} does not have the "
                "jupyter-workspace extension (enable it: `jupyter server "
                "extension enable jupyter_workspace`)"
            )
        if e.code in (401, 403):
            return ApiError(
                e.code,
                f"the server at {self.server.url} refused the request "
                f"({e.code}): set {protocol.WORKSPACE_TOKEN_ENV} to its token",
            )
        if e.code == 503:
            return Unavailable(str(message))
        return ApiError(e.code, str(message))

    def check(self) -> dict[str, Any]:
        """The server's status; NoServer / NoExtension with a clear message otherwise."""
        return self.request("GET", "status")


def _opener(url: str) -> urllib.request.OpenerDirector:
    """No proxy for a server on this machine: urllib sends every request through `http_proxy`
    unless `no_proxy` names the host, and the proxy would receive the Jupyter token."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if _is_loopback(host):
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Events:
    """The workspace's event socket, read on a thread of its own (the kernel's main thread is
    busy running the magic): `get(timeout)` hands over the events as they come."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connection: Any = None
        self._thread = threading.Thread(target=self._run, name="workspace-events", daemon=True)

    def __enter__(self) -> Events:
        """Connected and subscribed: the server's hello frame has arrived."""
        self._thread.start()
        if not self._ready.wait(15) or self._error is not None:
            self.close()
            error = f"{type(self._error).__name__}: {self._error}" if self._error else "timed out"
            raise NoServer(
                f"cannot open the workspace's event socket at {self.server.url}: {error}"
            )
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def get(self, timeout: float) -> dict[str, Any] | None:
        """The next event, or None if there was none within `timeout` seconds."""
        try:
            event = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if event is None:
            raise NoServer("the workspace's event socket closed")
        return event

    def close(self) -> None:
        loop, connection = self._loop, self._connection
        if loop is not None and connection is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(connection.close)
        self._thread.join(timeout=5) if self._thread.is_alive() else None

    def _run(self) -> None:
        asyncio.run(self._read())

    async def _read(self) -> None:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        self._loop = asyncio.get_running_loop()
        headers = {"Authorization": f"token {self.server.token}"} if self.server.token else {}
        try:
            self._connection = await websocket_connect(
                HTTPRequest(
                    self.server.ws_url + API + "events", headers=headers, connect_timeout=10
                )
            )
            # subscribed once the hello frame is here: nothing published after is missed
            if await asyncio.wait_for(self._connection.read_message(), 12) is None:
                raise ConnectionError("the event socket closed before its hello")
        except Exception as e:  # reported by __enter__
            self._error = e
            self._ready.set()
            return
        self._ready.set()
        while True:
            message = await self._connection.read_message()
            if message is None:
                self._queue.put(None)
                return
            with contextlib.suppress(ValueError):
                self._queue.put(json.loads(message))
