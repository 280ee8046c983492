"""The workspace under a real JupyterHub: its configurable-http-proxy (npm), a local spawner that
runs each user's single-user server with a home of its own, two users with passwords.

Each user logs in through the hub's login form (a cookie session, OAuth to their server, as a
browser does) and with a hub API token; creates notes and searches a file of their own home;
neither reaches the other's workspace API with their cookie, their token, or their server's own
tokens. A kernel started by a user's server finds that server for the `%workspace` magics.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import websocket

REPO = Path(__file__).resolve().parent.parent
# as ./dev installs it (setup_hub_proxy): 5.3 needs Node.js 22, the project asks for 20
CHP_VERSION = "5.2.0"
CHP_DIR = REPO / "build" / "node-tools"
VENV_BIN = Path(sys.executable).parent
PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-2"}
# a function only each user's home holds, and words that find it
FILES = {
    "alice": (
        "attitude.py",
        "frobnicate_quaternion",
        "def frobnicate_quaternion(q):\n"
        '    """Normalise the attitude quaternion before the Kalman update."""\n'
        "    norm = sum(c * c for c in q) ** 0.5\n"
        "    return [c / norm for c in q]\n",
        "normalise attitude quaternion",
    ),
    "bob": (
        "thermal.py",
        "dissipate_radiator_heat",
        "def dissipate_radiator_heat(watts, area):\n"
        '    """Radiator panel temperature for the heat the avionics dissipate."""\n'
        "    sigma = 5.670e-8\n"
        "    return (watts / (0.85 * sigma * area)) ** 0.25\n",
        "radiator panel temperature heat",
    ),
}
MAX_TITLE_CHARS = 150  # not the default (200): shows the JSON config file is read
START_TIMEOUT = 120.0  # seconds: a server with its sidecar and model on a loaded machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.25)


def proxy_command() -> str:
    """configurable-http-proxy: ./dev's copy, one on PATH, else installed here as ./dev does."""
    local = CHP_DIR / "node_modules" / ".bin" / "configurable-http-proxy"
    if local.exists():
        return str(local)
    found = shutil.which("configurable-http-proxy")
    if found:
        return found
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("configurable-http-proxy is not installed and npm is missing: run ./dev test")
    CHP_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--prefix", str(CHP_DIR), "--no-save", "--no-audit", "--no-fund"]
        + ["--loglevel=error", f"configurable-http-proxy@{CHP_VERSION}"],
        check=True,
        timeout=300,
    )
    return str(local)


HUB_CONFIG = """\
from jupyterhub.auth import Authenticator
from jupyterhub.spawner import SimpleLocalProcessSpawner

PASSWORDS = {passwords!r}


class PasswordAuthenticator(Authenticator):
    async def authenticate(self, handler, data):
        name = data.get("username", "")
        return name if PASSWORDS.get(name) == data.get("password") else None


c = get_config()  # noqa
c.JupyterHub.authenticator_class = PasswordAuthenticator
c.Authenticator.allowed_users = set(PASSWORDS)
c.JupyterHub.bind_url = "http://127.0.0.1:{port}/"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.JupyterHub.db_url = "sqlite:///{tmp}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{tmp}/jupyterhub_cookie_secret"
c.JupyterHub.pid_file = "{tmp}/jupyterhub.pid"
# each user's server as this OS user, but in a home of its own (HOME, cwd, served root)
c.JupyterHub.spawner_class = SimpleLocalProcessSpawner
c.SimpleLocalProcessSpawner.home_dir_template = "{tmp}/home/{{username}}"
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.args = {args!r}
# the workspace's settings in a JSON config file, as Zero to JupyterHub's singleuser.extraFiles
# mounts /etc/jupyter/jupyter_server_config.json (docs/deploy.md)
c.Spawner.environment = {{"JUPYTER_CONFIG_PATH": "{tmp}/etc/jupyter"}}
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
"""


@dataclass
class Hub:
    url: str
    home: Path
    process: subprocess.Popen
    log: Path

    def log_tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    tmp = tmp_path_factory.mktemp("hub")
    port, hub_port, api_port = free_port(), free_port(), free_port()
    for name, (filename, _, text, _) in FILES.items():
        (tmp / "home" / name).mkdir(parents=True)
        (tmp / "home" / name / filename).write_text(text)
    # root in CI (JupyterHub's own spawners would refuse it; this is the test's machine)
    args = ["--allow-root"]
    settings = {
        # the converted embedding model of this machine, shared as an image would ship it
        "model_cache_dir": str(
            Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
            / "jupyter-workspace"
            / "models"
        ),
        "sqlite_synchronous": "NORMAL",
        "watch_debounce": 0.1,
        "max_title_chars": MAX_TITLE_CHARS,
    }
    (tmp / "etc" / "jupyter").mkdir(parents=True)
    (tmp / "etc" / "jupyter" / "jupyter_server_config.json").write_text(
        json.dumps({"WorkspaceApp": settings})
    )
    (tmp / "jupyterhub_config.py").write_text(
        HUB_CONFIG.format(
            passwords=PASSWORDS,
            port=port,
            hub_port=hub_port,
            api_port=api_port,
            proxy=proxy_command(),
            tmp=tmp,
            singleuser=str(VENV_BIN / "jupyterhub-singleuser"),
            args=args,
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    log = tmp / "hub.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(VENV_BIN / "jupyterhub"), "-f", str(tmp / "jupyterhub_config.py")],
            cwd=tmp,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    the_hub = Hub(f"http://127.0.0.1:{port}", tmp / "home", process, log)

    def up() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"jupyterhub exited ({process.returncode}):\n{the_hub.log_tail()}")
        try:
            return httpx.get(f"{the_hub.url}/hub/api/", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, 60, "JupyterHub answering through its proxy")
        yield the_hub
    finally:
        # the hub stops the single-user servers it spawned (and they their sidecars) and its
        # proxy; anything left of its process group after that is killed
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        for info in tmp.glob("home/*/.local/share/jupyter/runtime/jpserver-*.json"):
            pid = json.loads(info.read_text()).get("pid")
            with contextlib.suppress(OSError):  # gone already (the usual case)
                if b"jupyterhub-singleuser" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


@dataclass
class User:
    """One hub user: a browser-like cookie session and an API token of their own."""

    name: str
    hub: Hub
    session: httpx.Client
    token: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def home(self) -> Path:
        return self.hub.home / self.name

    @property
    def prefix(self) -> str:
        return f"/user/{self.name}/"

    def hub_xsrf(self) -> dict[str, str]:
        return {"X-XSRFToken": self.session.cookies.get("_xsrf", path="/hub/") or ""}

    def server_xsrf(self) -> dict[str, str]:
        return {"X-XSRFToken": self.session.cookies.get("_xsrf", path=self.prefix) or ""}

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The workspace API of this user's server, with their session (cookie + XSRF)."""
        headers = {**self.server_xsrf(), **kwargs.pop("headers", {})}
        return self.session.request(
            method, f"{self.prefix}workspace/api/{path}", headers=headers, **kwargs
        )

    def server_info(self) -> dict[str, Any]:
        """The runtime file the user's server wrote in the user's home (as a kernel reads it)."""
        files = list(self.home.glob(".local/share/jupyter/runtime/jpserver-*.json"))
        assert len(files) == 1, files
        return json.loads(files[0].read_text())


def log_in(hub: Hub, name: str, password: str) -> httpx.Client:
    session = httpx.Client(base_url=hub.url, follow_redirects=True, timeout=60)
    session.get("/hub/login")
    xsrf = session.cookies.get("_xsrf", path="/hub/")
    response = session.post(
        "/hub/login", data={"username": name, "password": password, "_xsrf": xsrf}
    )
    assert response.status_code == 200, response.text[:500]
    assert session.cookies.get("jupyterhub-hub-login", path="/hub/"), "no hub login cookie"
    return session


@pytest.fixture(scope="module")
def users(hub: Hub) -> Iterator[dict[str, User]]:
    """Both users logged in, their servers started and open (OAuth done), their sidecars ready
    and each user's file indexed."""
    started = time.monotonic()
    found: dict[str, User] = {}
    for name, password in PASSWORDS.items():
        user = User(name, hub, log_in(hub, name, password))
        response = user.session.post(f"/hub/api/users/{name}/server", headers=user.hub_xsrf())
        assert response.status_code in (201, 202), response.text[:500]
        response = user.session.post(
            f"/hub/api/users/{name}/tokens",
            json={"note": "test_jupyterhub", "expires_in": 900},
            headers=user.hub_xsrf(),
        )
        assert response.status_code == 201, response.text[:500]
        user.token = response.json()["token"]
        found[name] = user
    try:
        for user in found.values():

            def ready(user: User = user) -> bool:
                servers = user.session.get(
                    f"/hub/api/users/{user.name}", headers=user.hub_xsrf()
                ).json()["servers"]
                return bool(servers.get("", {}).get("ready"))

            wait_for(ready, START_TIMEOUT, f"{user.name}'s server")
            # a browser's first page: the OAuth round trip to the hub sets the server's cookie
            page = user.session.get(f"{user.prefix}lab")
            assert page.status_code == 200 and str(page.url).endswith(f"{user.prefix}lab")
            assert user.session.cookies.get(f"jupyterhub-user-{user.name}", path=user.prefix)
        for user in found.values():

            def indexed(user: User = user) -> dict[str, Any] | None:
                status = user.api("GET", "status").json()
                index = status["index"]
                done = status["sidecar"]["state"] == "ready" and index["state"] == "idle"
                return status if done and index["files_indexed"] >= 1 else None

            wait_for(indexed, START_TIMEOUT, f"{user.name}'s sidecar and index")
    except Exception:
        print(hub.log_tail(120))
        raise
    took = time.monotonic() - started
    print(f"two users logged in, servers started, files indexed in {took:.1f} s")
    yield found
    for user in found.values():
        user.session.close()


def parent_pid(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def rss_mib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return round(kib / 1024)


def test_each_user_has_a_server_state_dir_and_sidecar_of_their_own(hub, users):
    sidecars = set()
    for user in users.values():
        status = user.api("GET", "status").json()
        assert Path(status["root_dir"]) == user.home
        assert Path(status["state_dir"]) == user.home / ".jupyter-workspace"
        assert (user.home / ".jupyter-workspace" / "workspace.sqlite").is_file()
        assert (user.home / ".jupyter-workspace" / "index").is_dir()
        assert status["limits"]["max_title_chars"] == MAX_TITLE_CHARS
        info = user.server_info()
        assert info["base_url"] == user.prefix
        # the sidecar is a child of this user's server, running in this user's home
        pid = status["sidecar"]["pid"]
        assert parent_pid(pid) == info["pid"]
        assert Path(os.readlink(f"/proc/{pid}/cwd")) == user.home
        sidecars.add(pid)
        # what each user's server costs under the hub (docs/deploy.md's per-user figures)
        print(
            f"{user.name}: server RSS {rss_mib(info['pid'])} MiB, "
            f"sidecar RSS {rss_mib(pid)} MiB (index ready, one file)"
        )
    assert len(sidecars) == 2


def test_notes_and_search_by_cookie_and_token(hub, users):
    for user in users.values():
        title = f"{user.name}'s design note {uuid.uuid4().hex[:8]}"
        response = user.api("POST", "notes", json={"title": title, "body": "by cookie"})
        assert response.status_code == 201, response.text
        user.notes.append(title)
        long_title = "x" * (MAX_TITLE_CHARS + 1)  # the limit of the config file
        assert user.api("POST", "notes", json={"title": long_title}).status_code == 400
        # an API token of the user's, as a script or an external agent would use
        title = f"{user.name}'s token note {uuid.uuid4().hex[:8]}"
        response = httpx.post(
            f"{hub.url}{user.prefix}workspace/api/notes",
            json={"title": title, "body": "by token"},
            headers={"Authorization": f"token {user.token}"},
        )
        assert response.status_code == 201, response.text
        user.notes.append(title)
    for user in users.values():
        other = next(u for u in users.values() if u is not user)
        listed = [n["title"] for n in user.api("GET", "notes").json()["notes"]]
        assert set(user.notes) <= set(listed)
        assert not set(other.notes) & set(listed), "another user's notes in this user's list"
        filename, symbol, _, words = FILES[user.name]
        hits = user.api("GET", "search", params={"q": words}).json()["results"]
        assert hits and hits[0]["path"] == filename and hits[0]["symbol"] == symbol
        # the other user's file is not in this user's index
        other_file, other_symbol, _, other_words = FILES[other.name]
        hits = user.api("GET", "search", params={"q": f"{other_words} {other_symbol}"}).json()
        assert other_file not in {hit["path"] for hit in hits["results"]}


def test_neither_user_reaches_the_other_workspace(hub, users):
    alice, bob = users["alice"], users["bob"]
    bob_note = f"bob's private note {uuid.uuid4().hex[:8]}"
    assert bob.api("POST", "notes", json={"title": bob_note}).status_code == 201
    count = len(bob.api("GET", "notes").json()["notes"])
    bob_notes_url = f"{hub.url}{bob.prefix}workspace/api/notes"
    secrets = [bob_note, FILES["bob"][1]]

    def refused(response: httpx.Response) -> None:
        assert response.status_code in (302, 401, 403), (response.status_code, response.text)
        if response.status_code == 302:
            assert "/hub/" in response.headers["location"]
        assert not any(secret in response.text for secret in secrets)

    # alice's browser session: the API, and bob's pages (the OAuth the hub refuses)
    for method, path, body in [
        ("GET", "notes", None),
        ("GET", "status", None),
        ("GET", f"search?q={FILES['bob'][3]}", None),
        ("POST", "notes", {"title": "planted by alice"}),
    ]:
        refused(
            alice.session.request(
                method,
                f"{bob.prefix}workspace/api/{path}",
                json=body,
                headers=alice.server_xsrf(),
                follow_redirects=False,
            )
        )
    # a refused body is left unread and its connection closed: the proxy must not send bob's
    # next request down that socket (it answered 503 "socket hang up" before Connection: close)
    assert bob.api("GET", "notes").status_code == 200
    page = alice.session.get(f"{bob.prefix}lab")
    assert page.status_code == 403, (page.status_code, page.url, page.history)
    assert not alice.session.cookies.get(f"jupyterhub-user-{bob.name}", path=bob.prefix)
    # alice's hub token, her server's token (as her kernels have it), her server's own token
    alice_server = alice.server_info()
    with open(f"/proc/{alice_server['pid']}/environ", "rb") as f:
        environ = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
    alice_tokens = [
        alice.token,
        environ[b"JUPYTERHUB_API_TOKEN"].decode(),
        alice_server["token"],
    ]
    bob_direct = bob.server_info()["url"]  # bob's server itself, not through the proxy
    for token in alice_tokens:
        headers = {"Authorization": f"token {token}"}
        for url in (bob_notes_url, f"{bob_direct}workspace/api/notes"):
            refused(httpx.get(url, headers=headers))
            refused(httpx.post(url, json={"title": "planted by alice"}, headers=headers))
        with pytest.raises(websocket.WebSocketBadStatusException) as refusal:
            websocket.create_connection(
                f"ws://127.0.0.1:{hub.url.rsplit(':', 1)[1]}{bob.prefix}workspace/api/events",
                header=[f"Authorization: token {token}"],
                timeout=10,
            )
        assert refusal.value.status_code == 403
    refused(httpx.get(bob_notes_url))  # no credentials at all
    # the same requests with bob's own token are answered: the refusals above are about alice
    mine = {"Authorization": f"token {bob.token}"}
    assert bob_note in httpx.get(bob_notes_url, headers=mine).text
    events = websocket.create_connection(
        f"ws://127.0.0.1:{hub.url.rsplit(':', 1)[1]}{bob.prefix}workspace/api/events",
        header=[f"Authorization: token {bob.token}"],
        timeout=10,
    )
    try:
        assert json.loads(events.recv())["type"] == "hello"
    finally:
        events.close()
    assert len(bob.api("GET", "notes").json()["notes"]) == count, "alice planted a note"


KERNEL_CODE = """\
import json, os
%load_ext jupyter_workspace
from jupyter_workspace.kernel import client as workspace_client
found = workspace_client.find_server()
# the server's runtime file out of reach: the hub's environment names the server
from_hub = workspace_client.find_server(runtime_dir="/nonexistent-runtime-dir")
hub_status = workspace_client.Client(from_hub).check()
%workspace note add {title}
hits = %workspace search "{words}"
print("RESULT " + json.dumps({{
    "user": os.environ.get("JUPYTERHUB_USER"),
    "found": [found.url, found.source],
    "from_hub": [from_hub.url, from_hub.source],
    "hub_root": hub_status["root_dir"],
    "hits": [hit["path"] for hit in hits],
}}))
"""


def run_in_kernel(hub: Hub, user: User, code: str, timeout: float = 90) -> str:
    """Start a kernel through the hub's proxy (the user's token), run `code`, return stdout."""
    headers = {"Authorization": f"token {user.token}"}
    response = httpx.post(
        f"{hub.url}{user.prefix}api/kernels", json={"name": "python3"}, headers=headers
    )
    assert response.status_code == 201, response.text
    kernel = response.json()["id"]
    port = hub.url.rsplit(":", 1)[1]
    socket_ = websocket.create_connection(
        f"ws://127.0.0.1:{port}{user.prefix}api/kernels/{kernel}/channels",
        header=[f"Authorization: token {user.token}"],
        timeout=timeout,
    )
    try:
        msg_id = uuid.uuid4().hex
        socket_.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": "execute_request",
                        "username": user.name,
                        "session": uuid.uuid4().hex,
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": {"code": code, "silent": False, "store_history": True},
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(socket_.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                out.append("\n".join(content["traceback"]))
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(out)
        raise TimeoutError(f"the kernel did not finish within {timeout} s: {''.join(out)}")
    finally:
        socket_.close()
        httpx.delete(f"{hub.url}{user.prefix}api/kernels/{kernel}", headers=headers)


def test_magics_in_a_hub_kernel_find_the_users_server(hub, users):
    alice, bob = users["alice"], users["bob"]
    title = f"from the kernel of alice {uuid.uuid4().hex[:8]}"
    code = KERNEL_CODE.format(title=title, words=FILES["alice"][3])
    out = run_in_kernel(hub, alice, code)
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    assert lines, out
    result = json.loads(lines[-1][len("RESULT ") :])
    assert result["user"] == "alice"
    server = alice.server_info()
    # the runtime file of the server that started the kernel, its /user/alice/ prefix kept
    assert result["found"] == [server["url"], "the Jupyter server that started this kernel"]
    assert result["found"][0].endswith("/user/alice/")
    assert result["from_hub"][0] == server["url"]
    assert "JUPYTERHUB_SERVICE_URL" in result["from_hub"][1]
    assert Path(result["hub_root"]) == alice.home
    assert result["hits"] and result["hits"][0] == FILES["alice"][0]
    assert title in [n["title"] for n in alice.api("GET", "notes").json()["notes"]]
    assert title not in [n["title"] for n in bob.api("GET", "notes").json()["notes"]]


@pytest.mark.parametrize(
    ("service_url", "expected"),
    [
        ("http://127.0.0.1:41234/user/alice/", "http://127.0.0.1:41234/user/alice/"),
        # a server listening on every interface (KubeSpawner's 0.0.0.0, or '' since JupyterHub
        # 5.3) is reached on this machine
        ("http://0.0.0.0:8888/user/alice", "http://127.0.0.1:8888/user/alice/"),
        ("http://:8888/user/alice/", "http://127.0.0.1:8888/user/alice/"),
        ("http://[::]:8888/user/alice/", "http://127.0.0.1:8888/user/alice/"),
        ("http://10.1.2.3:8888/user/alice/", "http://10.1.2.3:8888/user/alice/"),
    ],
)
def test_hub_environment_names_the_server(monkeypatch, tmp_path, service_url, expected):
    from jupyter_workspace.kernel import client

    for name in ("JUPYTER_WORKSPACE_URL", "JUPYTER_WORKSPACE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTERHUB_SERVICE_URL", service_url)
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "hub-token")
    server = client.find_server(runtime_dir=str(tmp_path))  # no runtime file there
    assert (server.url, server.token) == (expected, "hub-token")
    assert "JUPYTERHUB_SERVICE_URL" in server.source


def test_runtime_file_without_token_takes_the_hub_token(monkeypatch, tmp_path):
    """A runtime file with no token of its own, of the hub's server for this kernel: the
    server's hub API token is sent; to any other server, none."""
    from jupyter_workspace.kernel import client

    monkeypatch.delenv("JUPYTER_WORKSPACE_URL", raising=False)
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "hub-token")
    monkeypatch.delenv("JUPYTERHUB_SERVICE_URL", raising=False)
    info = {"pid": os.getpid(), "url": "http://127.0.0.1:1/user/alice/", "token": ""}
    (tmp_path / "jpserver-1.json").write_text(json.dumps({**info, "base_url": "/user/alice/"}))
    assert client.find_server(runtime_dir=str(tmp_path)).token == "hub-token"
    (tmp_path / "jpserver-1.json").write_text(json.dumps({**info, "base_url": "/"}))
    assert client.find_server(runtime_dir=str(tmp_path)).token == ""


def test_hub_environment_wins_over_an_unrelated_running_server(monkeypatch, tmp_path):
    """Another Jupyter server of this OS user (not the kernel's) is not taken for the hub's:
    the hub's environment names the server this kernel belongs to."""
    from jupyter_workspace.kernel import client

    monkeypatch.delenv("JUPYTER_WORKSPACE_URL", raising=False)
    monkeypatch.setenv("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:41234/user/alice/")
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "hub-token")
    # a live process that is not an ancestor of this one stands for the other server
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        other = {"pid": stranger.pid, "url": "http://127.0.0.1:8888/", "token": "other"}
        (tmp_path / "jpserver-1.json").write_text(json.dumps({**other, "base_url": "/"}))
        server = client.find_server(runtime_dir=str(tmp_path))
        assert (server.url, server.token) == ("http://127.0.0.1:41234/user/alice/", "hub-token")
        # without the hub's environment, the only running server is still found
        monkeypatch.delenv("JUPYTERHUB_SERVICE_URL")
        server = client.find_server(runtime_dir=str(tmp_path))
        assert (server.url, server.token) == ("http://127.0.0.1:8888/", "other")
    finally:
        stranger.kill()
        stranger.wait()
