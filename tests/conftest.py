"""Shared fixtures: a real Jupyter server (pytest-jupyter) with the workspace extension."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from .chat_helpers import sidecar_ready

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture
def jp_server_config(jp_root_dir):
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_workspace": True},
            # Refuse any handler that forgot its auth decorator.
            "allow_unauthenticated_access": False,
        },
        # The AI sidecar is started only by the tests about it (tests/test_chat.py, ...).
        "WorkspaceApp": {
            "watch_debounce": 0.1,
            "sqlite_synchronous": "NORMAL",
            "sidecar_enabled": False,
            "index_enabled": False,
        },
    }


@pytest.fixture
def workspace(jp_serverapp):
    """The running WorkspaceApp instance."""
    return jp_serverapp.extension_manager.extension_points["jupyter_workspace"].app


@pytest.fixture
def api(jp_fetch):
    """Call the workspace API: `status, data = await api("POST", "notes", {...})`."""

    async def call(
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {
            "method": method,
            "raise_error": False,
            "headers": dict(headers or {}),
            "params": params,
            "allow_nonstandard_methods": True,
        }
        if raw is not None:
            kwargs["body"] = raw
        elif body is not None:
            kwargs["body"] = json.dumps(body)
        elif method in ("POST", "PATCH", "PUT"):
            kwargs["body"] = b""
        response = await jp_fetch("workspace", "api", path, **kwargs)
        text = response.body.decode() if response.body else ""
        return response.code, (json.loads(text) if text else None)

    return call


@pytest.fixture
def fake_llm():
    """A fake OpenAI/Ollama-compatible LLM server on 127.0.0.1 (tests/fake_llm.py)."""
    from .fake_llm import FakeLLM

    fake = FakeLLM().start()
    yield fake
    fake.stop()


class EventClient:
    """A WebSocket client of /workspace/api/events that collects the events it gets."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def next(self, type_: str | None = None, timeout: float = 5.0) -> dict[str, Any]:
        """The next event (of `type_`, skipping others)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"no {type_ or 'event'} within {timeout}s")
            message = await asyncio.wait_for(self.connection.read_message(), left)
            if message is None:
                raise ConnectionError("event socket closed")
            event = json.loads(message)
            if type_ is None or event["type"] == type_:
                return event

    async def none_within(self, seconds: float, type_: str | None = None) -> list[dict]:
        """Events of `type_` arriving within `seconds` (expected to be none)."""
        got = []
        try:
            while True:
                got.append(await self.next(type_, timeout=seconds))
        except TimeoutError:
            return got


@pytest.fixture
def events(jp_ws_fetch):
    """Open event sockets: `client = await events()`; the hello frame is consumed."""
    opened = []

    async def connect() -> EventClient:
        connection = await jp_ws_fetch("workspace", "api", "events")
        opened.append(connection)
        client = EventClient(connection)
        hello = await client.next()
        assert hello["type"] == "hello"
        return client

    yield connect
    for connection in opened:
        connection.close()


@pytest.fixture
def ready(jp_serverapp, api):
    """`await ready()`: start the extension's background work and wait for the sidecar."""

    async def start():
        await jp_serverapp._post_start()
        return await sidecar_ready(api)

    return start
