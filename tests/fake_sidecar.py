"""A stand-in for the supervisor and its sidecar client, for tests of the real coordinator
(watcher, catalog, indexer) that look at what reaches the index rather than at search."""

from __future__ import annotations

import json
from typing import Any

from jupyter_workspace import protocol
from jupyter_workspace.server.sidecar_client import SidecarGone


class FakeSidecar:
    """Stands in for the supervisor and its client. Like the real sidecar's HTTP server, it
    cuts the connection on a body over `SIDECAR_MAX_BODY`; it also cuts it on any batch that
    holds a path in `poison` (a file that crashes it)."""

    state = "ready"
    pid = 4242

    def __init__(self) -> None:
        self.client = self
        self.texts: dict[str, str] = {}  # what the index holds
        self.batches: list[list[str]] = []
        self.sent: list[tuple[str, str]] = []  # (path, text) in the order received
        self.poison: set[str] = set()

    def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {"state": self.state, "pid": self.pid, "restarts": 0}

    async def health(self) -> dict[str, Any]:
        return {"state": "ready", "index": {"state": "ready", "index_id": "fake"}}

    async def call(
        self, method: str, path: str, payload: dict[str, Any] | None = None, timeout: float = 300.0
    ) -> dict[str, Any]:
        if path == "/index/files":
            files = payload["files"]
            self.batches.append([f["path"] for f in files])
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
            if len(body) > protocol.SIDECAR_MAX_BODY or self.poison & set(self.batches[-1]):
                raise SidecarGone("the AI sidecar did not answer (RemoteProtocolError)")
            self.texts.update({f["path"]: f["text"] for f in files})
            self.sent += [(f["path"], f["text"]) for f in files]
            return {
                "files": [{"path": f["path"], "chunks": 1, "language": "text"} for f in files],
                "chunks": len(files),
                "vectors_pending": 0,
            }
        if path == "/index/delete":
            for p in payload["paths"]:
                self.texts.pop(p, None)
        return {"vectors_pending": 0}
