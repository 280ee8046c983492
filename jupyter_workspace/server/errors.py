"""Domain errors. Handlers turn each into a JSON 4xx answer in one place (handlers.py)."""

from __future__ import annotations

from typing import Any


class WorkspaceError(Exception):
    """An error the user can act on; `status` is the HTTP status it maps to."""

    status = 400

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class BadRequest(WorkspaceError):
    status = 400


class NotFound(WorkspaceError):
    status = 404


class Conflict(WorkspaceError):
    status = 409


class TooLarge(WorkspaceError):
    status = 413


class BadGateway(WorkspaceError):
    """The LLM behind the sidecar failed or answered something unusable."""

    status = 502


class Unavailable(WorkspaceError):
    """An AI feature was asked for while the sidecar is not ready (degraded mode)."""

    status = 503
