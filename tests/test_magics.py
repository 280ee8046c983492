"""`%workspace` magics in a real IPython kernel (jupyter_client) against a real Jupyter server
with the extension, its sidecar, its index, and the fake LLM."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import queue
import shutil
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from jupyter_client import AsyncKernelManager, BlockingKernelClient

from jupyter_workspace.kernel.client import Client, Server

from .chat_helpers import FAKE_KEY, sidecar_ready
from .waiting import until

FIXTURES = Path(__file__).parent / "fixtures" / "code"
PY = sys.executable


@pytest.fixture
def jp_server_config(jp_server_config, jp_root_dir, fake_llm):
    for f in FIXTURES.iterdir():
        shutil.copy(f, jp_root_dir / f.name)
    (jp_root_dir / "workspace.toml").write_text(
        f'[pipelines.greet]\ncommand = "{PY} -c \\"print(\'hello from the pipeline\')\\""\n'
    )
    config = dict(jp_server_config)
    config["WorkspaceApp"] = {
        **config["WorkspaceApp"],
        "sidecar_enabled": True,
        "index_enabled": True,
        "llm_model": "openai/fake-model",
        "llm_api_base": fake_llm.url + "/v1",
        "llm_api_key": FAKE_KEY,
    }
    return config


# jupyter_client's blocking calls run its coroutines on the calling thread's event loop: give
# each worker thread a loop of its own (not the test's, which serves the server under test).
_POOL = ThreadPoolExecutor(
    4,
    thread_name_prefix="kernel-client",
    initializer=lambda: asyncio.set_event_loop(asyncio.new_event_loop()),
)


async def in_thread(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(
        _POOL, functools.partial(fn, *args, **kwargs)
    )


def wait_ready(client: BlockingKernelClient, timeout: float = 90) -> None:
    """Until the kernel answers kernel_info AND its IOPub messages reach us (jupyter_client's
    own wait gives up when the heartbeat is late, as it is on a loaded machine; without the
    IOPub check a cell's messages can be lost to a not yet connected subscription)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg_id = client.kernel_info()
        try:
            while True:
                reply = client.get_shell_msg(timeout=2)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            client.get_iopub_msg(timeout=0.5)
        except queue.Empty:
            continue
        while True:  # drain what IOPub holds from the handshake
            try:
                client.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                return
    raise TimeoutError(f"the kernel did not answer within {timeout} s")


class Kernel:
    """A kernel driven by jupyter_client's blocking client on worker threads: the server under
    test runs on this test's event loop, which must stay free to answer the kernel."""

    def __init__(self, manager: AsyncKernelManager, client: Any) -> None:
        self.manager = manager
        self.client = client

    async def run(self, code: str, timeout: float = 120, on_output: Any = None) -> dict:
        """Run a cell: {"reply", "outputs" (iopub messages), "text" (all text shown)}."""
        outputs: list[dict] = []

        def hook(msg: dict) -> None:
            if msg["msg_type"] in (
                "stream",
                "display_data",
                "update_display_data",
                "execute_result",
                "error",
            ):
                outputs.append(msg)
                if on_output is not None:
                    on_output(msg)

        reply = await in_thread(
            self.client.execute_interactive, code, output_hook=hook, timeout=timeout
        )
        return {"reply": reply["content"], "outputs": outputs, "text": _text(outputs)}

    async def value(self, expression: str) -> Any:
        """The JSON value of an expression in the kernel."""
        result = await self.run(f"import json as _j; print(_j.dumps({expression}, default=str))")
        return json.loads(result["text"].strip().splitlines()[-1])


def _text(outputs: list[dict]) -> str:
    parts = []
    for msg in outputs:
        content = msg["content"]
        if msg["msg_type"] == "stream":
            parts.append(content["text"])
        elif msg["msg_type"] == "error":
            parts.append("\n".join(content["traceback"]))
        else:
            data = content.get("data", {})
            parts.extend(
                data.get(kind, "") for kind in ("text/plain", "text/markdown", "text/html")
            )
    return "\n".join(parts)


@pytest.fixture
def kernel(jp_serverapp, http_server_client):
    """`k = await kernel(env)`: a real ipykernel with `%load_ext jupyter_workspace` done (and
    the server under test listening: `http_server_client` starts its HTTP server)."""
    started: list[Kernel] = []

    async def start(env: dict[str, str] | None = None, load: bool = True) -> Kernel:
        manager = AsyncKernelManager(kernel_name="python3")
        await manager.start_kernel(env={**os.environ, **(env or {})})
        client = BlockingKernelClient()
        client.load_connection_info(manager.get_connection_info())
        client.start_channels()
        await in_thread(wait_ready, client)
        k = Kernel(manager, client)
        started.append(k)
        if load:
            result = await k.run("%load_ext jupyter_workspace")
            assert result["reply"]["status"] == "ok", result["text"]
        return k

    yield start
    for k in started:  # kill, not shut down: an async shutdown cannot run in this teardown
        k.client.stop_channels()
        process = getattr(k.manager.provisioner, "process", None)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(10)


@pytest.fixture
def workspace_env(jp_serverapp):
    return {
        "JUPYTER_WORKSPACE_URL": jp_serverapp.connection_url,
        "JUPYTER_WORKSPACE_TOKEN": jp_serverapp.identity_provider.token,
    }


async def ready(jp_serverapp, api) -> None:
    await jp_serverapp._post_start()
    await sidecar_ready(api)

    async def idle():
        _, status = await api("GET", "index")
        return status["state"] == "idle" and status["files_pending"] == 0

    await until(idle, timeout=180, interval=0.3)


async def test_the_kernel_finds_the_server_that_started_it(jp_serverapp, kernel):
    jp_serverapp.write_server_info_file()  # what a real server does at start
    k = await kernel()
    result = await k.run("status = %workspace status\nstatus")
    assert "the Jupyter server that started this kernel" in result["text"], result["text"]
    assert "%workspace:" not in result["text"], result["text"]
    from jupyter_workspace import __version__

    assert await k.value("status.raw['version']") == __version__  # the returned value


async def test_notes_tasks_search_index_and_values(jp_serverapp, api, kernel, workspace_env):
    await ready(jp_serverapp, api)
    k = await kernel(workspace_env)
    added = await k.run("%%workspace note add Gyro review\nBias drifts after REQ-77 tests.")
    assert "Note 1 added" in added["text"]
    await k.run("notes = %workspace note list")
    assert await k.value("[n['title'] for n in notes]") == ["Gyro review"]
    shown = await k.run("%workspace note show 1")
    assert "Bias drifts" in shown["text"]
    await k.run("%workspace task add Check the gyro bias --priority high --due 2026-12-01")
    await k.run("tasks = %workspace task list")
    tasks = await k.value("[(t['title'], t['priority'], t['due']) for t in tasks]")
    assert ["Check the gyro bias", "high", "2026-12-01"] in tasks
    task_id = next(
        t for t in (await api("GET", "tasks"))[1]["tasks"] if t["title"] == "Check the gyro bias"
    )["id"]
    await k.run(f"%workspace task done {task_id}")
    assert (await api("GET", f"tasks/{task_id}"))[1]["done"] is True

    result = await k.run('hits = %workspace search "length of a quaternion" -k 3\nhits')
    [shown] = [m for m in result["outputs"] if m["msg_type"] == "execute_result"]
    bundle = shown["content"]["data"]
    assert "application/vnd.jupyter-workspace.results+json" in bundle
    assert 'href="lab/tree/attitude.py"' in bundle["text/html"]
    first = await k.value("(hits[0]['path'], hits[0]['symbol'], len(hits))")
    assert first == ["attitude.py", "quaternion_norm", 3]
    try:
        import pandas  # noqa: F401
    except ImportError:
        pass
    else:
        assert "path" in await k.value("list(hits.df.columns)")
    await k.run("c_hits = %workspace search controller --lang c")
    c_only = await k.value('[h["language"] for h in c_hits]')
    assert c_only and set(c_only) == {"c"}
    index = await k.run("%workspace index status")
    assert "idle" in index["text"]


async def test_ask_streams_a_grounded_answer_and_returns_it(
    jp_serverapp, api, kernel, workspace_env, fake_llm
):
    await ready(jp_serverapp, api)
    fake_llm.tokens = ["The norm ", "is computed ", "in [attitude.py:21]."]
    fake_llm.delay = 0.15
    k = await kernel(workspace_env)
    result = await k.run(
        'answer = %workspace ask "how is the quaternion norm computed?"\n'
        "print(answer.status, answer.sources[0]['path'])"
    )
    updates = [m for m in result["outputs"] if m["msg_type"] == "update_display_data"]
    assert len(updates) >= 2, result["text"]  # it streamed: several updates of one display
    assert "in [attitude.py:21]." in result["text"]
    assert "complete attitude.py" in result["text"]
    assert await k.value("str(answer)") == "The norm is computed in [attitude.py:21]."


async def test_cell_chat_streams_and_an_interrupt_cancels_it(
    jp_serverapp, api, kernel, workspace_env, fake_llm
):
    await ready(jp_serverapp, api)
    fake_llm.tokens = [f"word{i} " for i in range(200)]
    fake_llm.delay = 0.1
    k = await kernel(workspace_env)
    seen = asyncio.Event()

    loop = asyncio.get_running_loop()

    def on_output(msg: dict) -> None:  # on the client's thread
        if msg["msg_type"] == "update_display_data":
            loop.call_soon_threadsafe(seen.set)

    async def interrupt() -> None:
        await asyncio.wait_for(seen.wait(), 60)
        await k.manager.interrupt_kernel()

    interrupter = asyncio.ensure_future(interrupt())
    result = await k.run("%%workspace chat\nTell me a long story.", on_output=on_output)
    await interrupter
    assert "(stopped)" in result["text"]
    assert await k.value("_.status") == "partial"  # the cell's value: the partial answer
    assert fake_llm.wait_for(lambda: fake_llm.disconnects >= 1, timeout=10)
    _, conversations = await api("GET", "conversations")
    latest = conversations["conversations"][0]["id"]
    conversation = (await api("GET", f"conversations/{latest}"))[1]
    assert conversation["messages"][-1]["status"] == "partial"


async def test_run_streams_a_pipeline_and_returns_the_run(jp_serverapp, kernel, workspace_env, api):
    k = await kernel(workspace_env)
    untrusted = await k.run("%workspace run greet")  # until a user trusts workspace.toml
    assert "not been trusted" in untrusted["text"]
    _, listed = await api("GET", "pipelines")
    await api("POST", "pipelines/trust", {"hash": listed["config"]["hash"]})
    result = await k.run("run = %workspace run greet")
    assert "hello from the pipeline" in result["text"]
    assert await k.value("run['status']") == "passed"
    research = await k.run("%workspace research why does the bias drift")
    assert "research job 1 queued (standard)" in research["text"]  # test_magics_research.py


async def test_help_and_usage_errors(jp_serverapp, kernel, workspace_env):
    k = await kernel(workspace_env)
    for command in ("", "search --help", "task add --help", "note --help", "run --help"):
        result = await k.run(f"%workspace {command}")
        assert result["reply"]["status"] == "ok", result["text"]
        assert (f"%workspace {command.split()[0]}" if command else "COMMAND") in result["text"]
        assert "Traceback" not in result["text"]
    bad = await k.run("%workspace frobnicate")
    assert "invalid choice: 'frobnicate'" in bad["text"]
    missing = await k.run("%workspace note")
    assert "needs an action" in missing["text"]
    empty = await k.run("%%workspace chat\n")
    assert "cell body is empty" in empty["text"]  # IPython says it before the magic runs


async def test_each_failure_mode_says_what_to_do(jp_serverapp, kernel, workspace_env, tmp_path):
    url, token = workspace_env["JUPYTER_WORKSPACE_URL"], workspace_env["JUPYTER_WORKSPACE_TOKEN"]
    empty = tmp_path / "empty-runtime"
    empty.mkdir()
    cases = [
        ({"JUPYTER_RUNTIME_DIR": str(empty)}, "status", "no running Jupyter server found"),
        (
            {"JUPYTER_WORKSPACE_URL": "http://127.0.0.1:9/"},
            "status",
            "no Jupyter server answers at http://127.0.0.1:9/",
        ),
        (
            {"JUPYTER_WORKSPACE_URL": url + "elsewhere/", "JUPYTER_WORKSPACE_TOKEN": token},
            "status",
            "does not have the jupyter-workspace extension",
        ),
        (
            {"JUPYTER_WORKSPACE_URL": url, "JUPYTER_WORKSPACE_TOKEN": "wrong"},
            "status",
            "set JUPYTER_WORKSPACE_TOKEN to its token",
        ),
        # the sidecar was never started here: AI routes are unavailable, said plainly
        (workspace_env, "search pid loop", "search unavailable: the AI sidecar is stopped"),
        (workspace_env, "ask what is the gain", "AI sidecar unavailable"),
    ]
    for env, command, says in cases:
        k = await kernel({"JUPYTER_WORKSPACE_URL": "", **env})
        try:
            result = await k.run(f"%workspace {command}", timeout=60)
        except TimeoutError:
            raise AssertionError(f"no answer to %workspace {command} with {env}") from None
        assert result["reply"]["status"] == "ok" and says in result["text"], (env, result)
        k.client.stop_channels()
        await k.manager.shutdown_kernel(now=True)


def listener(reply: bytes | None) -> tuple[socket.socket, list[bytes]]:
    """A socket on loopback that records what each connection sends (and answers `reply`)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    received: list[bytes] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = sock.accept()
                with connection:
                    received.append(connection.recv(65536))
                    if reply is not None:
                        connection.sendall(reply)

    threading.Thread(target=accept, daemon=True).start()
    return sock, received


def test_the_client_sends_nothing_to_a_proxy_for_a_server_on_loopback(monkeypatch):
    """`http_proxy` is for the outside world: a proxy would read the Jupyter token."""
    proxy, to_proxy = listener(None)
    body = b'{"version": "x"}'
    server, to_server = listener(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
    )
    proxy_url = f"http://127.0.0.1:{proxy.getsockname()[1]}"
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.setenv(name, proxy_url)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    try:
        for host in ("127.0.0.1", "localhost"):
            url = f"http://{host}:{server.getsockname()[1]}/"
            client = Client(Server(url, "secret-token", "test"), timeout=10)
            assert client.request("GET", "status") == {"version": "x"}
    finally:
        server.close()
        proxy.close()
    assert to_proxy == []
    assert len(to_server) == 2 and b"secret-token" in to_server[0]
