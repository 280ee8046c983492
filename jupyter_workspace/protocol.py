"""Message shapes and limits shared by the coordinator, the sidecar and the kernel magics.

Imports nothing heavy: every process may import it.
"""

from __future__ import annotations

from typing import Final

# Event types pushed on the coordinator's WebSocket (`/workspace/api/events`).
HELLO: Final = "hello"
PONG: Final = "pong"
NOTE_CREATED: Final = "note.created"
NOTE_UPDATED: Final = "note.updated"
NOTE_DELETED: Final = "note.deleted"
TASK_CREATED: Final = "task.created"
TASK_UPDATED: Final = "task.updated"
TASK_DELETED: Final = "task.deleted"
FILE_CHANGED: Final = "file.changed"
FILE_DELETED: Final = "file.deleted"

PRIORITIES: Final = ("low", "normal", "high", "urgent")

# Header a client sends so that the events its requests cause carry its id as `origin`.
CLIENT_HEADER: Final = "X-Workspace-Client"

API_PREFIX: Final = "/workspace/api"
