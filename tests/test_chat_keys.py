"""The LLM key goes only to the server it was configured for, and never comes back in clear.

Three fake LLM servers on 127.0.0.1: the configured one (`llm_api_base`, the key's), one more a
request may choose (`llm_api_bases`) and a stranger nobody configured. The key has none of the
shapes (`sk-…`, `api_key=…`) a pattern would recognise, so only literal masking hides it.
"""

import json

import pytest

from .chat_helpers import answer
from .fake_llm import FakeLLM

KEY = "Zq8v3KxN0pLm5RtY2wUbHj4"
ENV_KEY = "Provider7Env0Key9Value"


@pytest.fixture
def other_llm():
    fake = FakeLLM().start()
    yield fake
    fake.stop()


@pytest.fixture
def stranger():
    fake = FakeLLM().start()
    yield fake
    fake.stop()


@pytest.fixture
def jp_server_config(jp_server_config, fake_llm, other_llm, monkeypatch):
    # a provider's own key in the environment must not travel to other servers either
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    config = dict(jp_server_config)
    config["WorkspaceApp"] = {
        **config["WorkspaceApp"],
        "sidecar_enabled": True,
        "llm_model": "openai/fake-model",
        "llm_api_base": fake_llm.url + "/v1",
        "llm_api_bases": [other_llm.url + "/v1"],
        "llm_api_key": KEY,
        "llm_timeout": 20.0,
    }
    return config


async def test_a_request_cannot_send_the_key_to_another_server(ready, api, stranger):
    await ready()
    for model in (None, "ollama_chat/llama3.2", "openai/fake-model"):
        for base in (stranger.url + "/v1", stranger.url, stranger.url + "/v1/"):
            body = {"message": "hi", "api_base": base, **({"model": model} if model else {})}
            status, error = await api("POST", "chat", body)
            assert status == 400, error
            assert "not one of the LLM servers" in error["error"]
            assert "llm_api_bases" in error["error"]
    assert stranger.requests == []
    _, listed = await api("GET", "conversations")
    assert listed["conversations"] == []


async def test_the_configured_server_gets_the_key_however_a_request_spells_it(
    ready, api, events, fake_llm
):
    await ready()
    client = await events()
    for base in (None, fake_llm.url.replace("http://", "HTTP://") + "/v1/"):
        body = {"message": "hi"} if base is None else {"message": "hi", "api_base": base}
        status, sent = await api("POST", "chat", body)
        assert status == 202, sent
        _, end = await answer(client, sent["stream_id"])
        assert end["type"] == "chat.done", end
        assert fake_llm.requests[-1]["authorization"] == f"Bearer {KEY}"


async def test_another_configured_server_is_asked_without_any_key(
    ready, api, events, fake_llm, other_llm
):
    await ready()
    client = await events()
    status, sent = await api("POST", "chat", {"message": "hi", "api_base": other_llm.url + "/v1"})
    assert status == 202, sent
    _, end = await answer(client, sent["stream_id"])
    assert end["type"] == "chat.done" and end["message"]["content"] == other_llm.reply, end
    [request] = other_llm.requests
    assert KEY not in json.dumps(request) and ENV_KEY not in json.dumps(request)
    assert fake_llm.requests == []


@pytest.mark.parametrize(
    "echo",
    [
        "Incorrect API key provided: " + KEY,
        "you sent Authorization: {authorization}",
        f"bad key {KEY}; key={KEY}, again {KEY}",
    ],
)
async def test_a_key_the_provider_echoes_is_masked(ready, api, events, fake_llm, echo):
    await ready()
    fake_llm.fail = (401, echo)
    client = await events()
    _, sent = await api("POST", "chat", {"message": "hello"})
    _, end = await answer(client, sent["stream_id"])
    assert end["type"] == "chat.error" and end["kind"] == "auth", end
    assert fake_llm.requests[-1]["authorization"] == f"Bearer {KEY}"  # it was echoed
    assert "(hidden)" in end["error"]
    _, conversation = await api("GET", f"conversations/{sent['conversation']['id']}")
    assert KEY not in json.dumps(end) and KEY not in json.dumps(conversation)
