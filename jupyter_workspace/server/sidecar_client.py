"""The coordinator's client for the sidecar's loopback HTTP API (health and SSE streams)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import httpx


class SidecarGone(Exception):
    """The sidecar stopped answering (crashed, killed, or restarting)."""


class SidecarRefused(Exception):
    """The sidecar answered, but with an error (e.g. its index is not loaded)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SidecarClient:
    def __init__(self, port: int, token: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self._headers = {"Authorization": f"Bearer {token}"}
        # No proxies from the environment: this is loopback traffic only.
        self._http = httpx.AsyncClient(base_url=self.base, headers=self._headers, trust_env=False)

    async def close(self) -> None:
        await self._http.aclose()

    async def health(self, timeout: float = 3.0) -> dict[str, Any]:
        try:
            response = await self._http.get("/health", timeout=timeout)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as e:
            raise SidecarGone(f"health check failed: {e!r}") from None

    async def call(
        self, method: str, path: str, payload: dict[str, Any] | None = None, timeout: float = 300.0
    ) -> dict[str, Any]:
        """A JSON request; `SidecarGone` if the sidecar is down, `SidecarRefused` on a 4xx/5xx."""
        try:
            response = await self._http.request(method, path, json=payload, timeout=timeout)
        except httpx.HTTPError as e:
            raise SidecarGone(f"the AI sidecar did not answer ({type(e).__name__})") from None
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code >= 400:
            raise SidecarRefused(
                response.status_code, str(data.get("error") or response.reason_phrase)
            )
        return data

    async def stream(
        self, path: str, payload: dict[str, Any]
    ) -> AsyncGenerator[dict[str, Any], None]:
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
            raise SidecarGone(
                f"the AI sidecar stopped while answering ({type(e).__name__})"
            ) from None
