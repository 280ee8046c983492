"""The sidecar's supervision with a real process: crashes, backoff, degraded mode, restarts."""

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx
import pytest

from .chat_helpers import FAKE_KEY, answer, sidecar_ready
from .waiting import until


@pytest.fixture
def marker(tmp_path):
    """While this file is missing, the sidecar command crashes at start-up."""
    return tmp_path / "sidecar-may-start"


@pytest.fixture
def jp_server_config(jp_server_config, fake_llm, marker, request):
    command = [
        sys.executable,
        "-c",
        "import os, runpy, sys\n"
        f"if not os.path.exists({str(marker)!r}): sys.exit(3)\n"
        "runpy.run_module('jupyter_workspace.sidecar', run_name='__main__')",
    ]
    config = dict(jp_server_config)
    config["WorkspaceApp"] = {
        **config["WorkspaceApp"],
        "sidecar_enabled": True,
        "sidecar_command": command,
        "sidecar_health_interval": 0.5,
        "llm_model": "openai/fake-model",
        "llm_api_base": fake_llm.url + "/v1",
        "llm_api_key": FAKE_KEY,
    }
    return config


@pytest.fixture
def state_log(workspace):
    """Every sidecar.state event, with the time it was published."""
    log = []
    publish = workspace.supervisor.publish

    def record(event):
        log.append((time.monotonic(), event["sidecar"]))
        publish(event)

    workspace.supervisor.publish = record
    return log


async def test_kill_9_mid_stream_errors_the_stream_and_restarts_with_backoff(
    jp_serverapp, api, events, fake_llm, marker, workspace, state_log
):
    marker.touch()
    await jp_serverapp._post_start()
    first = await sidecar_ready(api)
    fake_llm.tokens = [f"t{i} " for i in range(500)]
    fake_llm.delay = 0.02
    client = await events()
    _, sent = await api("POST", "chat", {"message": "stream for a while"})
    await client.next("chat.token", timeout=20)
    os.kill(first["pid"], signal.SIGKILL)

    tokens, end = await answer(client, sent["stream_id"], timeout=15)
    assert end["type"] == "chat.error" and end["kind"] == "sidecar", end
    assert end["message"]["status"] == "error" and end["message"]["content"].startswith("t0 ")

    # the relay may see the stream cut before the supervisor sees the exit: until then the
    # status still says ready, with the killed pid
    await until(lambda: any(s["restarts"] == 1 for _, s in state_log), timeout=30)
    second = await sidecar_ready(api, timeout=60)
    assert second["pid"] != first["pid"] and second["restarts"] == 1
    waits = [s["retry_in"] for _, s in state_log if s["retry_in"]]
    assert len(waits) == 1 and 1.0 <= waits[0] <= 1.1
    assert "killed by signal 9" in next(s["error"] for _, s in state_log if s["retry_in"])

    fake_llm.tokens, fake_llm.delay = ["back", " again"], 0
    _, sent = await api("POST", "chat", {"message": "still there?"})
    _, end = await answer(client, sent["stream_id"])
    assert end["type"] == "chat.done" and end["message"]["content"] == "back again"


async def test_crashing_at_start_up_ends_degraded_after_three_tries(
    jp_serverapp, api, events, marker, workspace, state_log
):
    client = await events()
    started = time.monotonic()
    await jp_serverapp._post_start()
    degraded = await until(lambda: workspace.supervisor.state == "degraded", timeout=30)
    assert degraded
    elapsed = time.monotonic() - started
    waits = [s["retry_in"] for _, s in state_log if s["retry_in"]]
    assert [round(w) for w in waits] == [1, 2, 4]
    assert all(1.0 <= w / base <= 1.1 for w, base in zip(waits, (1, 2, 4), strict=True))
    assert elapsed >= 7
    _, status = await api("GET", "status")
    assert status["sidecar"]["state"] == "degraded" and status["sidecar"]["restarts"] == 3
    assert "exited during start-up (code 3)" in status["sidecar"]["error"]
    # the browser saw every state change
    seen = []
    while True:
        try:
            seen.append((await client.next("sidecar.state", timeout=0.2))["sidecar"]["state"])
        except TimeoutError:
            break
    assert seen[0] == "starting" and seen[-1] == "degraded" and "restarting" in seen

    # degraded: AI routes answer 503 with a reason, everything else works
    code, error = await api("POST", "chat", {"message": "hello?"})
    assert code == 503 and "AI sidecar unavailable (degraded)" in error["error"]
    assert error["sidecar"]["state"] == "degraded"
    assert (await api("POST", "notes", {"title": "still works"}))[0] == 201
    assert (await api("POST", "tasks", {"title": "still works"}))[0] == 201

    # a user's restart, once the cause is fixed, brings it back
    marker.touch()
    code, body = await api("POST", "sidecar/restart", {})
    assert code == 202
    ready = await sidecar_ready(api, timeout=60)
    assert ready["state"] == "ready" and ready["pid"]


async def test_a_hung_sidecar_fails_its_health_checks_and_is_replaced(
    jp_serverapp, api, marker, workspace, state_log
):
    marker.touch()
    await jp_serverapp._post_start()
    first = await sidecar_ready(api)
    os.kill(first["pid"], signal.SIGSTOP)  # alive, but answers nothing
    try:
        second = await sidecar_ready(api, timeout=60)
        while second["pid"] == first["pid"]:
            second = await sidecar_ready(api, timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(first["pid"], signal.SIGKILL)
    assert any("health check" in (s["error"] or "") for _, s in state_log)


async def test_sidecar_needs_its_token_and_listens_on_loopback_only(
    jp_serverapp, api, marker, workspace
):
    marker.touch()
    await jp_serverapp._post_start()
    await sidecar_ready(api)
    sidecar = workspace.supervisor.client
    port = int(sidecar.base.rsplit(":", 1)[1])
    async with httpx.AsyncClient(trust_env=False) as http:
        assert (await http.get(f"{sidecar.base}/health")).status_code == 401
        wrong = {"Authorization": "Bearer " + "x" * 43}
        assert (await http.get(f"{sidecar.base}/health", headers=wrong)).status_code == 401
        r = await http.post(f"{sidecar.base}/chat", json={"model": "x", "messages": []})
        assert r.status_code == 401
        ok = await http.get(f"{sidecar.base}/health", headers=sidecar._headers)
        assert ok.status_code == 200 and ok.json()["state"] == "ready"
    # the listening socket is bound to 127.0.0.1 and nothing else
    listening = [
        line.split()[1]
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if line.split()[3] == "0A" and int(line.split()[1].split(":")[1], 16) == port
    ]
    assert listening == [f"0100007F:{port:04X}"]
    assert not any(
        int(line.split()[1].split(":")[1], 16) == port and line.split()[3] == "0A"
        for line in Path("/proc/net/tcp6").read_text().splitlines()[1:]
    )


async def test_stopping_the_server_stops_the_sidecar(jp_serverapp, api, marker, workspace):
    marker.touch()
    await jp_serverapp._post_start()
    pid = (await sidecar_ready(api))["pid"]
    await workspace.supervisor.stop()
    assert workspace.supervisor.state == "stopped"
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_orphan_when_the_server_is_killed(tmp_path):
    """kill -9 of the Jupyter server: the sidecar notices its parent is gone and exits."""
    port, token = _free_port(), "orphan-test"
    server = subprocess.Popen(
        [
            "jupyter",
            "server",
            str(tmp_path),
            f"--ServerApp.port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.token={token}",
            "--ServerApp.open_browser=False",
            "--ServerApp.allow_root=True",
            "--WorkspaceApp.llm_model=openai/none",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")},
    )
    try:
        deadline = time.monotonic() + 90
        pid = None
        while pid is None:
            assert time.monotonic() < deadline, "sidecar never became ready"
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/workspace/api/status",
                    headers={"Authorization": f"token {token}"},
                )
                with urllib.request.urlopen(request, timeout=2) as response:
                    sidecar = json.loads(response.read())["sidecar"]
                if sidecar["state"] == "ready":
                    pid = sidecar["pid"]
            except OSError:
                pass
            time.sleep(0.2)
        server.kill()
        server.wait(10)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid), "the sidecar outlived its server"
    finally:
        if server.poll() is None:
            server.kill()


async def test_a_manual_restart_during_the_backoff_wait_gives_the_tries_back_once(tmp_path):
    """A user's restart while the supervisor waits to retry starts a fresh process at once and
    resets the tries, and nothing more: 4 launches (1 + 3 retries) after it, then degraded."""
    from jupyter_workspace.server.supervisor import Supervisor

    launches = tmp_path / "launches"
    command = [
        sys.executable,
        "-c",
        f"open({str(launches)!r}, 'a').write('x')\nraise SystemExit(3)",
    ]
    clicked = []
    supervisor = None

    def publish(event):
        if event["sidecar"]["retry_in"] and not clicked:
            # the first backoff wait has begun: a user clicks restart during it
            clicked.append(asyncio.ensure_future(supervisor.restart()))

    supervisor = Supervisor(command, publish, backoff=(0.5, 0.01, 0.01), start_timeout=30)
    supervisor.start()
    try:
        await until(lambda: supervisor.state == "degraded", timeout=60)
    finally:
        await supervisor.stop()
    assert len(launches.read_text()) == 1 + 4
