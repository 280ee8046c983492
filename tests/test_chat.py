"""Chat end to end: REST → coordinator → real sidecar (litellm) → fake LLM server → events."""

import json

import pytest

from .chat_helpers import FAKE_KEY, answer
from .waiting import until


@pytest.fixture
def jp_server_config(jp_server_config, fake_llm):
    config = dict(jp_server_config)
    config["WorkspaceApp"] = {
        **config["WorkspaceApp"],
        "sidecar_enabled": True,
        "llm_model": "openai/fake-model",
        "llm_api_base": fake_llm.url + "/v1",
        # more servers a request may choose: the fake's Ollama API, a closed port
        "llm_api_bases": [fake_llm.url, "http://127.0.0.1:9"],
        "llm_api_key": FAKE_KEY,
        "llm_timeout": 20.0,
    }
    return config


async def test_streams_an_answer_and_keeps_the_conversation(ready, api, events, fake_llm):
    await ready()
    client = await events()
    status, sent = await api(
        "POST",
        "chat",
        {"message": "What is a Kalman filter?"},
        headers={"X-Workspace-Client": "tab-1"},
    )
    assert status == 202
    assert sent["message"]["role"] == "user" and sent["conversation"]["title"].startswith("What")
    tokens, end = await answer(client, sent["stream_id"])
    assert end["type"] == "chat.done", end
    assert tokens == fake_llm.tokens
    assert end["message"]["content"] == fake_llm.reply and end["message"]["status"] == "complete"

    # litellm really called the provider over HTTP, with the server-side key
    request = fake_llm.requests[-1]
    assert request["path"] == "/v1/chat/completions" and request["body"]["stream"] is True
    assert request["authorization"] == f"Bearer {FAKE_KEY}"
    assert request["body"]["messages"][-1] == {
        "role": "user",
        "content": "What is a Kalman filter?",
    }

    cid = sent["conversation"]["id"]
    _, conversation = await api("GET", f"conversations/{cid}")
    assert [(m["role"], m["status"]) for m in conversation["messages"]] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert conversation["streaming"] is None

    # a follow-up carries the history
    _, again = await api("POST", "chat", {"message": "And an EKF?", "conversation_id": cid})
    await answer(client, again["stream_id"])
    roles = [m["role"] for m in fake_llm.requests[-1]["body"]["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    _, listed = await api("GET", "conversations")
    assert [c["id"] for c in listed["conversations"]] == [cid]

    # the key never reaches the browser
    _, status = await api("GET", "status")
    llm = {"model": status["llm"]["model"], "api_base": status["llm"]["api_base"]}
    assert llm == {"model": "openai/fake-model", "api_base": fake_llm.url + "/v1"}
    assert FAKE_KEY not in json.dumps([status, listed, conversation])


async def test_ollama_chat_ndjson(ready, api, events, fake_llm):
    await ready()
    client = await events()
    _, sent = await api(
        "POST", "chat", {"message": "hi", "model": "ollama_chat/llama3.2", "api_base": fake_llm.url}
    )
    tokens, end = await answer(client, sent["stream_id"])
    assert end["type"] == "chat.done" and "".join(tokens) == fake_llm.reply
    assert "/api/chat" in [r["path"] for r in fake_llm.requests]
    assert end["message"]["model"] == "ollama_chat/llama3.2"


async def test_stop_cancels_down_to_the_provider_and_keeps_the_partial_answer(
    ready, api, events, fake_llm
):
    await ready()
    fake_llm.tokens = [f"w{i} " for i in range(400)]
    fake_llm.delay = 0.03
    client = await events()
    _, sent = await api("POST", "chat", {"message": "write a lot"})
    received = []
    while len(received) < 3:
        event = await client.next("chat.token", timeout=20)
        received.append(event["text"])
    status, _ = await api("POST", f"chat/{sent['stream_id']}/cancel", {})
    assert status == 200
    tokens, end = await answer(client, sent["stream_id"])
    assert end["type"] == "chat.done" and end["cancelled"] is True
    assert end["message"]["status"] == "partial"
    assert end["message"]["content"].startswith("w0 w1 w2 ")
    assert len(end["message"]["content"].split()) < 400
    # the provider saw the request closed
    assert await until(lambda: fake_llm.disconnects >= 1, timeout=10)
    assert (await api("POST", f"chat/{sent['stream_id']}/cancel", {}))[0] == 404


@pytest.mark.parametrize("status,kind", [(401, "auth"), (429, "rate_limit"), (404, "not_found")])
async def test_provider_errors_reach_the_user(ready, api, events, fake_llm, status, kind):
    await ready()
    fake_llm.fail = (status, "provider says no")
    client = await events()
    _, sent = await api("POST", "chat", {"message": "hello"})
    _, end = await answer(client, sent["stream_id"])
    assert end["type"] == "chat.error" and end["kind"] == kind, end
    assert end["message"]["status"] == "error" and end["error"]
    assert FAKE_KEY not in end["error"]


async def test_unreachable_llm_is_explained(ready, api, events):
    await ready()
    client = await events()
    _, sent = await api(
        "POST",
        "chat",
        {"message": "hello", "model": "ollama_chat/llama3.2", "api_base": "http://127.0.0.1:9"},
    )
    _, end = await answer(client, sent["stream_id"])
    assert end["type"] == "chat.error" and end["kind"] == "unreachable", end
    assert "127.0.0.1:9" in end["error"]


async def test_retry_replaces_the_failed_answer(ready, api, events, fake_llm):
    await ready()
    fake_llm.fail = (429, "busy")
    client = await events()
    _, sent = await api("POST", "chat", {"message": "once more"})
    _, end = await answer(client, sent["stream_id"])
    assert end["type"] == "chat.error"
    fake_llm.fail = None
    cid = sent["conversation"]["id"]
    status, retried = await api("POST", "chat", {"conversation_id": cid, "retry": True})
    assert status == 202
    _, end = await answer(client, retried["stream_id"])
    assert end["type"] == "chat.done"
    _, conversation = await api("GET", f"conversations/{cid}")
    assert [(m["role"], m["status"]) for m in conversation["messages"]] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]


async def test_one_stream_per_conversation(ready, api, events, fake_llm):
    await ready()
    fake_llm.tokens = ["x"] * 200
    fake_llm.delay = 0.02
    _, sent = await api("POST", "chat", {"message": "long"})
    cid = sent["conversation"]["id"]
    status, error = await api("POST", "chat", {"message": "again", "conversation_id": cid})
    assert status == 409 and "still answering" in error["error"]
    await api("POST", f"chat/{sent['stream_id']}/cancel", {})


async def test_conversations_rename_and_delete(ready, api, events):
    await ready()
    client = await events()
    _, sent = await api("POST", "chat", {"message": "name me"})
    await answer(client, sent["stream_id"])
    cid = sent["conversation"]["id"]
    status, renamed = await api("PATCH", f"conversations/{cid}", {"title": "Navigation"})
    assert status == 200 and renamed["title"] == "Navigation"
    assert (await api("DELETE", f"conversations/{cid}"))[0] == 204
    assert (await api("GET", f"conversations/{cid}"))[0] == 404
    _, listed = await api("GET", "conversations")
    assert listed["conversations"] == []


CHAT_BAD_INPUT = [
    ({}, 400, "'message' must be a string"),
    ({"message": "   "}, 400, "must not be empty"),
    ({"message": 5}, 400, "must be a string"),
    ({"message": "x" * 100_001}, 400, "too long"),
    ({"message": "hi", "conversation_id": "1"}, 400, "integer"),
    ({"message": "hi", "model": "gpt 4; rm -rf"}, 400, "litellm model name"),
    ({"message": "hi", "api_base": "file:///etc/passwd"}, 400, "http(s) URL"),
    ({"message": "hi", "api_base": "http://127.0.0.1:8"}, 400, "not one of the LLM servers"),
    ({"message": "hi", "model": "huggingface/https://127.0.0.1:8/x"}, 400, "litellm model name"),
    ({"message": "hi", "temperature": 2}, 400, "unknown field"),
    ({"retry": True}, 400, "needs the 'conversation_id'"),
]


@pytest.mark.parametrize("body,status,says", CHAT_BAD_INPUT)
async def test_chat_bad_input(api, body, status, says):
    """Refused before the sidecar is asked: no sidecar needs to run for these."""
    code, data = await api("POST", "chat", body)
    assert code == status and says in data["error"], data
    _, listed = await api("GET", "conversations")
    assert listed["conversations"] == []


async def test_unknown_stream_and_conversation_ids(ready, api):
    await ready()
    status, error = await api("POST", "chat", {"message": "hi", "conversation_id": 424242})
    assert status == 404 and "unknown conversation" in error["error"]
    assert (await api("POST", "chat/abc123/cancel", {}))[0] == 404
    for method in ("GET", "DELETE"):
        assert (await api(method, "conversations/77"))[0] == 404
    assert (await api("PATCH", "conversations/77", {"title": "x"}))[0] == 404
