"""`%workspace research` in a real IPython kernel against a real Jupyter server with the
extension: jobs queued, listed, shown, cancelled and re-run through the REST API; a real
retrieval-only job (the sidecar, the index, the agent's steps; the LLM's port is closed) followed
with --wait, its steps printed and its report shown through the sanitizing markdown MIME type;
an interrupt while waiting cancels the job; bad arguments say what is wrong."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
from typing import Any

import pytest

from jupyter_workspace.kernel.magics import _job_line, _step_lines
from jupyter_workspace.protocol import ANSWER_MIME, MARKDOWN_MIME, RESEARCH_STEPS

from . import test_magics
from .chat_helpers import FAKE_KEY
from .test_magics import FIXTURES, ready

# the kernel and the environment that points it at the server under test, as test_magics has them
kernel = test_magics.kernel
workspace_env = test_magics.workspace_env

QUESTION = "How is the quaternion norm computed?"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def jp_server_config(jp_server_config, jp_root_dir, request):
    for f in FIXTURES.iterdir():
        shutil.copy(f, jp_root_dir / f.name)
    config = dict(jp_server_config)
    config["WorkspaceApp"] = {
        **config["WorkspaceApp"],
        # the real sidecar and index, except where the steps are the test's own
        "sidecar_enabled": "steps" not in request.fixturenames,
        "index_enabled": "steps" not in request.fixturenames,
        # the fake LLM where a test asks for it; elsewhere no model answers there: the job runs
        # retrieval-only, as it does without an LLM
        "llm_model": "openai/fake-model",
        "llm_api_base": (
            request.getfixturevalue("fake_llm").url + "/v1"
            if "fake_llm" in request.fixturenames
            else f"http://127.0.0.1:{closed_port()}/v1"
        ),
        "llm_api_key": FAKE_KEY,
        "llm_timeout": 10.0,
    }
    return config


def bundles(result: dict) -> list[dict]:
    return [
        m["content"]["data"]
        for m in result["outputs"]
        if m["msg_type"] in ("display_data", "update_display_data", "execute_result")
    ]


def streamed(result: dict) -> str:
    return "".join(m["content"]["text"] for m in result["outputs"] if m["msg_type"] == "stream")


async def test_a_retrieval_only_job_followed_with_wait_shows_its_steps_and_report(
    jp_serverapp, api, kernel, workspace_env
):
    await ready(jp_serverapp, api)
    k = await kernel(workspace_env)
    result = await k.run(
        f'job = %workspace research "{QUESTION}" --depth quick --path "*.py" --wait',
        timeout=300,
    )
    assert result["reply"]["status"] == "ok", result["text"]
    printed = streamed(result)
    assert f"research job 1: {QUESTION}" in printed
    # every step, in order, each said as it ended (with its time) after it was seen to start
    ends = [
        printed.index(f"[{i}/5] {name} done")
        for i, name in enumerate(("plan", "gather", "extract", "write", "verify"), 1)
    ]
    assert ends == sorted(ends), printed
    assert "%workspace:" not in result["text"] and "Traceback" not in result["text"]

    shown = bundles(result)
    # the status line, updated in place, ends as the job ended: retrieval-only, with its note
    status = [b[MARKDOWN_MIME] for b in shown if "research job 1:" in b.get(MARKDOWN_MIME, "")]
    assert len(status) >= 2 and "done" in status[-1] and "retrieval-only" in status[-1]
    [report] = [b for b in shown if "Retrieval-only report" in b.get(MARKDOWN_MIME, "")]
    # untrusted text (file contents, the model's words) only through the sanitizing renderers:
    # the answer type (its citations as links, no sources table) and the markdown type
    assert set(report) == {ANSWER_MIME, MARKDOWN_MIME, "text/plain"}
    assert report[ANSWER_MIME] == {"markdown": report[MARKDOWN_MIME], "sources": []}
    assert report[MARKDOWN_MIME].startswith(f"## Research: {QUESTION}")
    assert "attitude.py" in report[MARKDOWN_MIME]
    # the cell showed it all: its value does not show itself again
    assert not [m for m in result["outputs"] if m["msg_type"] == "execute_result"]

    _, job = await api("GET", "research/1")
    assert job["status"] == "done" and job["mode"] == "retrieval"
    assert job["scope"]["paths"] == ["*.py"] and job["depth"] == "quick"
    _, note = await api("GET", f"notes/{job['note_id']}")
    assert await k.value("[job['status'], job['note_id'], job.report]") == [
        "done",
        job["note_id"],
        f"## {note['title']}\n\n{note['body']}",
    ]
    # in a later cell the value shows itself: its status line and its report
    later = await k.run("job")
    assert any("research job 1: done" in b.get(MARKDOWN_MIME, "") for b in bundles(later))
    assert any("Retrieval-only report" in b.get(MARKDOWN_MIME, "") for b in bundles(later))

    listed = await k.run("jobs = %workspace research list\njobs")
    [table] = [b for b in bundles(listed) if "text/html" in b]
    html = table["text/html"]
    for header in ("id", "status", "step", "progress", "depth", "question", "note"):
        assert f"<th>{header}</th>" in html
    assert "100%" in html and QUESTION.replace("?", "") in html
    assert await k.value("[(j['id'], j['status']) for j in jobs]") == [[1, "done"]]

    shown = await k.run("%workspace research show 1")
    assert "research job 1: done" in shown["text"]
    [steps] = [b for b in bundles(shown) if "text/html" in b]
    assert all(
        f"<td style='text-align:left'>{n}</td>" in steps["text/html"]
        for n in ("plan", "gather", "extract", "write", "verify")
    )
    assert any("Retrieval-only report" in b.get(MARKDOWN_MIME, "") for b in bundles(shown))

    # the note deleted: show says so and how to write it again
    await api("DELETE", f"notes/{job['note_id']}")
    gone = await k.run("%workspace research show 1")
    assert f"the report's note {job['note_id']} was deleted" in gone["text"]
    assert "%workspace research rerun 1" in gone["text"]


NORM_QUOTE = "return math.sqrt(sum(c * c for c in q))"
FINDINGS = {
    "findings": [
        {
            "claim": "The norm is the square root of the sum of squares.",
            "sub_question": 1,
            "citations": [
                {"path": "attitude.py", "start_line": 21, "end_line": 23, "quote": NORM_QUOTE}
            ],
        },
        {  # fabricated: the lines exist, the quote is not there
            "claim": "The norm is cached on the estimator.",
            "sub_question": 1,
            "citations": [
                {
                    "path": "attitude.py",
                    "start_line": 7,
                    "end_line": 9,
                    "quote": "self._norm_cache = {}",
                }
            ],
        },
    ]
}
REPORT = """# How the quaternion norm is computed

## Summary
A plain Euclidean norm.

## Findings
- The norm is the square root of the sum of squares. [attitude.py:21-23]
- The norm is cached on the estimator. [attitude.py:7-9]
"""


def script(messages: list[dict[str, Any]]) -> str:
    """The fake model's answers, chosen by the system prompt (server/assistant.py's)."""
    system = messages[0]["content"]
    if system.startswith("You plan research"):
        plan = {"sub_questions": [{"question": QUESTION, "queries": ["quaternion_norm"]}]}
        return json.dumps(plan)
    if system.startswith("You extract findings"):
        return json.dumps(FINDINGS)
    if system.startswith("You write a research report"):
        return REPORT
    return "A chat answer."


async def test_a_job_with_a_model_shows_its_usage_and_no_fabricated_citation_as_verified(
    jp_serverapp, api, kernel, workspace_env, fake_llm
):
    fake_llm.respond = script
    await ready(jp_serverapp, api)
    k = await kernel(workspace_env)
    result = await k.run(
        f'job = %workspace research "{QUESTION}" --depth quick --wait', timeout=300
    )
    assert result["reply"]["status"] == "ok", result["text"]
    assert "[5/5] verify done" in streamed(result), result["text"]
    shown = [b.get(MARKDOWN_MIME, "") for b in bundles(result)]
    status = [x for x in shown if x.startswith("`research job 1:")][-1]
    assert "done" in status and "retrieval-only" not in status and " tokens" in status, status
    [report] = [x for x in shown if x.startswith("## Research: ")]
    assert "[attitude.py:21-23]" in report
    for line in report.splitlines():  # the fabricated citation is never kept as verified
        if "[attitude.py:7-9]" in line:
            assert "unverified" in line, line
    _, job = await api("GET", "research/1")
    assert job["mode"] == "llm" and job["tokens_in"] > 0 and job["tokens_out"] > 0
    assert f"{job['tokens_in'] + job['tokens_out']} tokens" in status


async def test_queue_with_scope_then_list_cancel_and_rerun(
    jp_serverapp, api, kernel, workspace_env
):
    # the workers are not started here (no _post_start): a queued job stays queued
    k = await kernel(workspace_env)
    queued = await k.run(
        "job = %workspace research why does the bias drift after REQ-77 "
        "--depth deep --path 'src/**' --path '*.c' --lang c --lang python --no-notes --standing"
    )
    assert "research job 1 queued (deep)" in queued["text"], queued["text"]
    assert "%workspace research show 1 --wait" in queued["text"]
    _, job = await api("GET", "research/1")
    assert job["question"] == "why does the bias drift after REQ-77"
    assert job["scope"] == {
        "paths": ["src/**", "*.c"],
        "languages": ["c", "python"],
        "notes": False,
    }
    assert job["depth"] == "deep" and job["standing"] is True and job["status"] == "queued"
    assert await k.value("job['id']") == 1

    await k.run('%workspace research "list the callers of quaternion_norm"')
    _, listed = await api("GET", "research")
    assert [j["question"] for j in listed["jobs"]][0] == "list the callers of quaternion_norm"
    # a question that starts with an action word is a question when it is longer
    await k.run("%workspace research show me where the gain is set")
    _, listed = await api("GET", "research")
    assert listed["jobs"][0]["question"] == "show me where the gain is set"
    _, job = await api("GET", "research/3")
    assert job["scope"] == {"paths": [], "languages": [], "notes": True}
    assert job["depth"] == "standard" and job["standing"] is False

    cancelled = await k.run("%workspace research cancel 1")
    assert "research job 1: cancelled" in cancelled["text"], cancelled["text"]
    assert (await api("GET", "research/1"))[1]["status"] == "cancelled"
    again = await k.run("%workspace research cancel 1")
    assert "research job 1 is cancelled: there is nothing to cancel" in again["text"]
    rerun = await k.run("%workspace research rerun 1")
    assert "research job 1 queued again" in rerun["text"], rerun["text"]
    assert (await api("GET", "research/1"))[1]["status"] == "queued"

    listed = await k.run("%workspace research list")
    assert "3 research jobs" in listed["text"]


async def test_an_interrupt_while_waiting_cancels_the_job(jp_serverapp, api, kernel, workspace_env):
    # no workers: the job waits in the queue until the interrupt
    k = await kernel(workspace_env)
    seen = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_output(msg: dict) -> None:  # on the client's thread
        if msg["msg_type"] == "stream" and "research job" in msg["content"]["text"]:
            loop.call_soon_threadsafe(seen.set)

    async def interrupt() -> None:
        await asyncio.wait_for(seen.wait(), 60)
        await asyncio.sleep(1.2)  # a few polls
        await k.manager.interrupt_kernel()

    interrupter = asyncio.ensure_future(interrupt())
    result = await k.run(
        "job = %workspace research what calls the PID loop --wait", on_output=on_output
    )
    await interrupter
    assert result["reply"]["status"] == "ok", result["text"]
    assert "(interrupted: research job 1 was cancelled)" in result["text"]
    assert "Traceback" not in result["text"]
    assert (await api("GET", "research/1"))[1]["status"] == "cancelled"
    assert await k.value("job['status']") == "cancelled"


@pytest.fixture
def steps(jp_serverapp, workspace):
    """`await steps(plan=..., ...)`: the server's research workers started with these steps
    (the others return a minimal checkpoint at once), so a job can be paced, fail or hang."""

    async def start(**given: Any) -> dict[str, Any]:
        async def quick(ctx: Any) -> dict[str, Any]:
            return {}

        async def verify(ctx: Any) -> dict[str, Any]:
            return {
                "title": "t",
                "markdown": "# Report\n\n- routed in [attitude.py:21-23]\n",
                "sources": [{"path": "attitude.py", "hash": None, "cited": True}],
                "stats": {"citations": 1, "verified": 1, "unverified": 0, "dropped": 0},
            }

        chosen = {name: quick for name in RESEARCH_STEPS} | {"verify": verify} | given
        workspace.research.steps = chosen
        await jp_serverapp._post_start()
        return chosen

    return start


async def test_a_job_that_fails_says_its_error_after_its_steps(api, kernel, workspace_env, steps):
    async def plan(ctx: Any) -> dict[str, Any]:
        ctx.progress(0.5, "splitting the question\ninto parts")
        await asyncio.sleep(1.6)  # seen running by a few polls
        return {"mode": "llm", "sub_questions": []}

    async def gather(ctx: Any) -> dict[str, Any]:
        raise RuntimeError("the index went away \x1b[2J<b>bold</b>")

    await steps(plan=plan, gather=gather)
    k = await kernel(workspace_env)
    result = await k.run("job = %workspace research how is the norm computed --wait")
    assert result["reply"]["status"] == "ok", result["text"]
    printed = streamed(result)
    assert "[1/5] plan (10%): splitting the question into parts\n" in printed, printed
    assert "[1/5] plan done in 1." in printed
    assert "[2/5] gather failed" in printed and "the index went away" in printed
    assert "\x1b" not in result["text"]
    [error] = [b for b in bundles(result) if "%workspace: research job 1 failed" in b["text/plain"]]
    assert "the index went away" in error["text/plain"]
    assert "&lt;b&gt;bold&lt;/b&gt;" in error["text/html"]  # escaped in the trusted output
    shown = [b.get(MARKDOWN_MIME, "") for b in bundles(result)]
    assert "research job 1: failed" in [x for x in shown if x][-1]
    assert await k.value("job['status']") == "failed"


async def test_an_interrupt_stops_a_running_step(api, kernel, workspace_env, steps):
    entered = asyncio.Event()
    stopped = asyncio.Event()

    async def extract(ctx: Any) -> dict[str, Any]:
        entered.set()
        try:
            await asyncio.sleep(300)
        except asyncio.CancelledError:
            stopped.set()
            raise
        return {"findings": []}

    await steps(extract=extract)
    k = await kernel(workspace_env)

    async def interrupt() -> None:
        await asyncio.wait_for(entered.wait(), 60)
        await asyncio.sleep(1.0)  # a poll or two sees it running
        await k.manager.interrupt_kernel()

    interrupter = asyncio.ensure_future(interrupt())
    result = await k.run("%workspace research which modules call the clock --wait")
    await interrupter
    assert "[3/5] extract (40%)" in result["text"], result["text"]
    assert "(interrupted: research job 1 was cancelled)" in result["text"]
    assert stopped.is_set()
    _, job = await api("GET", "research/1")
    assert job["status"] == "cancelled"
    assert [s["status"] for s in job["steps"]][:3] == ["done", "done", "failed"]


async def test_a_job_deleted_while_followed_says_so(api, kernel, workspace_env, steps):
    entered = asyncio.Event()

    async def gather(ctx: Any) -> dict[str, Any]:
        entered.set()
        await asyncio.sleep(300)
        return {"sources": []}

    await steps(gather=gather)
    k = await kernel(workspace_env)

    async def delete() -> None:
        await asyncio.wait_for(entered.wait(), 60)
        await asyncio.sleep(0.8)
        status, _ = await api("DELETE", "research/1")
        assert status == 204

    deleter = asyncio.ensure_future(delete())
    result = await k.run("%workspace research where is the gain set --wait")
    await deleter
    assert "%workspace: research job 1 was deleted while it was followed" in result["text"]
    assert "Traceback" not in result["text"]


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('%workspace research ""', "the question is empty"),
        ("%workspace research", "the following arguments are required: QUESTION"),
        ("%workspace research why --depth huge", "invalid choice: 'huge'"),
        ("%workspace research ab", "'question' must be 3 to 2000 characters"),
        ("%workspace research show 999", "unknown research job id: 999"),
        ("%workspace research cancel 999", "unknown research job id: 999"),
        ("%workspace research rerun 999", "unknown research job id: 999"),
        ("%workspace research show abc", "takes a job id (a number"),
        ("%workspace research list --depth quick", "does not take --depth"),
        ("%workspace research cancel 1 --wait", "does not take --wait"),
        ("%workspace research show 1 --no-notes", "does not take --no-notes"),
        ("%workspace research why is it slow --path /etc/**", "must be relative to the served"),
        ("%workspace research why is it slow --path ../up", "must not leave the served folder"),
        ("%workspace research why is it slow --lang klingon", "unknown language 'klingon'"),
    ],
)
async def test_bad_arguments_say_what_is_wrong(
    jp_serverapp, api, kernel, workspace_env, line, says
):
    k = await kernel(workspace_env)
    result = await k.run(line)
    # argparse's complaints are IPython UsageErrors (a message, no traceback), as elsewhere
    assert result["reply"]["status"] == "ok" or "UsageError: " in result["text"], result
    assert says in result["text"], result["text"]
    assert "Traceback" not in result["text"]
    assert (await api("GET", "research"))[1]["jobs"] == []  # nothing was queued


async def test_help_names_the_research_actions(jp_serverapp, kernel, workspace_env):
    k = await kernel(workspace_env)
    top = await k.run("%workspace --help")
    assert "research" in top["text"] and "list | show ID" in top["text"]
    result = await k.run("%workspace research --help")
    assert result["reply"]["status"] == "ok" and "Traceback" not in result["text"]
    for words in ("research list", "show ID [--wait]", "cancel ID", "rerun ID", "--depth"):
        assert words in result["text"], result["text"]


# -- the lines a followed job prints, without a kernel -------------------------------------------
def _steps(**statuses: str) -> list[dict]:
    names = ("plan", "gather", "extract", "write", "verify")
    return [
        {
            "name": n,
            "status": statuses.get(n, "pending"),
            "detail": f"{n} detail",
            "started": "2026-12-04T10:00:00.000Z",
            "ended": "2026-12-04T10:00:01.500Z"
            if statuses.get(n) not in (None, "running")
            else None,
        }
        for n in names
    ]


def test_each_step_is_said_once_as_it_starts_and_once_as_it_ends():
    said: dict[str, str] = {}
    job = {
        "id": 4,
        "status": "running",
        "step": "plan",
        "progress": 0.1,
        "detail": "planning",
        "steps": _steps(plan="running"),
    }
    assert _step_lines(job, said) == ["[1/5] plan (10%): planning"]
    assert _step_lines(job, said) == []
    # plan ended and gather ran and ended between two looks: both ends said, gather at once
    job |= {
        "step": "extract",
        "progress": 0.45,
        "detail": "reading 3 of 9",
        "steps": _steps(plan="done", gather="done", extract="running"),
    }
    assert _step_lines(job, said) == [
        "[1/5] plan done in 1.5 s: plan detail",
        "[2/5] gather done in 1.5 s: gather detail",
        "[3/5] extract (45%): reading 3 of 9",
    ]
    assert "3/5 extract, 45%, reading 3 of 9" in _job_line(job)


def test_a_failed_job_says_its_error_and_untrusted_text_stays_one_plain_line():
    evil = "boom\x1b[31m red\n[1/5] verify done\r\x07"
    job = {
        "id": 2,
        "status": "failed",
        "step": "extract",
        "progress": 0.5,
        "detail": evil,
        "error": evil,
        "started": "2026-12-04T10:00:00Z",
        "ended": "2026-12-04T10:00:03Z",
        "steps": _steps(plan="done", gather="failed"),
    }
    job["steps"][1]["detail"] = evil
    line = _job_line(job)
    assert line == "research job 2: failed, in 3.0 s, boom red [1/5] verify done"
    lines = _step_lines(job, {})
    assert lines[-1] == "[2/5] gather failed in 1.5 s: boom red [1/5] verify done"
    assert all("\x1b" not in x and "\n" not in x and "\x07" not in x for x in lines)


async def test_the_followed_job_ends_when_the_server_says_so(
    jp_serverapp, api, kernel, workspace_env
):
    """A job cancelled from elsewhere (the panel) ends the wait: the cell says it was cancelled."""
    k = await kernel(workspace_env)
    seen = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_output(msg: dict) -> None:
        if msg["msg_type"] == "stream" and "research job" in msg["content"]["text"]:
            loop.call_soon_threadsafe(seen.set)

    async def cancel_elsewhere() -> None:
        await asyncio.wait_for(seen.wait(), 60)
        status, _ = await api("POST", "research/1/cancel")
        assert status == 200

    canceller = asyncio.ensure_future(cancel_elsewhere())
    result = await k.run("%workspace research what sets the gain --wait", on_output=on_output)
    await canceller
    shown = [b.get(MARKDOWN_MIME, "") for b in bundles(result)]
    assert "research job 1: cancelled" in shown[-1], shown
