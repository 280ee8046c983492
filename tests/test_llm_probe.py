"""Whether the configured LLM answers: the status and `llm.state` events say it, a real (fake)
LLM server up versus a closed port, checked at start, on request and after a failed chat."""

import socket

import pytest

from .chat_helpers import FAKE_KEY
from .waiting import until


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


CLOSED = closed_port_url()


@pytest.fixture
def jp_server_config(jp_server_config, fake_llm):
    config = dict(jp_server_config)
    config["WorkspaceApp"] = {
        **config["WorkspaceApp"],
        "llm_model": "openai/fake-model",
        "llm_api_base": fake_llm.url + "/v1",
        "llm_api_bases": [fake_llm.url, CLOSED, CLOSED + "/v1"],
        "llm_api_key": FAKE_KEY,
    }
    return config


async def test_a_running_llm_server_is_ready_and_a_closed_port_is_not(api, events, fake_llm):
    status, llm = await api("POST", "llm/check", {})
    assert status == 200
    assert llm["state"] == "ready" and llm["error"] is None
    assert llm["model"] == "openai/fake-model" and llm["api_base"] == fake_llm.url + "/v1"
    _, workspace_status = await api("GET", "status")
    assert workspace_status["llm"]["state"] == "ready"

    client = await events()
    status, llm = await api("POST", "llm/check", {"api_base": CLOSED + "/v1", "force": True})
    assert status == 200
    assert llm["state"] == "unreachable"
    assert CLOSED in llm["error"]
    event = await client.next("llm.state")
    assert event["llm"]["api_base"] == CLOSED + "/v1"
    assert event["llm"]["state"] in ("checking", "unreachable")
    # the key never travels with a probe, nor to the browser
    assert all(FAKE_KEY not in str(r) for r in fake_llm.requests)
    assert FAKE_KEY not in str(workspace_status)


async def test_ollama_says_which_model_to_pull(api, fake_llm):
    _, llm = await api(
        "POST", "llm/check", {"model": "ollama_chat/llama3.2", "api_base": fake_llm.url}
    )
    assert llm["state"] == "ready"
    _, llm = await api(
        "POST", "llm/check", {"model": "ollama_chat/mistral", "api_base": fake_llm.url}
    )
    assert llm["state"] == "no_model"
    assert "ollama pull mistral" in llm["error"]


@pytest.mark.parametrize(
    "body",
    [
        {"api_base": "http://169.254.169.254/latest"},  # not configured: never probed
        {"force": "yes"},
        {"model": 3},
        {"url": CLOSED},
    ],
)
async def test_a_check_refuses_what_it_cannot_take(api, body):
    status, answer_ = await api("POST", "llm/check", body)
    assert status == 400, answer_
    assert answer_["error"]


class TestWithTheSidecar:
    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        config = dict(jp_server_config)
        config["WorkspaceApp"] = {
            **config["WorkspaceApp"],
            "sidecar_enabled": True,
            "llm_timeout": 10.0,
        }
        return config

    async def test_checked_at_start_and_marked_when_a_chat_cannot_reach_it(
        self, ready, api, events, fake_llm
    ):
        await ready()
        _, status = await api("GET", "status")
        assert status["llm"]["state"] == "ready"

        client = await events()
        chat = {"message": "still there?", "model": "ollama_chat/llama3.2", "api_base": CLOSED}
        _, sent = await api("POST", "chat", chat)
        seen = []
        while not seen or seen[-1]["type"] != "chat.error":
            seen.append(await client.next(timeout=30))
        assert seen[-1]["kind"] == "unreachable", seen[-1]
        # published before the chat's error, so that a tab shows why at once
        (event,) = [e for e in seen if e["type"] == "llm.state"]
        assert event["llm"] == {
            **event["llm"],
            "model": "ollama_chat/llama3.2",
            "api_base": CLOSED,
            "state": "unreachable",
        }
        _, llm = await api("POST", "llm/check", {"model": chat["model"], "api_base": CLOSED})
        assert llm["state"] == "unreachable"


class TestNoLLMAtStart:
    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        config = dict(jp_server_config)
        config["WorkspaceApp"] = {
            **config["WorkspaceApp"],
            "sidecar_enabled": True,
            "llm_api_base": CLOSED + "/v1",
        }
        return config

    async def test_the_status_says_no_llm_answers(self, jp_serverapp, api):
        await jp_serverapp._post_start()

        async def checked():
            _, status = await api("GET", "status")
            return status["llm"] if status["llm"]["state"] != "checking" else None

        llm = await until(checked, 10)
        assert llm["state"] == "unreachable"
        assert llm["api_base"] == CLOSED + "/v1"
