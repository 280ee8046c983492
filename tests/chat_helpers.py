"""Helpers for the tests that run the real AI sidecar against the fake LLM server."""

from __future__ import annotations

from typing import Any

from .waiting import until

SIDECAR_READY_TIMEOUT = 90.0
FAKE_KEY = "sk-fake-key-for-tests-0123456789"


async def sidecar_ready(api, timeout: float = SIDECAR_READY_TIMEOUT) -> dict[str, Any]:
    async def ready():
        _, status = await api("GET", "status")
        return status["sidecar"] if status["sidecar"]["state"] == "ready" else None

    return await until(ready, timeout, interval=0.1)


async def answer(client, stream_id: str, timeout: float = 30.0) -> tuple[list[str], dict]:
    """Collect one stream's tokens until its chat.done / chat.error event."""
    tokens: list[str] = []
    while True:
        event = await client.next(timeout=timeout)
        if event.get("stream_id") != stream_id:
            continue
        if event["type"] == "chat.token":
            tokens.append(event["text"])
        elif event["type"] in ("chat.done", "chat.error"):
            return tokens, event
