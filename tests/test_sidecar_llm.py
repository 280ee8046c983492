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
    out = subprocess.run([sys.executable, "-c", NO_NETWORK_PROBE], capture_output=True,
                         text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["version"] and report["attempts"] == []


@pytest.mark.parametrize("text", [
    "Incorrect API key provided: sk-proj-AbCdEf0123456789xyz",
    "api_key=AbCdEf0123456789xyz was refused",
])
def test_keys_are_masked_in_messages(text):
    masked = llm.mask(text)
    assert "AbCdEf0123456789xyz" not in masked and "(hidden)" in masked
