"""The sidecar's LLM layer on its own: offline import, error kinds, secrets kept out."""

import json
import os
import subprocess
import sys

import pytest

from jupyter_workspace.sidecar import llm

NO_NETWORK_PROBE = """
import json, socket, sys
attempts = []
real_connect = socket.socket.connect
def connect(self, address):
    attempts.append(repr(address))
    raise OSError("network disabled by the test")
socket.socket.connect = connect
socket.create_connection = lambda address, *a, **k: (attempts.append(repr(address)),
                                                     (_ for _ in ()).throw(OSError("no")))[1]
from jupyter_workspace.sidecar import llm
version = llm.load()
print(json.dumps({"version": version, "attempts": attempts}))
"""


def test_loading_litellm_attempts_no_network_connection():
    env = {k: v for k, v in os.environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    out = subprocess.run(
        [sys.executable, "-c", NO_NETWORK_PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["version"] and report["attempts"] == []


@pytest.mark.parametrize(
    "text",
    [
        "Incorrect API key provided: sk-proj-AbCdEf0123456789xyz",
        "api_key=AbCdEf0123456789xyz was refused",
    ],
)
def test_keys_are_masked_in_messages(text):
    masked = llm.mask(text)
    assert "AbCdEf0123456789xyz" not in masked and "(hidden)" in masked


KEY = "Zq8v3KxN0pLm5RtY2wUbHj4"  # no shape a pattern knows: only the literal masking hides it


@pytest.mark.parametrize(
    "text",
    [
        "Incorrect API key provided: Zq8v3KxN0pLm5RtY2wUbHj4",
        "request headers: {'Authorization': 'Bearer Zq8v3KxN0pLm5RtY2wUbHj4'}",
        "Zq8v3KxN0pLm5RtY2wUbHj4 was refused; Zq8v3KxN0pLm5RtY2wUbHj4 again",
    ],
)
def test_the_configured_key_is_masked_in_every_form(monkeypatch, text):
    monkeypatch.setenv(llm.API_KEY_ENV, KEY)
    for masked in (llm.mask(text), llm.mask_keys(text), llm.ChatError("auth", text).message):
        assert KEY not in masked and "(hidden)" in masked


@pytest.mark.parametrize(
    "text",
    [
        "Incorrect API key provided: AbCdEf0123456789xyz",
        "Authorization: Bearer AbCdEf0123456789xyz",
    ],
)
def test_an_announced_key_is_masked_even_when_not_configured(text):
    assert "AbCdEf0123456789xyz" not in llm.mask(text)


def test_the_key_goes_only_to_the_base_it_was_configured_for(monkeypatch):
    monkeypatch.setenv(llm.API_KEY_ENV, KEY)
    monkeypatch.setenv("JUPYTER_WORKSPACE_LLM_API_KEY_BASE", "http://127.0.0.1:4000/v1")
    assert llm.key_for("http://127.0.0.1:4000/v1") == KEY
    assert llm.key_for("http://127.0.0.1:4000/v1/") == KEY
    for other in ("http://127.0.0.1:4001/v1", "http://127.0.0.1:4000", None):
        assert llm.key_for(other) == llm.NO_KEY
    # no key configured: the provider's own from the environment, for the configured base only
    monkeypatch.delenv(llm.API_KEY_ENV)
    assert llm.key_for("http://127.0.0.1:4000/v1") is None
    assert llm.key_for("http://127.0.0.1:4001/v1") == llm.NO_KEY


PRINTS_THE_KEY = """
import logging, sys
from jupyter_workspace.sidecar import llm
llm.mask_output()
key = sys.argv[1]
print("stdout", key, flush=True)
logging.getLogger("litellm").warning("sent Authorization: Bearer %s", key)
raise RuntimeError(f"provider said: invalid key {key}")
"""


def test_nothing_the_sidecar_prints_holds_the_key():
    """The coordinator logs the sidecar's output: stdout, log records, tracebacks."""
    env = {**os.environ, llm.API_KEY_ENV: KEY}
    out = subprocess.run(
        [sys.executable, "-c", PRINTS_THE_KEY, KEY],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert "RuntimeError" in out.stderr and "stdout" in out.stdout
    assert KEY not in out.stdout + out.stderr
    assert out.stderr.count("(hidden)") >= 2


class _EchoingIndex:
    """An index whose remote embedding provider echoes the key in its errors."""

    def open_early(self):
        return None  # a remote backend with no index of it yet: the model must load first

    def load_model(self):
        raise RuntimeError(f"embeddings refused Authorization: Bearer {KEY}")

    def stats(self, paths):
        raise ValueError(f"cannot use key {KEY}")

    def base_status(self):
        return None  # no base index under this one


async def test_sidecar_errors_never_carry_the_key(monkeypatch):
    """Health (the coordinator shows its errors in status) and error replies, status line too."""
    import asyncio

    import httpx
    from tornado.httpserver import HTTPServer
    from tornado.netutil import bind_sockets

    from jupyter_workspace.sidecar.server import SidecarState, make_app

    monkeypatch.setenv(llm.API_KEY_ENV, KEY)
    state = SidecarState("t" * 43)
    state.index = _EchoingIndex()
    state.loaded = asyncio.get_running_loop().create_future()
    state.loaded.set_result(None)
    state.index_loaded = asyncio.ensure_future(state.load_index())
    await asyncio.wait([state.index_loaded])
    server = HTTPServer(make_app(state))
    [sock] = bind_sockets(0, address="127.0.0.1", family=2)
    server.add_sockets([sock])
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        async with httpx.AsyncClient(
            trust_env=False, headers={"Authorization": f"Bearer {'t' * 43}"}
        ) as http:
            health = await http.get(f"{base}/health")
            assert "(hidden)" in health.json()["index"]["error"]
            state.index_error = None  # the index "recovers"; its next request fails
            failed = await http.get(f"{base}/index")
            assert failed.status_code == 400 and "(hidden)" in failed.json()["error"]
            for response in (health, failed):
                assert KEY not in response.text and KEY not in response.reason_phrase
    finally:
        server.stop()
        state.writer.shutdown()
        state.reader.shutdown()
