"""Research jobs as a user sees them through the API: validation, the durable queue, cancel at
every step, re-run, delete, sources that changed, standing jobs, and a job that survives the
server's kill -9. The steps are small fakes injected into the manager (the agent's own steps
have their tests in test_research_agent.py); they record their calls and can be held at a gate.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
from pathlib import Path
from typing import Any

import pytest

from jupyter_workspace import protocol
from jupyter_workspace.server.sidecar_client import SidecarGone

from .chat_helpers import sidecar_ready
from .test_crash import call, free_port, stop
from .waiting import until

STEPS = protocol.RESEARCH_STEPS
SOURCE = "def route(message, pipes):\n    for pipe in pipes:\n        pipe.put(message)\n"


CLOSED = f"http://127.0.0.1:{free_port()}"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class FakeSteps:
    """The five steps, answering small checkpoints; each call is recorded, and a step whose
    gate is set waits for it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.calls: list[tuple[int, str, list[str]]] = []
        self.gates: dict[str, asyncio.Event] = {}
        self.entered: dict[str, asyncio.Event] = {name: asyncio.Event() for name in STEPS}
        self.failures: dict[str, list[BaseException]] = {}
        self.cancelled: list[tuple[int, str]] = []
        self.active = 0
        self.most_active = 0

    def hold(self, name: str) -> asyncio.Event:
        self.gates[name] = asyncio.Event()
        self.entered[name] = asyncio.Event()
        return self.gates[name]

    def steps(self) -> dict[str, Any]:
        return {name: self._step(name) for name in STEPS}

    def _step(self, name: str) -> Any:
        async def step(ctx: Any) -> dict[str, Any]:
            self.calls.append((ctx.job["id"], name, sorted(ctx.outputs)))
            self.active += 1
            self.most_active = max(self.most_active, self.active)
            try:
                self.entered[name].set()
                ctx.progress(0.5, f"{name}: half way\nsecond line")
                gate = self.gates.get(name)
                if gate is not None:
                    await gate.wait()
                failures = self.failures.get(name)
                if failures:
                    raise failures.pop(0)
                return self._output(name, ctx)
            except asyncio.CancelledError:
                self.cancelled.append((ctx.job["id"], name))
                raise
            finally:
                self.active -= 1

        return step

    def _output(self, name: str, ctx: Any) -> dict[str, Any]:
        if name == "plan":
            return {"mode": "retrieval", "sub_questions": [{"question": "q", "queries": ["q"]}]}
        if name == "gather":
            return {"sources": [{"path": "src/bus.py", "start_line": 1, "end_line": 3}]}
        if name == "extract":
            return {"findings": []}
        if name == "write":
            return {"title": "t", "markdown": "draft"}
        text = (self.root / "src" / "bus.py").read_text()
        ctx.usage.add(120, 30, 0.002)
        return {
            "title": "t",
            "markdown": f"# {ctx.job['question']}\n\n- routes [src/bus.py:2-3]\n",
            "sources": [
                {"path": "src/bus.py", "hash": sha(text), "cited": True},
                {"path": "src/other.py", "hash": sha("x = 1\n"), "cited": False},
            ],
            "stats": {"citations": 1, "verified": 1, "unverified": 0, "dropped": 0},
        }


@pytest.fixture
def jp_server_config(jp_server_config, jp_root_dir, request):
    config = dict(jp_server_config)
    config["WorkspaceApp"] = {
        **config["WorkspaceApp"],
        "research_debounce": 0.3,
        "research_standing_interval": 1.0,
    }
    if "indexed" in request.fixturenames:
        # the real sidecar and index, and an LLM address nothing listens on: retrieval-only
        config["WorkspaceApp"].update(
            sidecar_enabled=True,
            index_enabled=True,
            llm_model="ollama_chat/llama3.2",
            llm_api_base=CLOSED,
            llm_timeout=10.0,
        )
    (jp_root_dir / "src").mkdir()
    (jp_root_dir / "src" / "bus.py").write_text(SOURCE)
    (jp_root_dir / "src" / "other.py").write_text("x = 1\n")
    (jp_root_dir / "docs").mkdir()
    return config


@pytest.fixture
def fake(workspace, jp_root_dir):
    steps = FakeSteps(jp_root_dir)
    workspace.research.steps = steps.steps()
    return steps


@pytest.fixture
def started(jp_serverapp, fake):
    """`await started()`: the extension's background work (the research workers, the file
    watcher) with the fake steps."""

    async def start() -> None:
        await jp_serverapp._post_start()

    return start


async def queue(api, question: str = "How does the bus route a message?", **body: Any) -> dict:
    status, job = await api("POST", "research", {"question": question, **body})
    assert status == 201, job
    return job


async def ended(api, job_id: int, timeout: float = 30.0) -> dict:
    async def check():
        _, job = await api("GET", f"research/{job_id}")
        return job if job["status"] in ("done", "failed", "cancelled") else None

    return await until(check, timeout=timeout, interval=0.05)


async def status_of(api, job_id: int) -> str:
    _, job = await api("GET", f"research/{job_id}")
    return job["status"]


# -- validation ----------------------------------------------------------------------------------
LONG = "x" * 2001


@pytest.mark.parametrize(
    "body, raw, status, says",
    [
        (None, "", 400, "JSON object"),
        (None, "{not json", 400, "not valid JSON"),
        (None, "[1, 2]", 400, "JSON object"),
        ({}, None, 400, "'question' is required"),
        ({"question": "  ab  "}, None, 400, "3 to 2000 characters"),
        ({"question": LONG}, None, 400, "3 to 2000 characters"),
        ({"question": 42}, None, 400, "'question' must be a string"),
        ({"question": "why\x00"}, None, 400, "NUL"),
        ({"question": "why is it so?", "depth": "abyssal"}, None, 400, "'depth' must be one of"),
        ({"question": "why is it so?", "depth": 3}, None, 400, "'depth' must be one of"),
        ({"question": "why is it so?", "standing": "yes"}, None, 400, "'standing'"),
        ({"question": "why is it so?", "priority": 1}, None, 400, "unknown field(s)"),
        ({"question": "why is it so?", "scope": "src"}, None, 400, "'scope' must be an object"),
        ({"question": "why is it so?", "scope": {"files": []}}, None, 400, "unknown field(s)"),
        ({"question": "why is it so?", "scope": {"paths": "src"}}, None, 400, "list"),
        ({"question": "why is it so?", "scope": {"paths": ["../etc"]}}, None, 400, "'..'"),
        ({"question": "why is it so?", "scope": {"paths": ["a/../../b"]}}, None, 400, "'..'"),
        ({"question": "why is it so?", "scope": {"paths": ["/etc/*"]}}, None, 400, "relative"),
        ({"question": "why is it so?", "scope": {"paths": ["C:/x"]}}, None, 400, "relative"),
        ({"question": "why is it so?", "scope": {"paths": [""]}}, None, 400, "empty glob"),
        ({"question": "why is it so?", "scope": {"paths": [3]}}, None, 400, "must be a string"),
        ({"question": "why is it so?", "scope": {"paths": ["a" * 501]}}, None, 400, "too long"),
        ({"question": "why is it so?", "scope": {"paths": ["*"] * 21}}, None, 400, "at most 20"),
        (
            {"question": "why is it so?", "scope": {"languages": ["cobol"]}},
            None,
            400,
            "unknown language 'cobol'",
        ),
        ({"question": "why is it so?", "scope": {"languages": "c"}}, None, 400, "list"),
        ({"question": "why is it so?", "scope": {"notes": "no"}}, None, 400, "'scope.notes'"),
    ],
)
async def test_bad_jobs_are_refused_with_a_message(api, body, raw, status, says):
    got, data = await api("POST", "research", body, raw=raw)
    assert got == status, data
    assert says in data["error"]
    _, listed = await api("GET", "research")
    assert listed["jobs"] == []


async def test_unknown_languages_name_the_known_ones(api):
    _, data = await api(
        "POST", "research", {"question": "why?!", "scope": {"languages": ["klingon"]}}
    )
    assert "python" in data["error"] and "fortran" in data["error"]


@pytest.mark.parametrize(
    "method, path, body, status, says",
    [
        ("GET", "research/999", None, 404, "unknown research job id"),
        ("GET", "research/abc", None, 404, "unknown research job id"),
        ("POST", "research/999/cancel", None, 404, "unknown research job id"),
        ("POST", "research/999/rerun", None, 404, "unknown research job id"),
        ("PATCH", "research/999", {"standing": True}, 404, "unknown research job id"),
        ("DELETE", "research/999", None, 404, "unknown research job id"),
        ("GET", "research", None, 400, "limit"),
    ],
)
async def test_unknown_ids_and_bad_queries(api, method, path, body, status, says):
    params = {"limit": "lots"} if path == "research" else None
    got, data = await api(method, path, body, params=params)
    assert got == status and says in data["error"]


async def test_bad_changes_to_a_job(api):
    job = await queue(api)
    for body, says in [
        ({"standing": "on"}, "'standing'"),
        ({"question": "other"}, "unknown field(s)"),
        ({}, "nothing to change"),
    ]:
        got, data = await api("PATCH", f"research/{job['id']}", body)
        assert got == 400 and says in data["error"], data
    got, data = await api("POST", f"research/{job['id']}/cancel", {"why": "bored"})
    assert got == 400 and "unknown field(s)" in data["error"]


async def test_a_full_queue_answers_429(api, workspace):
    workspace.research.max_queued = 3
    for n in range(3):
        await queue(api, f"question number {n}")
    got, data = await api("POST", "research", {"question": "one too many"})
    assert got == 429 and "3 research jobs are queued" in data["error"]


# -- running -----------------------------------------------------------------------------------
async def test_a_job_runs_its_steps_and_leaves_a_note(api, events, started, fake, jp_root_dir):
    client = await events()
    await started()
    job = await queue(api, "How does the bus route\na message?", depth="quick")
    assert job["status"] == "queued" and job["depth"] == "quick" and job["runs"] == 0
    assert job["scope"] == {"paths": [], "languages": [], "notes": True}
    assert [s["status"] for s in job["steps"]] == ["pending"] * 5
    first = await client.next(protocol.RESEARCH_JOB)
    assert first["job"]["id"] == job["id"] and "sources" not in first["job"]

    done = await ended(api, job["id"])
    assert done["status"] == "done", done
    assert done["progress"] == 1 and done["mode"] == "retrieval" and done["runs"] == 1
    assert [s["status"] for s in done["steps"]] == ["done"] * 5
    assert done["tokens_in"] == 120 and done["tokens_out"] == 30 and done["cost"] == 0.002
    assert done["sources"][0] == {"path": "src/bus.py", "hash": sha(SOURCE), "cited": True}
    assert done["sources_changed"] is False and done["started"] and done["ended"]
    # each step saw the checkpoints of the steps before it
    assert [(name, seen) for _, name, seen in fake.calls] == [
        (name, sorted(STEPS[:i])) for i, name in enumerate(STEPS)
    ]
    _, note = await api("GET", f"notes/{done['note_id']}")
    assert note["title"] == "Research: How does the bus route a message?"
    assert "[src/bus.py:2-3]" in note["body"]

    seen: list[dict] = []
    while not seen or seen[-1]["status"] != "done":
        seen.append((await client.next(protocol.RESEARCH_JOB))["job"])
    assert [j["step"] for j in seen if j["status"] == "running"][-1] == "verify"
    assert any(j["detail"] == "plan: half way second line" for j in seen)

    _, listed = await api("GET", "research")
    assert [j["id"] for j in listed["jobs"]] == [job["id"]]
    assert listed["jobs"][0]["steps"] == [{"name": n, "status": "done"} for n in STEPS]
    assert "sources" not in listed["jobs"][0]


async def test_progress_events_are_throttled(api, events, started, fake, workspace):
    real_extract = workspace.research.steps["extract"]

    async def chatty(ctx: Any) -> dict[str, Any]:
        for n in range(200):  # about a second of progress reports
            ctx.progress(n / 200, f"passage {n}")
            await asyncio.sleep(0.005)
        ctx.progress(1.0, "all passages read")
        return await real_extract(ctx)

    workspace.research.steps["extract"] = chatty
    client = await events()
    await started()
    job = await queue(api)
    seen: list[dict] = []
    while not seen or seen[-1]["status"] != "done":
        seen.append((await client.next(protocol.RESEARCH_JOB, timeout=10))["job"])
    during = [j for j in seen if j["step"] == "extract" and j["status"] == "running"]
    # the step's start and end, and progress at most every 0.5 s in between
    assert 2 <= len(during) <= 6, [j["detail"] for j in during]
    assert [j["progress"] for j in seen] == sorted(j["progress"] for j in seen)
    assert any((j["detail"] or "").startswith("passage ") for j in during)
    _, done = await api("GET", f"research/{job['id']}")
    assert done["steps"][2]["detail"] == "extract: half way second line"  # its last report


async def test_the_queue_runs_one_at_a_time_in_order(api, started, fake):
    gate = fake.hold("plan")
    await started()
    jobs = [await queue(api, f"question {n}") for n in range(3)]
    await asyncio.wait_for(fake.entered["plan"].wait(), 10)
    assert [await status_of(api, j["id"]) for j in jobs] == ["running", "queued", "queued"]
    gate.set()
    for job in jobs:
        assert (await ended(api, job["id"]))["status"] == "done"
    assert fake.most_active == 1
    assert [job_id for job_id, name, _ in fake.calls if name == "plan"] == [j["id"] for j in jobs]


async def test_two_slots_run_two_jobs_at_once(api, started, fake, workspace):
    workspace.research.concurrency = 2  # as WorkspaceApp.research_concurrency = 2
    gate = fake.hold("plan")
    await started()
    jobs = [await queue(api, f"question {n}") for n in range(3)]

    async def two_planning():
        return len([1 for _, name, _ in fake.calls if name == "plan"]) == 2

    await until(two_planning, timeout=10)
    await asyncio.sleep(0.3)
    assert [await status_of(api, j["id"]) for j in jobs] == ["running", "running", "queued"]
    gate.set()
    for job in jobs:
        assert (await ended(api, job["id"]))["status"] == "done"
    assert fake.most_active == 2


@pytest.mark.parametrize("step", STEPS)
async def test_cancel_at_every_step(api, events, started, fake, step):
    gate = fake.hold(step)
    await started()
    job = await queue(api)
    await asyncio.wait_for(fake.entered[step].wait(), 10)
    got, cancelled = await api("POST", f"research/{job['id']}/cancel")
    assert got == 200 and cancelled["status"] == "cancelled", cancelled
    assert fake.cancelled == [(job["id"], step)]
    states = {s["name"]: s["status"] for s in cancelled["steps"]}
    assert states[step] == "failed" and cancelled["note_id"] is None
    assert all(states[name] == "done" for name in STEPS[: STEPS.index(step)])
    gate.set()
    # the worker goes on with the next job
    fake.gates.clear()
    after = await queue(api, "the next question")
    assert (await ended(api, after["id"]))["status"] == "done"
    got, data = await api("POST", f"research/{job['id']}/cancel")
    assert got == 409 and "cancelled" in data["error"]


async def test_cancel_a_queued_job_and_a_done_one(api, started, fake):
    gate = fake.hold("plan")
    await started()
    first = await queue(api, "first question")
    second = await queue(api, "second question")
    got, data = await api("POST", f"research/{second['id']}/cancel")
    assert got == 200 and data["status"] == "cancelled" and data["runs"] == 0
    gate.set()
    assert (await ended(api, first["id"]))["status"] == "done"
    got, data = await api("POST", f"research/{first['id']}/cancel")
    assert got == 409 and "is done" in data["error"]
    assert {job_id for job_id, _, _ in fake.calls} == {first["id"]}


async def test_a_failing_step_fails_the_job_with_its_message(api, started, fake):
    fake.failures["extract"] = [ValueError("the model answered nonsense\n  at line 3")]
    await started()
    job = await ended(api, (await queue(api))["id"])
    assert job["status"] == "failed"
    assert job["error"] == "extract: the model answered nonsense at line 3"
    assert "Traceback" not in job["error"] and job["detail"] == job["error"]
    assert [s["status"] for s in job["steps"]] == ["done", "done", "failed", "pending", "pending"]


async def test_a_step_that_loses_the_sidecar_is_tried_again(api, started, fake, workspace):
    workspace.supervisor.state = "ready"  # as if a sidecar had come back (it is off here)
    fake.failures["gather"] = [SidecarGone("the AI sidecar did not answer")]
    await started()
    job = await ended(api, (await queue(api))["id"])
    assert job["status"] == "done"
    assert [name for _, name, _ in fake.calls].count("gather") == 2

    fake.failures["gather"] = [SidecarGone("gone")] * 3
    job = await ended(api, (await queue(api, "once more please"))["id"])
    assert job["status"] == "failed" and "gather: gone" in job["error"]


async def test_rerun_updates_the_same_note(api, started, fake, jp_root_dir):
    await started()
    job = await ended(api, (await queue(api))["id"])
    got, data = await api("POST", f"research/{job['id']}/rerun")
    assert got == 200 and data["status"] in ("queued", "running")
    again = await ended(api, job["id"])
    assert again["status"] == "done" and again["runs"] == 2
    assert again["note_id"] == job["note_id"]
    _, note = await api("GET", f"notes/{job['note_id']}")
    assert note["revision"] == 2
    assert [name for _, name, _ in fake.calls] == list(STEPS) * 2

    # a user deleted the note: the next run writes a new one
    await api("DELETE", f"notes/{job['note_id']}")
    await api("POST", f"research/{job['id']}/rerun")
    third = await ended(api, job["id"])
    assert third["note_id"] not in (None, job["note_id"]) and third["runs"] == 3


async def test_rerun_of_a_running_job_is_a_conflict(api, started, fake):
    gate = fake.hold("write")
    await started()
    job = await queue(api)
    await asyncio.wait_for(fake.entered["write"].wait(), 10)
    got, data = await api("POST", f"research/{job['id']}/rerun")
    assert got == 409 and "running" in data["error"]
    gate.set()
    await ended(api, job["id"])


async def test_delete_cancels_and_keeps_the_note(api, events, started, fake):
    await started()
    done = await ended(api, (await queue(api))["id"])
    gate = fake.hold("gather")
    running = await queue(api, "another question")
    await asyncio.wait_for(fake.entered["gather"].wait(), 10)
    client = await events()
    for job in (done, running):
        got, _ = await api("DELETE", f"research/{job['id']}")
        assert got == 204
        event = await client.next(protocol.RESEARCH_DELETED)
        assert event["id"] == job["id"]
        got, _ = await api("GET", f"research/{job['id']}")
        assert got == 404
    assert fake.cancelled == [(running["id"], "gather")]
    got, note = await api("GET", f"notes/{done['note_id']}")
    assert got == 200
    gate.set()
    _, listed = await api("GET", "research")
    assert listed["jobs"] == []


async def test_sources_changed_when_a_cited_file_changes(api, events, started, fake, jp_root_dir):
    await started()
    job = await ended(api, (await queue(api))["id"])
    assert job["sources_changed"] is False
    client = await events()
    (jp_root_dir / "src" / "bus.py").write_text(SOURCE + "# limits\n")
    event = await client.next(protocol.RESEARCH_JOB, timeout=10)
    assert event["job"]["id"] == job["id"] and event["job"]["sources_changed"] is True
    _, now = await api("GET", f"research/{job['id']}")
    assert now["sources_changed"] is True and now["status"] == "done"  # not standing: no re-run
    _, listed = await api("GET", "research")
    assert listed["jobs"][0]["sources_changed"] is True
    (jp_root_dir / "src" / "bus.py").write_text(SOURCE)
    _, now = await api("GET", f"research/{job['id']}")
    assert now["sources_changed"] is False
    (jp_root_dir / "src" / "other.py").unlink()  # a deleted source counts as changed
    _, now = await api("GET", f"research/{job['id']}")
    assert now["sources_changed"] is True
    assert [name for _, name, _ in fake.calls] == list(STEPS)


async def test_a_standing_job_runs_again_when_a_cited_file_changes(api, started, fake, jp_root_dir):
    await started()
    job = await ended(api, (await queue(api, standing=True))["id"])
    assert job["standing"] is True and job["runs"] == 1
    for n in range(3):  # a burst of saves: one re-run
        (jp_root_dir / "src" / "bus.py").write_text(SOURCE + f"# change {n}\n")
        await asyncio.sleep(0.1)

    async def rerun():
        _, current = await api("GET", f"research/{job['id']}")
        return current if current["runs"] == 2 and current["status"] == "done" else None

    again = await until(rerun, timeout=20)
    assert again["sources_changed"] is False  # the new run cites the file as it is now
    await asyncio.sleep(1.5)
    _, current = await api("GET", f"research/{job['id']}")
    assert current["runs"] == 2

    # not standing any more: a change is only reported
    got, data = await api("PATCH", f"research/{job['id']}", {"standing": False})
    assert got == 200 and data["standing"] is False
    (jp_root_dir / "src" / "bus.py").write_text(SOURCE)
    await asyncio.sleep(2.0)
    _, current = await api("GET", f"research/{job['id']}")
    assert current["runs"] == 2 and current["sources_changed"] is True


async def test_a_standing_job_runs_again_when_an_in_scope_file_changes(
    api, started, fake, jp_root_dir
):
    await started()
    job = await queue(api, standing=True, scope={"paths": ["docs/*.md"]})
    job = await ended(api, job["id"])
    (jp_root_dir / "src" / "unrelated.txt").write_text("not in scope")
    await asyncio.sleep(1.5)
    assert (await api("GET", f"research/{job['id']}"))[1]["runs"] == 1
    (jp_root_dir / "docs" / "limits.md").write_text("# Limits\n")

    async def rerun():
        _, current = await api("GET", f"research/{job['id']}")
        return current["runs"] == 2 and current["status"] == "done"

    await until(rerun, timeout=20)


async def test_a_hundred_queued_jobs_are_listed_in_order(api, started, fake, workspace):
    gate = fake.hold("plan")
    await started()
    first = await queue(api, "the first question")
    await asyncio.wait_for(fake.entered["plan"].wait(), 10)
    ids = [(await queue(api, f"question number {n}"))["id"] for n in range(100)]
    _, listed = await api("GET", "research")
    assert [j["id"] for j in listed["jobs"]] == [*reversed(ids), first["id"]]
    assert {j["status"] for j in listed["jobs"][:100]} == {"queued"}
    _, some = await api("GET", "research", params={"limit": "10"})
    assert [j["id"] for j in some["jobs"]] == list(reversed(ids))[:10]
    assert len(workspace.research._live) == 1  # only the running job is held in memory
    gate.set()
    fake.gates.clear()
    assert (await ended(api, ids[-1], timeout=60))["status"] == "done"
    plans = [job_id for job_id, name, _ in fake.calls if name == "plan"]
    assert plans == [first["id"], *ids]


# -- a server killed mid-job -----------------------------------------------------------------
BOOT = """
import asyncio, json, os, sys
from jupyter_workspace import protocol
from jupyter_workspace.server.research import jobs

LOG, GATE = os.environ["FAKE_STEPS_LOG"], os.environ["FAKE_STEPS_GATE"]

def make(name):
    async def step(ctx):
        with open(LOG, "a") as f:
            f.write(json.dumps([ctx.job["id"], name, sorted(ctx.outputs)]) + "\\n")
        if name == "extract":
            while not os.path.exists(GATE):
                await asyncio.sleep(0.05)
        if name == "verify":
            return {"title": "t", "markdown": "# resumed", "sources": [], "stats": {}}
        return {"mode": "retrieval"} if name == "plan" else {"step": name}
    return step

jobs.load_steps = lambda: {name: make(name) for name in protocol.RESEARCH_STEPS}
from jupyter_server.serverapp import main
sys.argv = ["jupyter-server", *sys.argv[1:]]
sys.exit(main())
"""


def start_server(root: Path, tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    errors = tmp_path / f"server-{port}.log"
    with errors.open("wb") as stderr:  # the child has its own copy of the descriptor
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                BOOT,
                f"--ServerApp.root_dir={root}",
                f"--ServerApp.port={port}",
                "--ServerApp.ip=127.0.0.1",
                "--ServerApp.token=crash-test-token",
                "--ServerApp.open_browser=False",
                "--ServerApp.allow_root=True",
                "--WorkspaceApp.sidecar_enabled=False",
                "--WorkspaceApp.index_enabled=False",
            ],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=tmp_path,
            env={**os.environ, **env, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")},
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            call(base, "GET", "status")
            return proc, base
        except (OSError, urllib.error.URLError):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("server did not start:\n" + errors.read_text()[-3000:])
            time.sleep(0.1)


def wait_for(predicate: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError("condition not met")


def test_a_job_resumes_after_the_server_is_killed(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    log, gate = tmp_path / "steps.log", tmp_path / "gate"
    env = {"FAKE_STEPS_LOG": str(log), "FAKE_STEPS_GATE": str(gate)}

    def logged() -> list[list]:
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    proc, base = start_server(root, tmp_path, env)
    try:
        _, job = call(base, "POST", "research", {"question": "Where are the pipe limits set?"})
        _, queued = call(base, "POST", "research", {"question": "A second question"})
        wait_for(lambda: any(name == "extract" for _, name, _ in logged()))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert [name for _, name, _ in logged()] == ["plan", "gather", "extract"]

    gate.touch()
    proc, base = start_server(root, tmp_path, env)
    try:

        def done(job_id: int) -> dict | None:
            _, current = call(base, "GET", f"research/{job_id}")
            return current if current["status"] in ("done", "failed") else None

        resumed = wait_for(lambda: done(job["id"]))
        second = wait_for(lambda: done(queued["id"]))
    finally:
        stop(proc)
    assert resumed["status"] == "done" and resumed["runs"] == 1, resumed
    assert second["status"] == "done"
    calls = [(job_id, name, seen) for job_id, name, seen in logged()]
    first_job = [(name, seen) for job_id, name, seen in calls if job_id == job["id"]]
    assert first_job == [
        ("plan", []),
        ("gather", ["plan"]),
        ("extract", ["gather", "plan"]),
        ("extract", ["gather", "plan"]),  # after the restart: plan and gather are not redone
        ("write", ["extract", "gather", "plan"]),
        ("verify", ["extract", "gather", "plan", "write"]),
    ]
    # the resumed job finished before the queued one started
    assert [c[0] for c in calls[3:]] == [job["id"]] * 3 + [queued["id"]] * 5


# -- the real steps ------------------------------------------------------------------------------
@pytest.fixture
def indexed(jp_serverapp, api):
    """`await indexed()`: the sidecar ready and the served folder indexed."""

    async def start() -> None:
        await jp_serverapp._post_start()
        await sidecar_ready(api)

        async def idle():
            _, status = await api("GET", "index")
            return status["state"] == "idle" and status["files_indexed"] >= 2

        await until(idle, timeout=180, interval=0.2)

    return start


async def test_a_retrieval_only_job_with_the_real_steps(api, indexed, workspace):
    await indexed()
    job = await queue(api, "How does route put a message on each pipe?", depth="quick")
    done = await ended(api, job["id"], timeout=120)
    assert done["status"] == "done", done
    assert done["mode"] == "retrieval" and done["tokens_in"] == 0
    assert [s["status"] for s in done["steps"]] == ["done"] * 5
    by_path = {s["path"]: s for s in done["sources"]}
    assert by_path["src/bus.py"]["hash"] == sha(SOURCE)
    assert done["sources_changed"] is False
    _, note = await api("GET", f"notes/{done['note_id']}")
    assert note["title"].startswith("Research: How does route")
    assert "src/bus.py" in note["body"]


async def test_a_job_survives_kill_9_of_the_sidecar(api, indexed, workspace):
    from jupyter_workspace.server.research.jobs import load_steps

    steps = load_steps()
    gate, entered = asyncio.Event(), asyncio.Event()
    real_gather = steps["gather"]
    calls: list[int] = []

    async def gather(ctx: Any) -> dict[str, Any]:
        calls.append(len(calls))
        if len(calls) == 1:
            entered.set()
            await gate.wait()  # the test kills the sidecar here
        return await real_gather(ctx)

    steps["gather"] = gather
    workspace.research.steps = steps
    await indexed()
    job = await queue(api, "How does route put a message on each pipe?", depth="quick")
    await asyncio.wait_for(entered.wait(), 60)
    before = workspace.supervisor.pid
    os.kill(before, signal.SIGKILL)
    gate.set()
    done = await ended(api, job["id"], timeout=240)
    assert done["status"] == "done", done
    assert len(calls) >= 2 and workspace.supervisor.pid not in (None, before)
    assert "src/bus.py" in {s["path"] for s in done["sources"]}
