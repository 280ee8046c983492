"""Everything that crosses a process boundary, named once: the coordinator's events, the sidecar's
chat stream, the environment the sidecar is launched with, URLs, MIME types and shared values.

The browser (labextension/), the coordinator (server/), the sidecar (sidecar/) and the kernel
magics (kernel/) all speak these; `tests/test_boundaries.py` checks that the labextension's event
types are the ones named here. Imports nothing heavy: every process may import it.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any, Final, NotRequired, TypedDict

# --- URLs -------------------------------------------------------------------------------------
# The coordinator's REST API and event socket, under the Jupyter server's base URL.
API_PREFIX: Final = "/workspace/api"
# Header a client sends so that the events its requests cause carry its id as `origin`.
CLIENT_HEADER: Final = "X-Workspace-Client"

# --- Event types pushed on the coordinator's WebSocket (`/workspace/api/events`) ------------------
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
SIDECAR_STATE: Final = "sidecar.state"
CHAT_STARTED: Final = "chat.started"
CHAT_TOKEN: Final = "chat.token"
CHAT_CONTEXT: Final = "chat.context"
CHAT_DONE: Final = "chat.done"
CHAT_ERROR: Final = "chat.error"
CONVERSATION_UPDATED: Final = "conversation.updated"
CONVERSATION_DELETED: Final = "conversation.deleted"
INDEX_PROGRESS: Final = "index.progress"
TASKS_DETECTED: Final = "tasks.detected"
ENTITIES_CHANGED: Final = "entities.changed"
PIPELINE_RUN: Final = "pipeline.run"
PIPELINES_CHANGED: Final = "pipelines.changed"
LLM_STATE: Final = "llm.state"
RESEARCH_JOB: Final = "research.job"
RESEARCH_DELETED: Final = "research.deleted"
SNAPSHOT_SAVED: Final = "snapshot.saved"
SNAPSHOT_DELETED: Final = "snapshot.deleted"
# What a client sends on the socket to keep it open; the coordinator answers PONG.
PING: Final = "ping"


# --- Event payloads: every event is `{"type": <one of the above>, ...}` with these fields --------
class HelloEvent(TypedDict):
    type: str
    server_version: str
    client_count: int


class NoteEvent(TypedDict):
    """note.created, note.updated."""

    type: str
    note: dict[str, Any]  # as `GET /notes/{id}` answers it
    origin: str | None  # the CLIENT_HEADER of the request that made the change


class NoteDeletedEvent(TypedDict):
    type: str
    id: int
    origin: str | None


class TaskEvent(TypedDict):
    """task.created, task.updated."""

    type: str
    task: dict[str, Any]  # as `GET /tasks/{id}` answers it
    origin: str | None


class TaskDeletedEvent(TypedDict):
    type: str
    id: int
    origin: str | None


class FileEvent(TypedDict):
    """file.changed, file.deleted (a folder's deletion with `directory`)."""

    type: str
    path: str  # relative to the served root
    directory: NotRequired[bool]


class SidecarDescription(TypedDict):
    state: str  # one of SIDECAR_STATES
    pid: int | None
    restarts: int
    error: str | None
    retry_in: float | None
    uptime: float | None


class SidecarStateEvent(TypedDict):
    type: str
    sidecar: SidecarDescription


class LLMDescription(TypedDict):
    """Whether an LLM answers: `llm` in the status, `POST /llm/check`'s answer."""

    model: str
    api_base: str | None  # None: the provider's default address
    state: str  # one of LLM_STATES
    error: str | None  # why it is not ready, for the user
    checked_at: float  # seconds since the epoch


class LLMStateEvent(TypedDict):
    type: str
    llm: LLMDescription


class ChatStartedEvent(TypedDict):
    type: str
    conversation_id: int
    stream_id: str
    message: dict[str, Any]  # the user's message, stored
    origin: str | None
    conversation: dict[str, Any]


class ChatContextEvent(TypedDict):
    """The passages a grounded answer is given, before its first token."""

    type: str
    conversation_id: int
    stream_id: str
    sources: list[dict[str, Any]]


class ChatTokenEvent(TypedDict):
    type: str
    conversation_id: int
    stream_id: str
    text: str


class ChatDoneEvent(TypedDict):
    type: str
    conversation_id: int
    stream_id: str
    message: dict[str, Any] | None  # None: the conversation was deleted while answering
    cancelled: bool


class ChatErrorEvent(TypedDict):
    type: str
    conversation_id: int
    stream_id: str
    error: str
    kind: str  # one of ERROR_KINDS
    message: dict[str, Any] | None


class ConversationUpdatedEvent(TypedDict):
    type: str
    conversation: dict[str, Any]


class ConversationDeletedEvent(TypedDict):
    type: str
    id: int


class IndexStatus(TypedDict):
    """`GET /workspace/api/index`, and the fields of an index.progress event."""

    state: str
    error: str | None
    model_id: str | None
    files_total: int
    files_indexed: int
    files_pending: int
    files_skipped: int
    files_error: int
    files_deleting: int
    chunks: int
    chunks_per_s: float
    vectors_pending: int


class IndexProgressEvent(IndexStatus):
    type: str


class TasksDetectedEvent(TypedDict):
    """A file's, note's or pipeline's detected tasks were stored: refetch."""

    type: str
    path: str  # the file, `@notes/<id>`, or the finder's scope (a pipeline's)
    created: int
    updated: int
    resolved: int
    note: NotRequired[str]  # says how many were kept when a file had too many


class EntitiesChangedEvent(TypedDict):
    type: str
    source: str  # the file or `@notes/<id>` whose mentions changed


class PipelineRunEvent(TypedDict):
    """A run started, ended or was summarized."""

    type: str
    run: dict[str, Any]  # as `GET /runs/{id}` answers it


class PipelinesChangedEvent(TypedDict):
    type: str
    reason: str  # one of PIPELINES_CHANGED_REASONS
    pipeline: NotRequired[str]  # with "untrusted": the pipeline whose watch run did not start


class ResearchJobEvent(TypedDict):
    """A research job was queued, changed step or progress, ended, or its sources changed."""

    type: str
    job: dict[str, Any]  # as `GET /research/{id}` answers it, without `steps`' outputs
    origin: NotRequired[str | None]


class ResearchDeletedEvent(TypedDict):
    type: str
    id: int
    origin: NotRequired[str | None]


class SnapshotSavedEvent(TypedDict):
    """A document's unsaved buffer was stored (issue 17)."""

    type: str
    snapshot: dict[str, Any]  # as `PUT /snapshots` answers it: metadata, no content
    origin: NotRequired[str | None]


class SnapshotDeletedEvent(TypedDict):
    """Snapshots were dropped: discarded, saved, or beyond the history or store cap."""

    type: str
    path: str
    ids: list[int]
    origin: NotRequired[str | None]


# Why pipelines.changed was sent: workspace.toml was trusted, it changed, or a watch run found it
# untrusted.
PIPELINES_CHANGED_REASONS: Final = ("trusted", "config", "untrusted")

# Every event type, with the shape of its payload (None: the type is the whole event).
EVENTS: Final[dict[str, type | None]] = {
    HELLO: HelloEvent,
    PONG: None,
    NOTE_CREATED: NoteEvent,
    NOTE_UPDATED: NoteEvent,
    NOTE_DELETED: NoteDeletedEvent,
    TASK_CREATED: TaskEvent,
    TASK_UPDATED: TaskEvent,
    TASK_DELETED: TaskDeletedEvent,
    FILE_CHANGED: FileEvent,
    FILE_DELETED: FileEvent,
    SIDECAR_STATE: SidecarStateEvent,
    LLM_STATE: LLMStateEvent,
    CHAT_STARTED: ChatStartedEvent,
    CHAT_CONTEXT: ChatContextEvent,
    CHAT_TOKEN: ChatTokenEvent,
    CHAT_DONE: ChatDoneEvent,
    CHAT_ERROR: ChatErrorEvent,
    CONVERSATION_UPDATED: ConversationUpdatedEvent,
    CONVERSATION_DELETED: ConversationDeletedEvent,
    INDEX_PROGRESS: IndexProgressEvent,
    TASKS_DETECTED: TasksDetectedEvent,
    ENTITIES_CHANGED: EntitiesChangedEvent,
    PIPELINE_RUN: PipelineRunEvent,
    PIPELINES_CHANGED: PipelinesChangedEvent,
    RESEARCH_JOB: ResearchJobEvent,
    RESEARCH_DELETED: ResearchDeletedEvent,
    SNAPSHOT_SAVED: SnapshotSavedEvent,
    SNAPSHOT_DELETED: SnapshotDeletedEvent,
}

# --- The sidecar's chat stream (`POST /chat`, server-sent events) ---------------------------------
# Each `data:` line is a JSON object whose `type` is one of these, in this order: one start, any
# number of tokens (`text`), then one done (`finish_reason`) or one error (`kind`, `message`).
SSE_START: Final = "start"
SSE_TOKEN: Final = "token"
SSE_DONE: Final = "done"
SSE_ERROR: Final = "error"


class StreamToken(TypedDict):
    type: str
    text: str


class StreamDone(TypedDict):
    type: str
    finish_reason: str
    # what the provider reported it used, when it did: {prompt_tokens, completion_tokens,
    # cost} (cost None when litellm knows no price for the model)
    usage: NotRequired[dict[str, Any]]


class StreamError(TypedDict):
    type: str
    kind: str  # one of ERROR_KINDS
    message: str


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

# Sidecar states, as the supervisor reports them.
SIDECAR_STATES: Final = ("stopped", "starting", "ready", "restarting", "degraded")
# Whether the LLM answers, as the coordinator's probe found (server/llm_probe.py): `unknown`
# for a provider's default address, which is not probed.
LLM_STATES: Final = ("checking", "ready", "unreachable", "no_model", "unknown")
# The sidecar prints one line with its port (and pid) when it listens.
SIDECAR_READY_LINE: Final = "JUPYTER_WORKSPACE_SIDECAR_LISTENING"

# --- Environment variables ----------------------------------------------------------------------
# How the coordinator launches the sidecar: the bearer token travels in the environment (never
# on the command line, where `ps` shows it).
SIDECAR_TOKEN_ENV: Final = "JUPYTER_WORKSPACE_SIDECAR_TOKEN"
SIDECAR_PARENT_ENV: Final = "JUPYTER_WORKSPACE_SIDECAR_PARENT"
# What the sidecar's environment holds unless the server's says otherwise: glibc's default of a
# malloc arena per core-thread let LanceDB's many threads grow it under sustained writes
# (bench_soak.py); OpenBLAS's threads, woken for the vector search's small products, spin on
# the core the full-text half runs on (at 1M rows the vector half's CPU time 73 -> 35 ms for
# the same answer, hybrid p50 114 -> 89-97 ms: bench/results/scale.md). The benchmarks start
# their sidecars and index processes with it too.
SIDECAR_ENV_DEFAULTS: Final = {"MALLOC_ARENA_MAX": "2", "OPENBLAS_NUM_THREADS": "1"}
# The LLM key, if the server was given one, and the one base URL it may be sent to (empty: the
# provider's default address); the sidecar sends no key anywhere else.
LLM_API_KEY_ENV: Final = "JUPYTER_WORKSPACE_LLM_API_KEY"
LLM_API_KEY_BASE_ENV: Final = "JUPYTER_WORKSPACE_LLM_API_KEY_BASE"
# The index's configuration, passed to the sidecar.
INDEX_URI_ENV: Final = "JUPYTER_WORKSPACE_INDEX_URI"
MODEL_CACHE_ENV: Final = "JUPYTER_WORKSPACE_MODEL_CACHE"
EMBEDDING_MODEL_ENV: Final = "JUPYTER_WORKSPACE_EMBEDDING_MODEL"
EMBEDDING_BACKEND_ENV: Final = "JUPYTER_WORKSPACE_EMBEDDING_BACKEND"
INLINE_EMBED_ENV: Final = "JUPYTER_WORKSPACE_INLINE_EMBED"
ENTITY_PATTERNS_ENV: Final = "JUPYTER_WORKSPACE_ENTITY_PATTERNS"  # JSON: {kind: regex}
# A shared base index opened read-only under the local one (sidecar/overlay.py): its LanceDB
# URI, its storage_options (JSON: {name: string}; may hold keys: never logged or shown), and
# the served root, where the sidecar looks which of the base's files the user still has.
BASE_INDEX_URI_ENV: Final = "JUPYTER_WORKSPACE_BASE_INDEX_URI"
BASE_INDEX_OPTIONS_ENV: Final = "JUPYTER_WORKSPACE_BASE_INDEX_OPTIONS"
INDEX_ROOT_ENV: Final = "JUPYTER_WORKSPACE_INDEX_ROOT"


def check_storage_options(options: Any) -> dict[str, str]:
    """LanceDB storage options as configuration gives them (BASE_INDEX_OPTIONS_ENV, the
    headless indexer's flags): names to strings, booleans and numbers written as LanceDB reads
    them. Checked where they enter either process; errors name the option, never its value
    (it may be a key)."""
    if options is None or options == "":
        return {}
    if not isinstance(options, dict):
        raise ValueError("storage options must be an object of names to strings")
    checked: dict[str, str] = {}
    for name, value in options.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
            raise ValueError(f"not a storage option name: {str(name)[:40]!r}")
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, str | int | float):
            raise ValueError(f"storage option {name} must be a string")
        checked[name.lower()] = str(value)
    return checked


# Where a kernel finds its workspace when it cannot find the server itself.
WORKSPACE_URL_ENV: Final = "JUPYTER_WORKSPACE_URL"
WORKSPACE_TOKEN_ENV: Final = "JUPYTER_WORKSPACE_TOKEN"
# What JupyterHub puts in a single-user server's environment (its kernels inherit it): the
# server's own URL (with the /user/<name>/ prefix), that prefix, and the server's API token.
HUB_SERVICE_URL_ENV: Final = "JUPYTERHUB_SERVICE_URL"
HUB_SERVICE_PREFIX_ENV: Final = "JUPYTERHUB_SERVICE_PREFIX"
HUB_API_TOKEN_ENV: Final = "JUPYTERHUB_API_TOKEN"

# --- MIME types of the kernel magics' output, rendered by the labextension ----------------------
RESULTS_MIME: Final = "application/vnd.jupyter-workspace.results+json"
# Markdown whose renderer always sanitizes (a cell's own text/markdown is trusted).
MARKDOWN_MIME: Final = "application/vnd.jupyter-workspace.markdown"
# An answer of `%workspace ask` / `%%workspace chat`: {markdown, sources: [{path, start_line,
# end_line, symbol, kind, cell?}]}; its citations and sources open the file at the line.
ANSWER_MIME: Final = "application/vnd.jupyter-workspace.answer+json"

# --- Values and limits every side knows ------------------------------------------------------
# The workspace's own notes are indexed, searched and cited as `@notes/<id>`.
NOTES_PREFIX: Final = "@notes/"
SEARCH_MODES: Final = ("hybrid", "vector", "text")


def path_glob(pattern: str | None) -> re.Pattern[str] | None:
    """Search's `path` filter as a regex on root-relative paths: a glob (`src/**/*.c`; `*`
    crosses folders too), or without a wildcard a prefix (`src/` is everything under it)."""
    if not pattern:
        return None
    glob = pattern if any(c in pattern for c in "*?[") else pattern + "*"
    return re.compile(fnmatch.translate(glob))


PRIORITIES: Final = ("low", "normal", "high", "urgent")
# Research jobs (server/research/): how far a job looks, where it is, and its steps in order.
RESEARCH_DEPTHS: Final = ("quick", "standard", "deep")
RESEARCH_STATES: Final = ("queued", "running", "done", "failed", "cancelled")
RESEARCH_STEPS: Final = ("plan", "gather", "extract", "write", "verify")
# The largest request body the sidecar reads: the coordinator sends no larger batch of files
# (a 16 MB source file, index_max_source_bytes, fits as JSON unless it is mostly escapes).
SIDECAR_MAX_BODY: Final = 64 * 1024 * 1024
