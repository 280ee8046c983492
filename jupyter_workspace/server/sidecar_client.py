"""The coordinator's client for the sidecar's loopback HTTP API (health and SSE streams)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx


class SidecarGone(Exception):
    """The sidecar stopped answering (crashed, killed, or restarting)."""


class SidecarClient:
    def __init__(self, port: int, token: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self._headers = {"Authorization": f"Bearer {token}"}
        # No proxies from the environment: this is loopback traffic only.
        self._http = httpx.AsyncClient(base_url=self.base, headers=self._headers,
                                       trust_env=False)

    async def close(self) -> None:
        await self._http.aclose()

    async def health(self, timeout: float = 3.0) -> dict[str, Any]:
        try:
            response = await self._http.get("/health", timeout=timeout)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as e:
            raise SidecarGone(f"health check failed: {e!r}") from None

    async def stream(self, path: str, payload: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """POST `payload` and yield the SSE events; leaving the loop closes the request."""
        timeout = httpx.Timeout(10.0, read=None)
        try:
            async with self._http.stream("POST", path, json=payload, timeout=timeout) as response:
                if response.status_code != 200:
                    body = (await response.aread()).decode(errors="replace")[:300]
                    raise SidecarGone(f"sidecar answered {response.status_code}: {body}")
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        yield json.loads(line[6:])
        except httpx.HTTPError as e:
            raise SidecarGone(f"the AI sidecar stopped while answering ({type(e).__name__})") \
                from None
