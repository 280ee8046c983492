"""With no language model answering, the workspace's passages are the answer: one short reason,
no model named as its author, one citation per passage, and the lines that answer shown.

End to end: real sidecar, real index, and a real LLM address that does not answer (a closed
port) or a test OpenAI-compatible server that refuses the key."""

import re
import socket

import pytest

from jupyter_workspace.server import grounding

from .chat_helpers import FAKE_KEY, sidecar_ready
from .waiting import until

INDEX_TIMEOUT = 180

# A long function whose answering line is far below the lines a search snippet shows.
THERMAL_C = "\n".join(
    [
        "/* Thermal control of the battery heater */",
        "void heater_step(struct thermal *t, float dt)",
        "{",
        *[f"    t->history[{i}] = t->history[{i + 1}];" for i in range(24)],
        "    float error = t->setpoint - t->temperature;",
        "    t->integral += error * dt;",
        "    t->duty = t->kp * error + t->ki * t->integral;",
        "    /* the duty cycle is clamped to the heater's rating */",
        "    if (t->duty > HEATER_DUTY_MAX) t->duty = HEATER_DUTY_MAX;",
        "    if (t->duty < 0.0f) t->duty = 0.0f;",
        *[f"    t->log[{i}] = t->duty;" for i in range(12)],
        "}",
        "",
    ]
)
CLAMP_LINE = THERMAL_C.split("\n").index(
    "    if (t->duty > HEATER_DUTY_MAX) t->duty = HEATER_DUTY_MAX;"
)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: a real unreachable LLM address."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CLOSED = f"http://127.0.0.1:{closed_port()}"


@pytest.fixture
def jp_server_config(jp_server_config, jp_root_dir, fake_llm):
    (jp_root_dir / "thermal.c").write_text(THERMAL_C)
    config = dict(jp_server_config)
    config["WorkspaceApp"] = {
        **config["WorkspaceApp"],
        "sidecar_enabled": True,
        "index_enabled": True,
        "llm_model": "ollama_chat/llama3.2",
        "llm_api_base": CLOSED,
        "llm_api_bases": [fake_llm.url + "/v1"],
        "llm_api_key": FAKE_KEY,
        "llm_timeout": 20.0,
    }
    return config


@pytest.fixture
def indexed(jp_serverapp, api):
    async def start():
        await jp_serverapp._post_start()
        await sidecar_ready(api)

        async def idle():
            _, status = await api("GET", "index")
            done = status["state"] == "idle" and status["files_indexed"] >= 1
            return status if done else None

        return await until(idle, timeout=INDEX_TIMEOUT, interval=0.2)

    return start


async def ask(api, events, body):
    client = await events()
    status, sent = await api("POST", "chat", body)
    assert status == 202, sent
    while True:
        event = await client.next(timeout=60)
        if event.get("stream_id") == sent["stream_id"] and event["type"] in (
            "chat.done",
            "chat.error",
        ):
            return event


def assert_one_citation_per_passage(content: str) -> list[tuple[str, int, int]]:
    cited = re.findall(r"^\d+\. \[([^\]:]+):(\d+)-(\d+)\]", content, re.M)
    assert cited, content
    for path, start, _end in cited:
        assert content.count(f"{path}:{start}") == 1, content  # not `[p:1] p:1-9`
    return [(p, int(s), int(e)) for p, s, e in cited]


async def test_a_closed_port_gives_one_short_reason_and_the_answering_lines(indexed, api, events):
    await indexed()
    done = await ask(api, events, {"message": "where is the heater duty clamped?"})
    message = done["message"]
    assert done["type"] == "chat.done", done
    assert message["mode"] == "retrieval-only" and message["status"] == "complete"
    assert message["model"] is None  # no model answered: none is named as the author
    assert message["error"] == f"No language model answered at {CLOSED} (connection refused)"
    assert message["error_kind"] == "unreachable"
    content = message["content"]
    assert content.startswith("**Retrieval-only answer**")
    # the reason is said once, in `error`, not again in the text
    assert CLOSED not in content and "SSLContext" not in content
    cited = assert_one_citation_per_passage(content)
    path, start, end = cited[0]
    assert path == "thermal.c"
    assert start <= CLAMP_LINE + 1 <= end  # the line that answers is shown and cited
    assert "HEATER_DUTY_MAX) t->duty = HEATER_DUTY_MAX;" in content


async def test_a_refused_key_on_the_test_server_is_one_short_reason(indexed, api, events, fake_llm):
    await indexed()
    fake_llm.fail = (401, "Incorrect API key provided")
    done = await ask(
        api,
        events,
        {
            "message": "where is the heater duty clamped?",
            "model": "openai/fake-model",
            "api_base": fake_llm.url + "/v1",
        },
    )
    message = done["message"]
    assert message["mode"] == "retrieval-only" and message["model"] is None
    assert message["error"] == "The LLM provider refused the API key for openai/fake-model"
    assert_one_citation_per_passage(message["content"])


def test_the_passage_is_the_window_around_the_best_matching_lines():
    lines = THERMAL_C.split("\n")
    hit = {
        "path": "thermal.c",
        "start_line": 1,
        "end_line": len(lines),
        "text": THERMAL_C,
        "snippet": "\n".join(lines[:6]),
        "language": "c",
    }
    start, end, text = grounding.passage(hit, grounding.query_terms("heater duty clamped"))
    assert end - start + 1 == grounding.PASSAGE_LINES
    assert start < CLAMP_LINE + 1 < end  # context above and below it
    assert "HEATER_DUTY_MAX) t->duty = HEATER_DUTY_MAX;" in text
    assert text.split("\n")[0] == lines[start - 1]


def test_a_passage_of_pieces_keeps_the_files_line_numbers():
    hit = {
        "path": "a.py",
        "start_line": 10,
        "end_line": 60,
        "ranges": [[10, 12], [50, 60]],
        "text": "\n".join(
            ["def a():", "    x = 1", "    y = 2", "⋮", *[f"    z{i} = {i}" for i in range(10)]]
            + ["    return gain_limit"]
        ),
    }
    start, end, text = grounding.passage(hit, grounding.query_terms("gain limit"))
    # 15 lines, 14 shown: from `x = 1` (line 11) over the gap to the line that answers
    assert (start, end) == (11, 60)
    assert text.startswith("    x = 1") and "⋮" in text and text.endswith("return gain_limit")


@pytest.mark.parametrize(
    "kind,error,reason",
    [
        (
            "unreachable",
            "litellm.APIConnectionError: Cannot connect to host 127.0.0.1:11434 "
            "ssl:<ssl.SSLContext object at 0x7f3a2c1b2d40> [Connect call failed "
            "('127.0.0.1', 11434)]",
            "No language model answered at http://127.0.0.1:11434 (connection refused)",
        ),
        (
            "unreachable",
            "Cannot connect to host llm.example:11434 ssl:default [Name or service not known]",
            "No language model answered at http://127.0.0.1:11434 (unknown host)",
        ),
        (
            "timeout",
            "Request timed out after 120 s",
            "The language model at http://127.0.0.1:11434 did not answer in time",
        ),
    ],
)
def test_a_provider_error_becomes_one_short_human_reason(kind, error, reason):
    assert (
        grounding.no_model_reason(kind, error, "ollama_chat/llama3.2", "http://127.0.0.1:11434")
        == reason
    )
