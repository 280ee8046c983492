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

SIDECAR_STATE: Final = "sidecar.state"
CHAT_STARTED: Final = "chat.started"
CHAT_TOKEN: Final = "chat.token"
CHAT_CONTEXT: Final = "chat.context"
CHAT_DONE: Final = "chat.done"
CHAT_ERROR: Final = "chat.error"
CONVERSATION_UPDATED: Final = "conversation.updated"
CONVERSATION_DELETED: Final = "conversation.deleted"

# Sidecar states, as the supervisor reports them.
SIDECAR_STATES: Final = ("stopped", "starting", "ready", "restarting", "degraded")

# How the coordinator launches the sidecar: the bearer token travels in the environment (never
# on the command line, where `ps` shows it); the sidecar prints one line with its port.
SIDECAR_TOKEN_ENV: Final = "JUPYTER_WORKSPACE_SIDECAR_TOKEN"
SIDECAR_PARENT_ENV: Final = "JUPYTER_WORKSPACE_SIDECAR_PARENT"
SIDECAR_READY_LINE: Final = "JUPYTER_WORKSPACE_SIDECAR_LISTENING"
# The LLM key, if the server was given one, and the one base URL it may be sent to (empty: the
# provider's default address); the sidecar sends no key anywhere else.
LLM_API_KEY_ENV: Final = "JUPYTER_WORKSPACE_LLM_API_KEY"
LLM_API_KEY_BASE_ENV: Final = "JUPYTER_WORKSPACE_LLM_API_KEY_BASE"

# Kinds of chat errors, so that panels and magics can say what to do about each.
ERROR_KINDS: Final = (
    "unreachable",  # no LLM server answered at the configured address
    "auth",  # the provider refused the key
    "rate_limit",
    "not_found",  # unknown model
    "bad_request",
    "timeout",
    "cancelled",
    "sidecar",  # the AI sidecar died or is unavailable
    "other",
)

# The index's configuration, passed to the sidecar in its environment.
INDEX_URI_ENV: Final = "JUPYTER_WORKSPACE_INDEX_URI"
MODEL_CACHE_ENV: Final = "JUPYTER_WORKSPACE_MODEL_CACHE"
EMBEDDING_MODEL_ENV: Final = "JUPYTER_WORKSPACE_EMBEDDING_MODEL"
EMBEDDING_BACKEND_ENV: Final = "JUPYTER_WORKSPACE_EMBEDDING_BACKEND"
INLINE_EMBED_ENV: Final = "JUPYTER_WORKSPACE_INLINE_EMBED"
# The largest request body the sidecar reads: the coordinator sends no larger batch of files
# (a 16 MB source file, index_max_source_bytes, fits as JSON unless it is mostly escapes).
SIDECAR_MAX_BODY: Final = 64 * 1024 * 1024
INDEX_PROGRESS: Final = "index.progress"
TASKS_DETECTED: Final = "tasks.detected"
ENTITIES_CHANGED: Final = "entities.changed"
PIPELINE_RUN: Final = "pipeline.run"
PIPELINES_CHANGED: Final = "pipelines.changed"
ENTITY_PATTERNS_ENV: Final = "JUPYTER_WORKSPACE_ENTITY_PATTERNS"

# --- The sidecar's chat stream (`POST /chat`, server-sent events) ---------------------------------
# Each `data:` line is a JSON object whose `type` is one of these, in this order: one start, any
# number of tokens (`text`), then one done (`finish_reason`) or one error (`kind`, `message`).
SSE_START: Final = "start"
SSE_TOKEN: Final = "token"
SSE_DONE: Final = "done"
SSE_ERROR: Final = "error"
