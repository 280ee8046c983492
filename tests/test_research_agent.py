"""The research agent's steps, run one after another as the job manager runs them, on a real
server: the real sidecar and index over a small folder of C and Python files, and the fake LLM
server playing the plan, extract and write answers (tests/fake_llm.py's `respond`).

What a user would notice: a cited report whose fabricated citations are never kept as
verified; a retrieval-only report when no model answers; the budget's end said in the report;
a chat answer that does not wait for a research job's model request; tokens counted."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import socket
import time
from typing import Any

import pytest

from jupyter_workspace import protocol
from jupyter_workspace.server.assistant import LLMConfig
from jupyter_workspace.server.errors import Unavailable
from jupyter_workspace.server.research import agent
from jupyter_workspace.server.research.env import BUDGETS, ResearchEnv, RunContext, content_hash

from .chat_helpers import FAKE_KEY, answer, sidecar_ready
from .research_corpus import CONFIG_H, DEPTH_LINE, LOOP_LINE, SEND_C
from .waiting import until

INDEX_TIMEOUT = 180

ROUTE_PY = """\
\"\"\"Ground tool: print which pipes a message id is routed to.\"\"\"


def routes_for(table, msg_id):
    \"\"\"The pipes subscribed to msg_id, in subscription order.\"\"\"
    return [pipe for pipe, ids in table.items() if msg_id in ids]
"""
QUESTION = (
    "How does CFE_SB_Send route a message to more than one pipe, and where are the limits set?"
)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def jp_server_config(jp_server_config, jp_root_dir, fake_llm):
    (jp_root_dir / "sb").mkdir()
    (jp_root_dir / "sb" / "send.c").write_text(SEND_C)
    (jp_root_dir / "sb" / "sb_config.h").write_text(CONFIG_H)
    (jp_root_dir / "tools").mkdir()
    (jp_root_dir / "tools" / "route.py").write_text(ROUTE_PY)
    config = dict(jp_server_config)
    config["WorkspaceApp"] = {
        **config["WorkspaceApp"],
        "sidecar_enabled": True,
        "index_enabled": True,
        "llm_model": "openai/fake-model",
        "llm_api_base": fake_llm.url + "/v1",
        "llm_api_key": FAKE_KEY,
        "llm_timeout": 20.0,
    }
    return config


@pytest.fixture
def research_env(jp_serverapp, workspace, api):
    """`await research_env()`: the server started, the folder indexed, a ResearchEnv."""

    async def start(llm_state: str = "ready") -> ResearchEnv:
        await jp_serverapp._post_start()
        await sidecar_ready(api)

        async def idle():
            _, status = await api("GET", "index")
            return status if status["state"] == "idle" and status["files_indexed"] >= 3 else None

        await until(idle, timeout=INDEX_TIMEOUT, interval=0.2)
        env: ResearchEnv = workspace.research_env
        return dataclasses.replace(env, llm_state=lambda: llm_state)

    return start


async def run_steps(
    env: ResearchEnv, question: str = QUESTION, depth: str = "quick", **budget: int
) -> RunContext:
    job = {
        "id": 1,
        "question": question,
        "depth": depth,
        "scope": {"paths": [], "languages": [], "notes": False},
    }
    ctx = RunContext(env, job, dataclasses.replace(BUDGETS[depth], **budget))
    for name in protocol.RESEARCH_STEPS:
        ctx.outputs[name] = await agent.STEPS[name](ctx)
        json.dumps(ctx.outputs[name])  # a checkpoint is JSON
    return ctx


# -- the fake model's script ---------------------------------------------------------------------
PLAN = {
    "sub_questions": [
        {"question": "How does CFE_SB_Send deliver to several pipes?", "queries": ["CFE_SB_Send"]},
        {"question": "Where are the pipe limits set?", "queries": ["CFE_SB_MAX_PIPE_DEPTH"]},
    ]
}
FINDINGS = {
    "findings": [
        {
            "claim": "CFE_SB_Send delivers the message to each pipe of its route in a loop.",
            "sub_question": 1,
            "citations": [
                {
                    "path": "sb/send.c",
                    "start_line": LOOP_LINE,
                    "end_line": LOOP_LINE + 2,
                    "quote": "CFE_SB_Deliver(route->pipes[i], msg);",
                }
            ],
        },
        {
            "claim": "A pipe holds at most 256 messages.",
            "sub_question": 2,
            "citations": [
                {
                    "path": "sb/sb_config.h",
                    "start_line": DEPTH_LINE,
                    "end_line": DEPTH_LINE,
                    "quote": "#define CFE_SB_MAX_PIPE_DEPTH 256",
                }
            ],
        },
        {  # fabricated: no such file
            "claim": "Routes are kept in a hash table.",
            "sub_question": 1,
            "citations": [
                {
                    "path": "sb/route_table.c",
                    "start_line": 10,
                    "end_line": 12,
                    "quote": "hash = msg_id % CFE_SB_ROUTES;",
                }
            ],
        },
        {  # fabricated: the file exists, the quote is not in those lines
            "claim": "Overflows are reported as an event.",
            "sub_question": 2,
            "citations": [
                {
                    "path": "sb/send.c",
                    "start_line": 1,
                    "end_line": 3,
                    "quote": "CFE_EVS_SendEvent(CFE_SB_Q_FULL_ERR_EID);",
                }
            ],
        },
    ]
}
REAL = [f"[sb/send.c:{LOOP_LINE}-{LOOP_LINE + 2}]", f"[sb/sb_config.h:{DEPTH_LINE}]"]
FAKE = ["[sb/route_table.c:10-12]", "[sb/send.c:1-3]"]
REPORT = f"""# How the software bus fans out

## Summary
CFE_SB_Send loops over the route's pipes; the limits are macros.

## Findings
- Each pipe of the route gets the message. {REAL[0]}
- A pipe holds at most 256 messages. {REAL[1]}
- Routes are kept in a hash table. {FAKE[0]}
- Overflows are reported as an event. {FAKE[1]}

## Open questions
- What happens when a route is full?
"""


def script(plan: str | None = None, findings: str | None = None, report: str = REPORT):
    """The fake model's answers, chosen by the system prompt of each request."""

    def respond(messages: list[dict[str, Any]]) -> str:
        system = messages[0]["content"]
        if system.startswith("You plan research"):
            return (
                plan
                if plan is not None
                else "Here is the plan:\n```json\n" + json.dumps(PLAN) + "\n```"
            )
        if system.startswith("You extract findings"):
            return findings if findings is not None else json.dumps(FINDINGS)
        if system.startswith("You write a research report"):
            return report
        return "A chat answer."

    return respond


def research_requests(fake_llm, prefix: str) -> list[dict]:
    return [
        r
        for r in fake_llm.requests
        if r["body"].get("messages") and r["body"]["messages"][0]["content"].startswith(prefix)
    ]


# -- the tests -----------------------------------------------------------------------------------
async def test_a_cited_report_keeps_no_fabricated_citation_as_verified(research_env, fake_llm):
    env = await research_env()
    fake_llm.respond = script()
    ctx = await run_steps(env)

    planned = ctx.outputs["plan"]
    assert planned["mode"] == "llm"
    assert [s["question"] for s in planned["sub_questions"]] == [
        s["question"] for s in PLAN["sub_questions"]
    ]
    # the question itself is always searched, first
    assert planned["sub_questions"][0]["queries"][0] == QUESTION

    sources = ctx.outputs["gather"]["sources"]
    read = {(s["path"], s["start_line"]) for s in sources}
    assert any(path == "sb/send.c" for path, _ in read), read
    assert any(path == "sb/sb_config.h" for path, _ in read), read
    for s in sources:  # the text is the file's lines as read, with the file's hash
        assert s["hash"] and s["text"] and s["why"] in ("hit", "definition", "caller", "callee")
        assert len(sources) <= BUDGETS["quick"].max_sources

    # every extract request shows the passages with their path:lines, numbered lines
    extract_asked = research_requests(fake_llm, "You extract findings")
    assert extract_asked
    shown = extract_asked[0]["body"]["messages"][1]["content"]
    assert (
        "sb/" in shown
        and "| " in shown
        and "data, not instructions" in (extract_asked[0]["body"]["messages"][0]["content"])
    )
    # the fabricated citations are kept in the findings: the verifier is the one to catch them
    cited = {c["path"] for f in ctx.outputs["extract"]["findings"] for c in f["citations"]}
    assert "sb/route_table.c" in cited

    written = ctx.outputs["write"]
    assert written["title"] == "How the software bus fans out"
    assert written["markdown"].index("## Summary") < written["markdown"].index("## Sources read")

    verified = ctx.outputs["verify"]
    note = verified["markdown"]
    stats = verified["stats"]
    assert stats["citations"] >= 4
    for fake in FAKE:  # never kept as if checked: marked unverified or dropped
        for line in note.splitlines():
            if fake in line:
                assert "unverified" in line, line
    assert stats["unverified"] + stats["dropped"] >= 2
    # the verifier keeps the true ones
    assert stats["verified"] >= 2
    for real in REAL:
        assert any(real in line and "unverified" not in line for line in note.splitlines())
        by_path = {s["path"]: s for s in verified["sources"]}
        assert by_path["sb/send.c"]["cited"] and by_path["sb/send.c"]["hash"]
        assert "sb/route_table.c" not in by_path or not by_path["sb/route_table.c"]["cited"]

    # usage: the fake's usage chunks, counted once per model call
    assert fake_llm.usages
    assert ctx.usage.llm_calls == len(fake_llm.usages) == len(fake_llm.requests)
    assert ctx.usage.tokens_in == sum(u["prompt_tokens"] for u in fake_llm.usages)
    assert ctx.usage.tokens_out == sum(u["completion_tokens"] for u in fake_llm.usages)
    assert ctx.usage.cost is None  # litellm has no price for the fake model


async def test_a_plan_that_is_not_json_is_asked_again_then_planned_from_the_words(
    research_env, fake_llm
):
    env = await research_env()
    fake_llm.respond = script(plan="I would look at the software bus first.")
    ctx = RunContext(env, {"id": 1, "question": QUESTION, "depth": "quick"}, BUDGETS["quick"])
    planned = await agent.plan(ctx)
    asked = research_requests(fake_llm, "You plan research")
    assert len(asked) == 2  # asked once more, firmly
    assert asked[1]["body"]["messages"][-1]["content"].startswith("Your answer was not the JSON")
    # the model answered, so the later steps still use it; the plan comes from the words
    assert planned["mode"] == "llm" and "not JSON" in planned["reason"]
    queries = [q for s in planned["sub_questions"] for q in s["queries"]]
    assert queries[0] == QUESTION and "CFE_SB_Send" in queries
    assert len(queries) <= BUDGETS["quick"].queries
    assert len(planned["sub_questions"]) == 2  # one per clause

    # an extract answer that is not JSON is asked again, then its batch yields nothing
    fake_llm.respond = script(findings="Sorry, I cannot.")
    ctx.outputs["plan"] = planned
    ctx.outputs["gather"] = await agent.gather(ctx)
    extracted = await agent.extract(ctx)
    assert extracted["findings"] == []
    assert extracted["unparsed_batches"] == list(range(extracted["batches"]))
    assert len(research_requests(fake_llm, "You extract findings")) == 2 * extracted["batches"]
    ctx.outputs["extract"] = extracted
    written = await agent.write(ctx)  # nothing to write from: the passages, labelled
    assert written["markdown"].startswith("**Retrieval-only report** (no findings with citations")
    assert "was not JSON; those passages gave no findings" in written["markdown"]


async def test_with_no_model_answering_the_report_is_retrieval_only(
    research_env, fake_llm, workspace
):
    env = await research_env(llm_state="unknown")
    closed = f"http://127.0.0.1:{closed_port()}"
    workspace.assistant.config = LLMConfig("openai/fake-model", closed, timeout=10.0)
    ctx = await run_steps(env)
    planned = ctx.outputs["plan"]
    assert planned["mode"] == "retrieval"
    assert planned["reason"].startswith(f"No language model answered at {closed}")
    assert ctx.outputs["extract"]["findings"] == []
    note = ctx.outputs["verify"]["markdown"]
    assert "\n**Retrieval-only report** (no language model answered:" in note
    assert "re-run with an LLM later" in note
    # per sub-question, passages cited and shown in fences; all verify (read from the files)
    assert "## 1. " in note and "## 2. " in note and "```c" in note
    stats = ctx.outputs["verify"]["stats"]
    assert stats["citations"] >= 2
    assert stats["verified"] == stats["citations"] and "unverified" not in note
    assert ctx.usage.llm_calls == 0 and not fake_llm.requests

    # the LLM's state already says unreachable: the model is not even tried
    ctx = await run_steps(dataclasses.replace(env, llm_state=lambda: "no_model"))
    assert ctx.outputs["plan"]["mode"] == "retrieval"
    assert "not configured" in ctx.outputs["verify"]["markdown"]


async def test_a_spent_budget_ends_the_model_calls_and_the_report_says_so(research_env, fake_llm):
    env = await research_env()
    fake_llm.respond = script()
    # two model calls: the plan and one batch of passages
    ctx = await run_steps(env, max_steps=2, max_sources=30)
    assert ctx.usage.llm_calls == 2 == len(fake_llm.requests)
    extracted = ctx.outputs["extract"]
    if extracted["batches"] > 1:
        assert "budget is spent" in extracted["budget"]
    note = ctx.outputs["verify"]["markdown"]
    assert "budget is spent" in note.lower() or "Budget spent" in note
    assert "## Findings" in note  # the findings as stated, still cited and checked
    assert not research_requests(fake_llm, "You write a research report")


async def test_chat_goes_first_and_the_research_request_is_asked_again_after(
    research_env, fake_llm, workspace, api, events
):
    env = await research_env()
    long_answer = json.dumps(FINDINGS)
    fake_llm.respond = lambda messages: (
        "A chat answer."
        if messages[0]["content"].startswith("You are the assistant")
        else long_answer
    )
    fake_llm.delay = 0.05  # the research answer streams for a few seconds; chat's in two pieces
    ctx = RunContext(env, {"id": 1, "question": QUESTION, "depth": "quick"}, BUDGETS["quick"])
    research = asyncio.ensure_future(
        agent.ask(ctx, [{"role": "system", "content": "You extract findings"}])
    )
    await until(lambda: fake_llm.requests, 10)
    await asyncio.sleep(0.3)  # the research answer is being streamed

    client = await events()
    started = time.monotonic()
    status, sent = await api("POST", "chat", {"message": "What is a pipe?"})
    assert status == 202, sent
    tokens, done = await answer(client, sent["stream_id"])
    chat_took = time.monotonic() - started
    assert done["type"] == "chat.done" and "".join(tokens) == "A chat answer."
    assert not research.done()  # preempted, asked again once chat is done
    assert chat_took < 2.0, chat_took  # not behind the research answer (about 3 s)

    assert await research == long_answer
    asked = research_requests(fake_llm, "You extract findings")
    assert len(asked) == 2 and fake_llm.disconnects >= 1
    # the research request was sent again after the chat request
    order = [r["body"]["messages"][0]["content"][:12] for r in fake_llm.requests]
    assert order == ["You extract ", "You are the ", "You extract "], order
    assert ctx.usage.llm_calls == 1  # the preempted call reported nothing


async def test_a_background_request_waits_while_chat_streams(research_env, fake_llm, workspace):
    env = await research_env()
    assistant = workspace.assistant
    fake_llm.delay = 0.3
    slow = "a slow answer, streamed in pieces. " * 6  # 6 pieces: 1.5 s
    fake_llm.respond = lambda messages: slow

    async def chat() -> str:
        pieces = [
            p async for p in assistant.stream([{"role": "user", "content": "hi"}], interactive=True)
        ]
        return "".join(pieces)

    chatting = asyncio.ensure_future(chat())
    await until(lambda: fake_llm.requests, 10)  # chat's request is being answered
    assert assistant.interactive_streams == 1
    waiting = asyncio.ensure_future(
        assistant.complete([{"role": "user", "content": "x"}], background=True)
    )
    await asyncio.sleep(0.3)
    assert len(fake_llm.requests) == 1  # the background request has not been sent
    assert await chatting == slow
    assert await waiting == slow
    assert len(fake_llm.requests) == 2

    # a cancelled background request stays a cancellation (a job's Stop), not a Preempted
    fake_llm.delay = 0.5
    task = asyncio.ensure_future(
        assistant.complete([{"role": "user", "content": "y"}], background=True)
    )
    await until(lambda: len(fake_llm.requests) == 3, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    await until(lambda: fake_llm.disconnects >= 1, 10)  # the provider's request is closed
    del env


async def test_gather_keeps_to_the_scope(research_env, fake_llm):
    env = await research_env()
    job = {
        "id": 1,
        "question": "CFE_SB_MAX_PIPE_DEPTH routes_for",
        "depth": "quick",
        "scope": {"paths": ["sb/*.h"], "languages": [], "notes": False},
    }
    ctx = RunContext(env, job, BUDGETS["quick"])
    ctx.outputs["plan"] = agent._retrieval_plan(job["question"], ctx.budget, "retrieval", "test")
    gathered = await agent.gather(ctx)
    hits = [s for s in gathered["sources"] if s["why"] == "hit"]
    assert hits and all(s["path"] == "sb/sb_config.h" for s in hits), hits
    assert gathered["queries"][0] == job["question"]


# -- the parsing of the model's answers (no server) ----------------------------------------------
def test_a_plan_is_read_from_a_fence_or_prose_and_bounded():
    from jupyter_workspace.server.assistant import parse_plan

    fenced = "Sure!\n```json\n" + json.dumps(PLAN) + "\n```\nHope this helps."
    assert parse_plan(fenced, 4, 6) == PLAN["sub_questions"]
    prose = "The plan: " + json.dumps(PLAN) + " -- done"
    assert parse_plan(prose, 4, 6) == PLAN["sub_questions"]
    # bounded: sub-questions and queries in all; wrong types dropped
    many = {
        "sub_questions": [
            {"question": f"q{i}", "queries": ["a", "b", 3, None, {"x": 1}, "a"]} for i in range(9)
        ]
        + [{"question": 7}, "text"]
    }
    plan = parse_plan(json.dumps(many), 2, 3)
    assert plan == [{"question": "q0", "queries": ["a", "b"]}, {"question": "q1", "queries": ["a"]}]
    assert parse_plan("no JSON here", 4, 6) is None
    assert parse_plan('{"sub_questions": [{"question": ""}]}', 4, 6) is None


def test_findings_are_read_tolerantly_and_keep_every_well_formed_citation():
    from jupyter_workspace.server.assistant import parse_findings

    answer = "```json\n" + json.dumps(FINDINGS) + "\n```"
    findings = parse_findings(answer, 2)
    assert findings is not None and len(findings) == 4  # fabricated ones too: verify decides
    assert findings[2]["citations"][0]["path"] == "sb/route_table.c"
    odd = {
        "findings": [
            {"claim": "no citations", "citations": []},
            {"claim": 5, "citations": [{"path": "a.c", "start_line": 1, "end_line": 1}]},
            {
                "claim": "  spaced\nclaim ",
                "sub_question": "9",
                "citations": [
                    {"path": "a.c", "start_line": 3, "end_line": 2, "quote": "x"},  # backwards
                    {"path": "a.c", "start_line": True, "end_line": 2, "quote": "x"},
                    {"path": "a.c", "start_line": 2, "quote": "   12| int x = 1;"},
                ],
            },
        ]
    }
    (only,) = parse_findings(json.dumps(odd), 2) or []
    assert only["claim"] == "spaced claim" and only["sub_question"] == 2
    # one line, the line numbers the passages were shown with taken off the quote
    assert only["citations"] == [
        {"path": "a.c", "start_line": 2, "end_line": 2, "quote": "int x = 1;"}
    ]
    assert parse_findings("I found nothing.", 2) is None
    assert parse_findings('{"findings": []}', 2) == []


def test_the_words_plan_splits_clauses_and_finds_symbols():
    planned = agent._retrieval_plan(QUESTION, BUDGETS["standard"], "retrieval", "no model")
    subs = planned["sub_questions"]
    assert [s["question"] for s in subs] == [
        "How does CFE_SB_Send route a message to more than one pipe",
        "where are the limits set",
    ]
    queries = [q for s in subs for q in s["queries"]]
    assert queries[0] == QUESTION and "CFE_SB_Send" in subs[0]["queries"]
    assert len(queries) <= BUDGETS["standard"].queries and len(set(queries)) == len(queries)
    assert agent._symbols("Which modules call time.sleep or getTimeOfDay in ns::clock?") == [
        "time.sleep",
        "getTimeOfDay",
        "ns::clock",
    ]
    one = agent._retrieval_plan("heater duty", BUDGETS["quick"], "retrieval", "x")
    assert one["sub_questions"] == [{"question": "heater duty", "queries": ["heater duty"]}]


async def test_a_job_queued_over_http_comes_back_as_a_verified_note(
    research_env, fake_llm, api, workspace
):
    await research_env()
    if getattr(workspace, "research", None) is None:
        pytest.skip("the job manager is not wired into the app")
    fake_llm.respond = script()
    status, job = await api("POST", "research", {"question": QUESTION, "depth": "quick"})
    assert status == 201, job

    async def ended():
        _, got = await api("GET", f"research/{job['id']}")
        return got if got["status"] in ("done", "failed", "cancelled") else None

    done = await until(ended, timeout=120, interval=0.2)
    assert done["status"] == "done", done
    assert done["mode"] == "llm" and done["note_id"]
    assert done["tokens_in"] == sum(u["prompt_tokens"] for u in fake_llm.usages) > 0
    cited = {s["path"] for s in done["sources"] if s["cited"]}
    assert "sb/send.c" in cited and "sb/route_table.c" not in cited
    _, note = await api("GET", f"notes/{done['note_id']}")
    body = note["body"]
    assert REAL[1] in body and "## Sources read" in body
    for line in body.splitlines():  # the fabricated citations: dropped or marked
        if FAKE[0] in line or FAKE[1] in line:
            assert "unverified" in line, line


async def test_a_sidecar_killed_mid_answer_leaves_the_step_to_be_tried_again(
    research_env, fake_llm, api
):
    """The job manager tries a step that raised Unavailable again once the sidecar is back;
    the agent must not turn a dead sidecar into a failed job or a retrieval-only report."""
    env = await research_env()
    _, status = await api("GET", "status")
    fake_llm.respond = lambda messages: "x" * 4000  # 100 pieces
    fake_llm.delay = 0.05
    ctx = RunContext(env, {"id": 1, "question": QUESTION, "depth": "quick"}, BUDGETS["quick"])
    asking = asyncio.ensure_future(agent.ask(ctx, [{"role": "user", "content": "long"}]))
    await until(lambda: fake_llm.requests, 20)
    await asyncio.sleep(0.3)
    os.kill(status["sidecar"]["pid"], signal.SIGKILL)
    with pytest.raises(Unavailable):
        await asyncio.wait_for(asking, 20)


def test_usage_is_read_from_the_last_chunk_and_priced_when_litellm_knows_the_model():
    from types import SimpleNamespace

    from jupyter_workspace.sidecar import llm

    llm.load()

    def chunk(**usage: Any) -> SimpleNamespace:
        return SimpleNamespace(choices=[], usage=SimpleNamespace(**usage))

    priced: dict[str, Any] = {}
    llm._read_usage(chunk(prompt_tokens=1000, completion_tokens=500), "gpt-4o-mini", priced)
    assert priced["prompt_tokens"] == 1000 and priced["completion_tokens"] == 500
    assert priced["cost"] > 0
    local: dict[str, Any] = {}
    llm._read_usage(chunk(prompt_tokens=3, completion_tokens=4), "openai/fake-model", local)
    assert local == {"prompt_tokens": 3, "completion_tokens": 4, "cost": None}
    # a chunk without usage, or a malformed one, reports nothing and raises nothing
    nothing: dict[str, Any] = {}
    llm._read_usage(SimpleNamespace(choices=[]), "gpt-4o-mini", nothing)
    llm._read_usage(chunk(prompt_tokens="many"), "gpt-4o-mini", nothing)
    assert nothing == {}


async def test_notes_read_carry_their_hash_and_research_reports_are_never_read(
    research_env, api, workspace
):
    env = await research_env(llm_state="no_model")
    body = "CFE_SB_MAX_PIPE_DEPTH caps each pipe of the software bus at 256 messages."
    _, other = await api("POST", "notes", {"title": "Pipe depth", "body": body})
    _, own = await api(
        "POST", "notes", {"title": "Research: pipe depth", "body": "Report: " + body}
    )

    async def both_indexed():
        found = await workspace.search.raw({"q": "CFE_SB_MAX_PIPE_DEPTH", "k": 20, "mode": "text"})
        paths = {hit["path"] for hit in found}
        return {f"@notes/{other['id']}", f"@notes/{own['id']}"} <= paths

    await until(both_indexed, timeout=60, interval=0.3)
    # the second note is the report of an earlier job: no job reads it
    await env.store.run(
        lambda conn: conn.execute(
            "INSERT INTO research_jobs(question, depth, status, note_id, created, updated) "
            "VALUES ('pipe depth?', 'quick', 'done', ?, '2026-12-04', '2026-12-04')",
            (own["id"],),
        )
    )
    job = {
        "id": 1,
        "question": "What caps the depth of a pipe (CFE_SB_MAX_PIPE_DEPTH)?",
        "depth": "quick",
        "scope": {"paths": [], "languages": [], "notes": True},
    }
    ctx = RunContext(env, job, BUDGETS["quick"])
    ctx.outputs["plan"] = await agent.plan(ctx)
    gathered = await agent.gather(ctx)
    notes = [s for s in gathered["sources"] if s["path"].startswith("@notes/")]
    assert [s["path"] for s in notes] == [f"@notes/{other['id']}"] * len(notes) and notes
    assert all(s["hash"] == content_hash(body.encode("utf-8")) for s in notes)
