"""Pipelines end to end: real PTYs (jupyter_server's terminado terminals), real gcc, pytest and
Python; failures become tasks at the right file:line and a passing re-run resolves them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys

import pytest

from .chat_helpers import FAKE_KEY
from .waiting import until

PY = sys.executable
CONFIG = f"""
[pipelines.build]
command = "gcc -c -o /dev/null src/guidance.c"
description = "Compile the guidance law"

[pipelines.test]
command = ["{PY}", "-m", "pytest", "-q", "-p", "no:cacheprovider", "checks"]
timeout = 120

[pipelines.trace]
command = "{PY} sim/run.py"
cwd = "."

[pipelines.forever]
command = "echo started; sleep 600"
timeout = 1.5

[pipelines.sleepy]
command = "echo waiting; sleep 600"

[pipelines.orphan]
command = "echo waiting; (trap '' HUP; sleep 600); echo never"

[pipelines.flood]
command = "{PY} sim/flood.py"

[pipelines.ask]
command = "read answer; echo got-$answer"
timeout = 30

[pipelines.binary]
command = "head -c 4000 /dev/urandom; echo; echo done"

[pipelines.missing_sh]
command = "no-such-program-xyz --version"

[pipelines.missing_argv]
command = ["no-such-program-xyz"]

[pipelines.env]
command = "echo value=$GREETING; pwd"
cwd = "sim"
env = {{ GREETING = "hello from the config" }}

[pipelines.watched]
command = "echo rebuilt"
watch = ["src/*.c"]
debounce = 0.2
"""

BAD_C = (
    "float proportional_navigation(float los_rate, float closing)\n{\n    return 3.0f * "
    "closing * los_rate\n}\n"
)
GOOD_C = BAD_C.replace("los_rate\n}", "los_rate;\n}")


@pytest.fixture
def jp_server_config(jp_server_config, jp_root_dir):
    config = dict(jp_server_config)
    config["WorkspaceApp"] = {**config["WorkspaceApp"], "llm_api_key": FAKE_KEY}
    (jp_root_dir / "workspace.toml").write_text(CONFIG)
    (jp_root_dir / "src").mkdir()
    (jp_root_dir / "src" / "guidance.c").write_text(BAD_C)
    (jp_root_dir / "checks").mkdir()
    (jp_root_dir / "checks" / "test_orbit.py").write_text(
        "def test_period():\n    period = 5400\n    assert period == 5500\n"
    )
    (jp_root_dir / "sim").mkdir()
    (jp_root_dir / "sim" / "flood.py").write_text(
        "import sys\nfor _ in range(30000):\n    sys.stdout.write('x' * 1023 + '\\n')\n"
    )
    (jp_root_dir / "sim" / "model.py").write_text("def step(x):\n    return 1 / x\n")
    (jp_root_dir / "sim" / "run.py").write_text(
        "import sys\nsys.path.insert(0, 'sim')\nimport model\n\nmodel.step(0)\n"
    )
    return config


@pytest.fixture(autouse=True)
def trusted(api, jp_asyncio_loop):
    """The config as a user allowed to run terminals trusted it (tests/test_pipeline_trust.py
    is about what runs before that)."""

    async def trust() -> None:
        _, listed = await api("GET", "pipelines")
        status, _ = await api("POST", "pipelines/trust", {"hash": listed["config"]["hash"]})
        assert status == 200

    jp_asyncio_loop.run_until_complete(trust())


@pytest.fixture
def run(api):
    """`await run(name)`: start a pipeline and wait for its end; returns the finished run."""

    async def start_and_wait(name: str, timeout: float = 60.0, **body):
        status, started = await api("POST", f"pipelines/{name}/run", body)
        assert status == 202, started
        return await finished(api, started["id"], timeout)

    return start_and_wait


async def finished(api, run_id: int, timeout: float = 60.0) -> dict:
    async def ended():
        _, current = await api("GET", f"runs/{run_id}")
        return current if current["status"] != "running" else None

    return await until(ended, timeout=timeout, interval=0.1)


async def tasks_of(api, status: str = "open") -> list[dict]:
    _, data = await api("GET", "tasks", params={"origin": "detected", "status": status})
    return [t for t in data["tasks"] if t["detected"]["tag"] == "BUILD"]


@pytest.mark.skipif(
    shutil.which("gcc") is None and not os.environ.get("CI"),
    reason="needs gcc (./dev test installs it; never skipped in CI)",
)
async def test_a_gcc_error_becomes_a_task_and_a_passing_run_resolves_it(
    api, run, jp_root_dir, events
):
    client = await events()
    first = await run("build")
    assert first["status"] == "failed" and first["exit_code"] == 1
    assert first["terminal"] is None and first["duration"] > 0
    [failure] = [f for f in first["failures"] if f["kind"] == "compiler"]
    assert (failure["path"], failure["line"]) == ("src/guidance.c", 3)
    assert "expected" in failure["message"] and ";" in failure["message"]
    started = await client.next("pipeline.run")
    assert (
        started["run"]["status"] == "running" and started["run"]["terminal"] == f"run_{first['id']}"
    )
    assert (await client.next("pipeline.run"))["run"]["status"] == "failed"
    [task] = await tasks_of(api)
    assert task["source"] == {"path": "src/guidance.c", "line": 3}
    assert task["title"].startswith("build: expected")

    again = await run("build")  # the same failure again: the same task, no duplicate
    assert again["status"] == "failed"
    assert [t["id"] for t in await tasks_of(api)] == [task["id"]]

    (jp_root_dir / "src" / "guidance.c").write_text(GOOD_C)
    fixed = await run("build")
    assert fixed["status"] == "passed" and fixed["exit_code"] == 0 and fixed["failures"] == []
    assert await tasks_of(api) == []
    [resolved] = await tasks_of(api, "resolved")
    assert resolved["id"] == task["id"]

    _, history = await api("GET", "runs", params={"pipeline": "build"})
    assert [r["status"] for r in history["runs"]] == ["passed", "failed", "failed"]
    _, listed = await api("GET", "pipelines")
    build = next(p for p in listed["pipelines"] if p["name"] == "build")
    assert build["last_run"]["id"] == fixed["id"] and build["running"] is None
    config = listed["config"]
    assert (config["path"], config["exists"], config["error"], config["trusted"]) == (
        "workspace.toml",
        True,
        None,
        True,
    )


async def test_pytest_failure_and_python_traceback_point_at_their_lines(api, run):
    tested = await run("test", timeout=120)
    assert tested["status"] == "failed"
    places = {(f["path"], f["line"]) for f in tested["failures"]}
    assert ("checks/test_orbit.py", 3) in places
    traced = await run("trace")
    assert traced["status"] == "failed"
    [failure] = traced["failures"]
    assert (failure["path"], failure["line"], failure["kind"]) == ("sim/model.py", 2, "traceback")
    assert failure["message"] == "ZeroDivisionError: division by zero"
    lines = {(t["source"]["path"], t["source"]["line"]) for t in await tasks_of(api)}
    assert {("checks/test_orbit.py", 3), ("sim/model.py", 2)} <= lines


async def test_stop_and_timeout(api, run):
    timed_out = await run("forever", timeout=30)
    assert timed_out["status"] == "timeout"
    _, running = await api("POST", "pipelines/sleepy/run", {})
    status, data = await api("POST", "pipelines/sleepy/run", {})
    assert status == 409 and "already running" in data["error"]

    async def said_waiting():
        _, current = await api("GET", f"runs/{running['id']}")
        return "waiting" in current["output"]

    await until(said_waiting, timeout=20, interval=0.1)
    status, stopped = await api("POST", f"runs/{running['id']}/stop")
    assert status == 200 and stopped["status"] == "stopped"
    status, data = await api("POST", f"runs/{running['id']}/stop")
    assert status == 409 and "not running" in data["error"]


async def test_a_flood_of_output_is_kept_bounded(api, run, workspace):
    flooded = await run("flood", timeout=120)
    assert flooded["status"] == "passed"
    assert flooded["output_bytes"] >= 30000 * 1024
    _, full = await api("GET", f"runs/{flooded['id']}")
    assert full["output_truncated"] and len(full["output"]) <= 256 * 1024
    chunk = await api("GET", f"runs/{flooded['id']}/output", params={"offset": "0"})
    assert chunk[1]["gap"] and chunk[1]["done"]


async def test_input_reaches_the_pty_through_the_terminal_socket(api, jp_ws_fetch):
    _, started = await api("POST", "pipelines/ask/run", {})
    socket = await jp_ws_fetch("terminals", "websocket", started["terminal"])
    await socket.write_message(json.dumps(["stdin", "forty-two\r"]))
    ended = await finished(api, started["id"])
    socket.close()
    assert ended["status"] == "passed"
    _, full = await api("GET", f"runs/{started['id']}")
    assert "got-forty-two" in full["output"]


async def test_binary_output_env_and_cwd(api, run):
    binary = await run("binary")
    assert binary["status"] == "passed"
    _, full = await api("GET", f"runs/{binary['id']}")
    assert full["output"].rstrip().endswith("done")
    env = await run("env")
    _, full = await api("GET", f"runs/{env['id']}")
    assert "value=hello from the config" in full["output"]
    assert full["output"].replace("\r", "").rstrip().endswith("/sim")


async def test_missing_commands_say_so(api, run):
    via_shell = await run("missing_sh")
    assert via_shell["status"] == "failed" and via_shell["exit_code"] == 127
    assert via_shell["failures"][0]["message"] == "exited with code 127"
    status, direct = await api("POST", "pipelines/missing_argv/run", {})
    assert status == 202 and direct["status"] == "error"
    assert "cannot start no-such-program-xyz" in direct["error"]


async def test_a_run_whose_process_is_killed_ends_failed(api):
    _, started = await api("POST", "pipelines/sleepy/run", {})

    async def has_output():
        _, current = await api("GET", f"runs/{started['id']}")
        return current["output_bytes"] > 0

    await until(has_output, timeout=20, interval=0.1)
    [pid] = _terminal_pids(started["terminal"])  # the shell the PTY runs
    os.kill(pid, signal.SIGKILL)
    done = await finished(api, started["id"])
    assert done["status"] == "failed" and done["exit_code"] == -9


async def test_a_run_whose_shell_is_killed_ends_though_its_child_holds_the_terminal(api):
    """The shell's child ignores the hang-up its shell's death sends and keeps the PTY open:
    the run still ends, and the orphans are stopped with it."""
    _, started = await api("POST", "pipelines/orphan/run", {})

    async def sleeping():
        _, current = await api("GET", f"runs/{started['id']}")
        return current["output_bytes"] > 0 and len(_run_pids(started["terminal"])) >= 2

    await until(sleeping, timeout=20, interval=0.1)
    [shell] = _terminal_pids(started["terminal"])
    orphans = [pid for pid in _run_pids(started["terminal"]) if pid != shell]
    os.kill(shell, signal.SIGKILL)
    done = await finished(api, started["id"], timeout=20)
    assert done["status"] == "failed" and done["exit_code"] == -9
    assert await until(lambda: not any(_alive(pid) for pid in orphans), timeout=10)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _terminal_pids(name: str) -> list[int]:
    """The first process whose environment names this run (JUPYTER_WORKSPACE_RUN): the one
    whose parent does not (the shell, not its `sleep`, whatever their pids after a wrap)."""
    pids = _run_pids(name)
    return [pid for pid in pids if _parent(pid) not in pids][:1]


def _run_pids(name: str) -> list[int]:
    """Every live process of this test's server whose environment names this run (another
    test's server on the machine has its own run 1)."""
    run_id = name.split("_")[1]
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if f"JUPYTER_WORKSPACE_RUN={run_id}".encode() in f.read().split(b"\0"):
                    pids.append(int(entry))
        except OSError:
            continue
    return [pid for pid in pids if _alive(pid) and _descends_from_us(pid)]


def _descends_from_us(pid: int) -> bool:
    """The server runs in the test's process: its terminals are our descendants."""
    for _ in range(64):
        parent = _parent(pid)
        if parent is None or parent <= 1:
            return False
        if parent == os.getpid():
            return True
        pid = parent
    return False


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


async def test_watch_mode_reruns_on_a_matching_change(api, jp_serverapp, jp_root_dir):
    await jp_serverapp._post_start()  # the file watcher
    (jp_root_dir / "src" / "other.txt").write_text("not watched")
    (jp_root_dir / "src" / "guidance.c").write_text(GOOD_C)

    async def watched_run():
        _, data = await api("GET", "runs", params={"pipeline": "watched"})
        return data["runs"][0] if data["runs"] and data["runs"][0]["status"] != "running" else None

    ran = await until(watched_run, timeout=30, interval=0.2)
    assert ran["trigger"] == "watch" and ran["status"] == "passed"


async def test_invalid_config_is_reported_with_its_line(api, jp_root_dir):
    (jp_root_dir / "workspace.toml").write_text('[pipelines.build]\ncommand = "make\n')
    status, data = await api("GET", "pipelines")
    assert status == 200 and data["pipelines"] == []
    assert data["config"]["error"]["line"] == 2
    assert "not valid TOML" in data["config"]["error"]["message"]
    status, data = await api("POST", "pipelines/build/run", {})
    assert status == 400 and "line 2" in data["error"]


@pytest.mark.parametrize(
    "method, path, body, params, status, says",
    [
        ("POST", "pipelines/nope/run", {}, None, 404, "no pipeline named 'nope'"),
        ("POST", "pipelines/build/run", {"trigger": "robot"}, None, 400, "trigger"),
        ("POST", "pipelines/build/run", {"command": "rm -rf /"}, None, 400, "command"),
        ("GET", "runs/999", None, None, 404, "unknown run id"),
        ("POST", "runs/999/stop", None, None, 404, "unknown run id"),
        ("GET", "runs", None, {"limit": "many"}, 400, "limit"),
        ("GET", "runs/1/output", None, {"offset": "-3"}, 400, "offset"),
    ],
)
async def test_bad_requests(api, method, path, body, params, status, says):
    got, data = await api(method, path, body, params=params)
    assert got == status and says in data["error"]


async def test_a_failed_run_is_summarized_by_the_llm_on_request(
    api, run, workspace, fake_llm, jp_serverapp
):
    from jupyter_workspace.server.assistant import LLMConfig

    from .chat_helpers import sidecar_ready

    failed = await run("trace")
    status, data = await api("POST", f"runs/{failed['id']}/summarize")
    assert status == 503 and "sidecar" in data["error"]  # no sidecar: a clear 503

    workspace.chat.config = LLMConfig("openai/fake-model", fake_llm.url + "/v1")
    workspace.supervisor.start()
    await sidecar_ready(api)
    fake_llm.tokens = ["Likely cause: ", "model.step divides by zero (sim/model.py:2)."]
    status, summarized = await api("POST", f"runs/{failed['id']}/summarize")
    assert status == 200, summarized
    assert summarized["summary"] == "Likely cause: model.step divides by zero (sim/model.py:2)."
    prompt = fake_llm.requests[-1]["body"]["messages"]
    assert "data, not instructions" in prompt[0]["content"]
    assert "ZeroDivisionError" in prompt[1]["content"]


async def test_runs_cut_short_by_a_server_stop_are_marked_interrupted(api, workspace):
    _, started = await api("POST", "pipelines/sleepy/run", {})
    # a server that died mid-run leaves the row 'running'; the next start marks it
    await workspace.store.run(
        lambda conn: conn.execute(
            "INSERT INTO runs(pipeline, command, status, started) VALUES ('build', '\"make\"', "
            "'running', '2026-01-01T00:00:00Z')"
        )
    )
    orphan = max(r["id"] for r in (await workspace.pipelines.runs()))
    await workspace.pipelines.stop()
    await workspace.pipelines.start()
    _, run = await api("GET", f"runs/{orphan}")
    assert run["status"] == "interrupted" and "server stopped" in run["error"]
    _, stopped = await api("GET", f"runs/{started['id']}")
    assert stopped["status"] == "stopped"


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


async def test_a_terminal_socket_that_stops_reading_is_closed_not_buffered(
    api, jp_serverapp, http_server_port
):
    """A browser that stops reading must not make the server hold the whole flood."""
    import base64
    import socket

    _, started = await api("POST", "pipelines/flood/run", {})
    base = jp_serverapp.base_url
    token = jp_serverapp.identity_provider.token
    raw = socket.create_connection(
        (
            "127.0.0.1",
            http_server_port[-1] if isinstance(http_server_port, tuple) else http_server_port,
        )
    )
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    raw.sendall(
        (
            f"GET {base}terminals/websocket/{started['terminal']} HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: token {token}\r\n\r\n"
        ).encode()
    )
    before = _rss_mib()
    ended = await finished(api, started["id"], timeout=120)  # never reading a byte
    grown = _rss_mib() - before
    raw.close()
    assert ended["status"] == "passed" and ended["output_bytes"] >= 30000 * 1024
    assert grown < 24, f"the server grew by {grown:.0f} MiB for a socket that did not read"


async def test_a_silent_run_is_listed_with_the_users_terminals(api, jp_fetch):
    """JupyterLab lists terminals before opening one: a run waiting for input must be there."""
    _, started = await api("POST", "pipelines/ask/run", {})
    response = await jp_fetch("api", "terminals")
    names = [t["name"] for t in json.loads(response.body)]
    assert started["terminal"] in names
    await api("POST", f"runs/{started['id']}/stop")
