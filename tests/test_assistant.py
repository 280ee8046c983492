"""The assistant: the coordinator's one dispatch of the sidecar's LLM stream (start, tokens, then
one done or one error), and `complete` over it. First against a scripted sidecar (each way a
stream can end), then end to end through the real sidecar and a fake LLM server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from jupyter_workspace import protocol
from jupyter_workspace.server.assistant import AnswerCut, Assistant, LLMConfig, ModelFailed
from jupyter_workspace.server.errors import BadGateway, Unavailable
from jupyter_workspace.server.sidecar_client import SidecarGone

from .chat_helpers import FAKE_KEY


class ScriptedSidecar:
    """Stands in for the supervisor and its client: `stream` plays `events` (a SidecarGone in
    the list is raised there), then waits forever if `hang`. It records what was asked and
    whether the request was closed."""

    def __init__(self, events: list[Any], hang: bool = False, state: str = "ready") -> None:
        self.events = events
        self.hang = hang
        self.state = state
        self.client = self if state == "ready" else None
        self.payloads: list[dict[str, Any]] = []
        self.read = 0  # events handed out
        self.closed = 0  # requests closed

    def describe(self) -> dict[str, Any]:
        return {"state": self.state, "error": None if self.state == "ready" else "it crashed"}

    async def stream(self, path: str, payload: dict[str, Any]):
        assert path == "/chat"
        self.payloads.append(payload)
        try:
            for event in self.events:
                if isinstance(event, Exception):
                    raise event
                self.read += 1
                yield event
            if self.hang:
                await asyncio.Event().wait()
        finally:
            self.closed += 1


def start() -> dict[str, Any]:
    return {"type": protocol.SSE_START}


def token(text: str) -> dict[str, Any]:
    return {"type": protocol.SSE_TOKEN, "text": text}


def done() -> dict[str, Any]:
    return {"type": protocol.SSE_DONE, "finish_reason": "stop"}


def error(kind: str, message: str) -> dict[str, Any]:
    return {"type": protocol.SSE_ERROR, "kind": kind, "message": message}


CONFIG = LLMConfig("openai/configured", "http://127.0.0.1:8000/v1", 7.0)
ASK = [{"role": "user", "content": "why?"}]


async def collect(assistant: Assistant, **choices: Any) -> list[str]:
    return [text async for text in assistant.stream(ASK, **choices)]


async def test_the_answer_is_the_tokens_up_to_done_and_nothing_after_it():
    sidecar = ScriptedSidecar([start(), token("Hel"), token("lo"), done(), token("stray")])
    assistant = Assistant(sidecar, CONFIG)
    assert await collect(assistant) == ["Hel", "lo"]
    assert sidecar.read == 4 and sidecar.closed == 1  # done ends the request
    assert sidecar.payloads == [
        {
            "model": "openai/configured",
            "api_base": "http://127.0.0.1:8000/v1",
            "timeout": 7.0,
            "messages": ASK,
        }
    ]
    assert await assistant.complete(ASK) == "Hello"


async def test_a_request_may_choose_its_model_and_an_ollama_server_by_default():
    sidecar = ScriptedSidecar([done()])
    assistant = Assistant(sidecar, LLMConfig("openai/configured", ""))
    assert await collect(assistant, model="ollama_chat/llama3.2") == []
    assert sidecar.payloads[0]["model"] == "ollama_chat/llama3.2"
    assert sidecar.payloads[0]["api_base"] == "http://127.0.0.1:11434"


async def test_an_error_ends_the_answer_with_its_kind():
    sidecar = ScriptedSidecar([start(), token("partial"), error("rate_limit", "busy"), done()])
    assistant = Assistant(sidecar, CONFIG)
    got: list[str] = []
    with pytest.raises(ModelFailed) as failed:
        async for text in assistant.stream(ASK):
            got.append(text)
    assert got == ["partial"]
    assert (failed.value.kind, failed.value.message) == ("rate_limit", "busy")
    assert sidecar.read == 3 and sidecar.closed == 1

    with pytest.raises(BadGateway) as bad:
        await assistant.complete(ASK)
    assert bad.value.status == 502 and bad.value.extra == {"kind": "rate_limit"}
    assert bad.value.message == "the model failed: busy"


async def test_a_stream_that_ends_without_done_or_error_is_not_an_answer():
    sidecar = ScriptedSidecar([start(), token("half an ans")])
    assistant = Assistant(sidecar, CONFIG)
    with pytest.raises(AnswerCut):
        await collect(assistant)
    with pytest.raises(BadGateway, match="ended without a result"):
        await assistant.complete(ASK)


async def test_a_sidecar_that_goes_away_is_unavailable():
    gone = SidecarGone("the AI sidecar stopped while answering (ReadError)")
    assistant = Assistant(ScriptedSidecar([start(), gone]), CONFIG)
    with pytest.raises(SidecarGone):
        await collect(assistant)
    with pytest.raises(Unavailable, match="ReadError") as unavailable:
        await assistant.complete(ASK)
    assert unavailable.value.status == 503

    down = Assistant(ScriptedSidecar([done()], state="degraded"), CONFIG)
    with pytest.raises(SidecarGone):
        await collect(down)
    with pytest.raises(Unavailable, match=r"unavailable \(degraded\): it crashed"):
        await down.complete(ASK)


async def test_cancelling_a_stream_closes_the_sidecar_request():
    sidecar = ScriptedSidecar([start(), token("w0 ")], hang=True)
    assistant = Assistant(sidecar, CONFIG)
    got: list[str] = []

    async def read() -> None:
        async for text in assistant.stream(ASK):
            got.append(text)

    task = asyncio.ensure_future(read())
    while not got:
        await asyncio.sleep(0.01)
    assert sidecar.closed == 0
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert got == ["w0 "] and sidecar.closed == 1


# -- end to end: the real sidecar (litellm) and a fake OpenAI-compatible server ---------------
@pytest.fixture
def jp_server_config(jp_server_config, fake_llm):
    config = dict(jp_server_config)
    config["WorkspaceApp"] = {
        **config["WorkspaceApp"],
        "sidecar_enabled": True,
        "llm_model": "openai/fake-model",
        "llm_api_base": fake_llm.url + "/v1",
        "llm_api_key": FAKE_KEY,
        "llm_timeout": 20.0,
    }
    return config


async def test_complete_through_the_real_sidecar(ready, workspace, fake_llm):
    await ready()
    assistant = workspace.assistant
    fake_llm.tokens = ["All ", "good."]
    assert await assistant.complete(ASK) == "All good."
    assert fake_llm.requests[-1]["body"]["messages"] == ASK

    fake_llm.fail = (401, "bad key")
    with pytest.raises(BadGateway) as bad:
        await assistant.complete(ASK)
    assert bad.value.extra == {"kind": "auth"} and FAKE_KEY not in bad.value.message
