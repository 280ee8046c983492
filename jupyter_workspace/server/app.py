"""`WorkspaceApp`: the coordinator, loaded into the Jupyter server as an ExtensionApp.

`jupyter workspace [PATH]` launches JupyterLab on PATH with the workspace loaded; installed
with pip, the extension is also enabled in any `jupyter lab` / `jupyter server`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Dict, Enum, Float, Int, List, Unicode, default, validate

from .. import __version__, protocol
from ..entity_patterns import DEFAULT_PATTERNS, compile_patterns
from . import handlers
from .assistant import Assistant, LLMConfig, is_http_url
from .backups import BACKUP_DIR_NAME, SUBCOMMANDS, DatabaseBackups
from .catalog import Catalog, SizeLimit
from .chat import ChatManager
from .detections import Detections, refine_note
from .events import EventBus
from .fields import Limits
from .ignore import DEFAULT_SECRET_PATTERNS, IgnoreRules
from .index_feeder import Indexer
from .lab_defaults import use_lab_defaults
from .llm_probe import LLMProbe
from .lookup import LookupManager
from .mcp import MCPService
from .notes import NotesManager
from .pipelines import PipelineManager
from .research import ResearchManager
from .research.env import ResearchEnv
from .search import SearchManager
from .snapshots import SnapshotsManager
from .store import Store
from .supervisor import Supervisor
from .tasks import TasksManager
from .unindexed import PendingFiles
from .watcher import FileWatcher

DATABASE_NAME = "workspace.sqlite"


class WorkspaceApp(ExtensionApp):
    name = "jupyter_workspace"
    description = "An AI-augmented engineering workspace inside JupyterLab."
    app_version = __version__
    version = __version__
    extension_url = "/lab"
    load_other_extensions = True
    # `jupyter workspace restore-backup` (backups.py) and `jupyter workspace index` (its own
    # process, headless/index.py): by import string, their classes load only when they run
    subcommands = {
        **SUBCOMMANDS,
        "index": (
            "jupyter_workspace.headless.index.IndexApp",
            "Index a folder without a Jupyter server (CI, a big machine); resumable.",
        ),
        "mcp": (
            "jupyter_workspace.kernel.mcp_stdio.MCPStdioApp",
            "Serve the running workspace's MCP tools over stdio (for agents).",
        ),
    }

    state_dir = Unicode(
        "",
        config=True,
        help="""Folder for the workspace's state: the SQLite database, and the index unless
        index_uri puts it elsewhere. Relative paths are taken from the served root. Default:
        .jupyter-workspace in the served root.""",
    )
    max_body_bytes = Int(
        1024 * 1024, config=True, help="Largest request body the API accepts, in bytes."
    )
    max_title_chars = Int(200, config=True, help="Longest note or task title, in characters.")
    watch_files = Bool(
        True, config=True, help="Watch the served root for file changes (file.* events)."
    )
    watch_debounce = Float(
        0.3, config=True, help="Seconds a file must stay quiet before its change is reported."
    )
    sqlite_synchronous = Enum(
        ["FULL", "NORMAL"],
        "FULL",
        config=True,
        help="""SQLite `synchronous` in WAL mode. FULL survives power loss; NORMAL is faster
        but may lose the last commits on power loss (never on a process crash).""",
    )

    llm_model = Unicode(
        config=True,
        help="""The chat model, in litellm form: 'ollama_chat/llama3.2' (default, Ollama on
        localhost), 'openai/gpt-4o-mini', 'anthropic/claude-3-5-haiku-latest',
        'gemini/gemini-2.0-flash', or 'openai/<name>' with llm_api_base for any
        OpenAI-compatible server. Environment: JUPYTER_WORKSPACE_LLM_MODEL.""",
    )
    llm_api_base = Unicode(
        config=True,
        help="""Base URL of the LLM server; empty for the provider's default (Ollama models:
        http://127.0.0.1:11434). Environment: JUPYTER_WORKSPACE_LLM_API_BASE.""",
    )
    llm_api_key = Unicode(
        config=True,
        help="""API key for the LLM provider, if it is not in the provider's own environment
        variable (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, ...). Server-side only:
        never sent to the browser, logged or stored. Environment: JUPYTER_WORKSPACE_LLM_API_KEY.""",
    )
    llm_api_bases = List(
        Unicode(),
        config=True,
        help="""More LLM server base URLs a chat request may choose (`api_base`, the JupyterLab
        setting "LLM server address"), e.g. a second Ollama. Any other URL is refused:
        the API key goes only to llm_api_base (llm_api_key, or the provider's key in the
        environment); requests to these carry no key.""",
    )
    llm_timeout = Float(120.0, config=True, help="Seconds to wait for the LLM to answer.")
    sidecar_enabled = Bool(
        True, config=True, help="Start the AI sidecar (chat, search). Off: degraded mode."
    )
    sidecar_command = List(
        Unicode(),
        config=True,
        help="The command that starts the AI sidecar (default: this Python, -m "
        "jupyter_workspace.sidecar).",
    )
    sidecar_backoff = List(
        Float(),
        [1.0, 2.0, 4.0],
        config=True,
        help="Seconds to wait before each restart of a failed sidecar; after the last, the "
        "sidecar stays down (degraded) until a user restarts it.",
    )
    sidecar_health_interval = Float(5.0, config=True, help="Seconds between health checks.")
    sidecar_start_timeout = Float(
        120.0, config=True, help="Seconds the sidecar may take to become ready."
    )

    index_enabled = Bool(
        True, config=True, help="Index the served folder for search (in the AI sidecar)."
    )
    index_uri = Unicode(
        "",
        config=True,
        help="""Where the LanceDB index lives: a folder (default: index/ in the state dir) or
        a LanceDB URI such as s3://bucket/path.""",
    )
    base_index_uri = Unicode(
        "",
        config=True,
        help="""A team's shared base index, opened read-only: a LanceDB URI (s3://bucket/path,
        gs://..., az://...) or a folder, built by `jupyter workspace index PATH --uri URI` from
        the same repository with the same embedding backend and model. Files whose content is
        the base's are searched from it (nothing embedded here); the user's changed, new and
        deleted files are kept in the local index (index_uri), which shadows the base.
        Default: $JUPYTER_WORKSPACE_BASE_INDEX_URI, else none.""",
    )
    base_index_storage_options = Dict(
        {},
        config=True,
        help="""LanceDB storage_options for base_index_uri, name -> string: e.g.
        {"aws_endpoint": "http://minio.minio:9000", "aws_region": "us-east-1",
        "allow_http": "true"}. Keys may go here, or in the environment LanceDB reads
        (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AZURE_STORAGE_ACCOUNT_KEY,
        GOOGLE_SERVICE_ACCOUNT, ...); they reach the AI sidecar only, never a log or the
        browser. Default: $JUPYTER_WORKSPACE_BASE_INDEX_OPTIONS (JSON), else none.""",
    )
    embedding_model = Unicode(
        "all-MiniLM-L6-v2",
        config=True,
        help="The embedding model (the bundled all-MiniLM-L6-v2 works offline).",
    )
    embedding_backend = Unicode(
        "auto",
        config=True,
        help="""How to run the embedding model: auto (fastest available), onnx-int8, torch,
        or a remote endpoint: openai:<model> (an OpenAI-compatible /embeddings server such as
        text-embeddings-inference; base URL in JUPYTER_WORKSPACE_EMBEDDING_API_BASE, key in
        JUPYTER_WORKSPACE_EMBEDDING_API_KEY) or litellm:<provider/model>.""",
    )
    model_cache_dir = Unicode(
        "",
        config=True,
        help="""Where converted embedding models are cached (built once, shared by every
        workspace of this user). Default: ~/.cache/jupyter-workspace/models.""",
    )
    index_max_file_bytes = Int(
        2 * 1024 * 1024,
        config=True,
        help="""Files larger than this are not indexed (source
        code in a language the chunker parses: see index_max_source_bytes).""",
    )
    index_max_source_bytes = Int(
        16 * 1024 * 1024,
        config=True,
        help="""Source files (C, C++, Fortran, Python,
        JavaScript, TypeScript, Markdown) larger than this are not indexed. Larger than
        index_max_file_bytes: an amalgamated library (zstd.c 2.2 MB, sqlite3.c 9 MB) is code a
        user searches; a log or data file that size rarely is.""",
    )
    entity_patterns = Dict(
        DEFAULT_PATTERNS,
        config=True,
        help="""Ids to find as entities while indexing: kind -> regular expression (Python
        syntax), e.g. {"requirement": "\\bREQ-\\d+\\b", "part": "\\bPN-[0-9]{5}\\b"}. Kinds
        earlier in the dict win where two match the same text. An invalid one is left out and
        reported (log, GET entities' config_errors); the server still starts.""",
    )
    index_secret_patterns = List(
        Unicode(),
        list(DEFAULT_SECRET_PATTERNS),
        config=True,
        help="""Files never indexed, hidden or not (gitignore patterns): keys, credentials,
        `.env` files. Hidden files and folders are not indexed either, unless
        ContentsManager.allow_hidden is true (as Jupyter's file browser hides them).""",
    )
    index_rescan_interval = Float(
        300.0,
        config=True,
        help="""Seconds the index must be idle before the served root is scanned again for
        changes no file event reported (a scan of 10,000 unchanged files takes a fraction of
        a second). 0: scan only at start-up and after bursts of events.""",
    )
    index_inline_embed = Int(
        48,
        config=True,
        help="""A batch of files with at most this many new chunks is embedded before it is
        written, so a saved file is searchable by meaning at once. A bigger batch (a cold
        start) is written first and embedded behind: full-text search answers within seconds
        while the vectors fill in. 0: always write first.""",
    )

    research_concurrency = Int(
        1, config=True, help="Research jobs that may run at once (the others wait, queued)."
    )
    research_standing_interval = Float(
        600.0,
        config=True,
        help="""Seconds between two re-runs of a standing research job: however often its
        cited or in-scope files change, it runs again at most once in this time.""",
    )
    research_debounce = Float(
        30.0,
        config=True,
        help="""Seconds a standing research job's cited or in-scope files must stay quiet
        after a change before the job runs again.""",
    )
    research_expansion = Bool(
        True,
        config=True,
        help="""Research jobs read around each search hit: the enclosing definition, its
        callers and callees. Off: only the enclosing definition.""",
    )
    mcp_write_tools = Bool(
        False,
        config=True,
        help="""Offer agents connected over MCP (/workspace/mcp, `jupyter workspace mcp`) the
        tools that write: note_create, task_create, task_update, research_start and
        pipeline_run (which also needs the terminals permission). Off: read-only tools.""",
    )
    research_max_queued = Int(
        200,
        config=True,
        help="Research jobs that may wait in the queue; more are refused (429) until some run.",
    )

    snapshot_max_bytes = Int(
        5 * 1024 * 1024,
        config=True,
        help="""Largest document (UTF-8 bytes) whose unsaved buffer is snapshotted; a bigger
        one is refused (413) and its previous snapshot kept.""",
    )
    snapshot_history = Int(
        5, config=True, help="Snapshots kept per document and browser tab (the newest)."
    )
    snapshot_store_bytes = Int(
        200 * 1024 * 1024,
        config=True,
        help="""Bytes (compressed) all snapshots together may take in the database; beyond
        it the oldest are dropped.""",
    )

    backup_interval = Float(
        15.0,
        config=True,
        help="""Minutes between copies of the workspace database into <state_dir>/backups
        (SQLite's online backup API, checked with integrity_check); 0: no copies.
        `jupyter workspace restore-backup` lists and restores them.""",
    )
    backup_keep = Int(4, config=True, help="How many database backups to keep (the newest).")

    @validate("backup_interval", "backup_keep")
    def _check_backups(self, proposal: Any) -> Any:
        if proposal["value"] < 0:
            raise ValueError(f"{proposal['trait'].name} must be >= 0")
        return proposal["value"]

    @validate("snapshot_max_bytes", "snapshot_history", "snapshot_store_bytes")
    def _check_snapshot_limits(self, proposal: Any) -> int:
        if proposal["value"] < 1:
            raise ValueError(f"{proposal['trait'].name} must be at least 1")
        return proposal["value"]

    @validate("research_concurrency", "research_max_queued")
    def _check_research_counts(self, proposal: Any) -> int:
        if proposal["value"] < 1:
            raise ValueError(f"{proposal['trait'].name} must be at least 1")
        return proposal["value"]

    @validate("research_standing_interval", "research_debounce")
    def _check_research_seconds(self, proposal: Any) -> float:
        if proposal["value"] < 0:
            raise ValueError(f"{proposal['trait'].name} must be >= 0")
        return proposal["value"]

    @default("llm_model")
    def _llm_model_default(self) -> str:
        return os.environ.get("JUPYTER_WORKSPACE_LLM_MODEL", "ollama_chat/llama3.2")

    @default("llm_api_base")
    def _llm_api_base_default(self) -> str:
        return os.environ.get("JUPYTER_WORKSPACE_LLM_API_BASE", "")

    @default("llm_api_key")
    def _llm_api_key_default(self) -> str:
        return os.environ.get("JUPYTER_WORKSPACE_LLM_API_KEY", "")

    @default("sidecar_command")
    def _sidecar_command_default(self) -> list[str]:
        return [sys.executable, "-m", "jupyter_workspace.sidecar"]

    @default("base_index_uri")
    def _base_index_uri_default(self) -> str:
        return os.environ.get(protocol.BASE_INDEX_URI_ENV, "")

    @default("base_index_storage_options")
    def _base_index_storage_options_default(self) -> dict[str, str]:
        raw = os.environ.get(protocol.BASE_INDEX_OPTIONS_ENV)
        if not raw:
            return {}
        try:
            return protocol.check_storage_options(json.loads(raw))
        except ValueError as e:  # the value itself may hold a key: not shown
            raise ValueError(f"{protocol.BASE_INDEX_OPTIONS_ENV}: {e}") from None

    @validate("base_index_storage_options")
    def _check_base_storage_options(self, proposal: Any) -> dict[str, str]:
        return protocol.check_storage_options(proposal["value"])

    @validate("llm_api_bases")
    def _check_api_bases(self, proposal: Any) -> list[str]:
        for base in proposal["value"]:
            if not is_http_url(base):
                raise ValueError(f"llm_api_bases: not an http(s) URL: {base!r}")
        return proposal["value"]

    @validate("sidecar_backoff")
    def _check_backoff(self, proposal: Any) -> list[float]:
        if any(delay < 0 for delay in proposal["value"]):
            raise ValueError("sidecar_backoff delays must be >= 0")
        return proposal["value"]

    @default("default_url")
    def _default_url_default(self) -> str:
        return "/lab"

    # -- set-up --------------------------------------------------------------------------------
    @property
    def root_dir(self) -> Path:
        assert self.serverapp is not None  # jupyter_server sets it before loading us
        return Path(self.serverapp.root_dir).expanduser().resolve()

    @property
    def state_path(self) -> Path:
        path = Path(self.state_dir or ".jupyter-workspace").expanduser()
        return path if path.is_absolute() else self.root_dir / path

    def initialize_settings(self) -> None:
        assert self.serverapp is not None  # jupyter_server sets it before loading us
        self.limits = Limits(
            max_body_bytes=self.max_body_bytes, max_title_chars=self.max_title_chars
        )
        self.bus = EventBus()
        self.store = Store(self.state_path / DATABASE_NAME, synchronous=self.sqlite_synchronous)
        self.schema_version = self.store.open()
        self.backups = DatabaseBackups(
            self.state_path / DATABASE_NAME,
            self.state_path / BACKUP_DIR_NAME,
            self.backup_interval * 60,
            max(self.backup_keep, 1),
            log=self.log,
        )
        self.mcp = MCPService(self)
        self.notes = NotesManager(self.store, self.bus, self.limits)
        self.tasks = TasksManager(self.store, self.bus, self.limits, self.root_dir)
        self.rules = IgnoreRules(
            self.root_dir,
            self.state_path,
            allow_hidden=bool(getattr(self.serverapp.contents_manager, "allow_hidden", False)),
            secret_patterns=self.index_secret_patterns,
        )
        self.snapshots = SnapshotsManager(
            self.store,
            self.bus,
            self.root_dir,
            self.rules,
            max_bytes=self.snapshot_max_bytes,
            history=self.snapshot_history,
            store_bytes=self.snapshot_store_bytes,
        )
        self.watcher = FileWatcher(self.root_dir, self.rules, self.bus, self.watch_debounce)
        sidecar_env = {protocol.LLM_API_KEY_BASE_ENV: self.llm_api_base}
        if self.llm_api_key:
            sidecar_env[protocol.LLM_API_KEY_ENV] = self.llm_api_key
        patterns, self.config_errors = compile_patterns(self.entity_patterns)
        for error in self.config_errors:
            self.log.error("jupyter-workspace config: %s (WorkspaceApp.entity_patterns)", error)
        if self.index_enabled:
            sidecar_env.update(
                {
                    protocol.ENTITY_PATTERNS_ENV: json.dumps(
                        {kind: p.pattern for kind, p in patterns.items()}
                    ),
                    protocol.INDEX_URI_ENV: self.index_uri or str(self.state_path / "index"),
                    protocol.EMBEDDING_MODEL_ENV: self.embedding_model,
                    protocol.EMBEDDING_BACKEND_ENV: self.embedding_backend,
                    protocol.INLINE_EMBED_ENV: str(self.index_inline_embed),
                }
            )
            if self.model_cache_dir:
                sidecar_env[protocol.MODEL_CACHE_ENV] = self.model_cache_dir
            if self.base_index_uri:
                sidecar_env[protocol.BASE_INDEX_URI_ENV] = self.base_index_uri
                sidecar_env[protocol.BASE_INDEX_OPTIONS_ENV] = json.dumps(
                    self.base_index_storage_options
                )
                sidecar_env[protocol.INDEX_ROOT_ENV] = str(self.root_dir)
        self.supervisor = Supervisor(
            list(self.sidecar_command),
            self.bus.publish,
            env=sidecar_env,
            cwd=str(self.root_dir),
            backoff=tuple(self.sidecar_backoff),
            health_interval=self.sidecar_health_interval,
            start_timeout=self.sidecar_start_timeout,
            logger=self.log,
        )
        self.llm = LLMConfig(
            self.llm_model, self.llm_api_base, self.llm_timeout, tuple(self.llm_api_bases)
        )
        self.catalog = Catalog(self.store)
        index_size_limit = SizeLimit(self.index_max_file_bytes, self.index_max_source_bytes)
        self.search = SearchManager(
            self.supervisor,
            # until the index holds a file, search reads it (the indexer runs with the sidecar)
            PendingFiles(self.root_dir, self.rules, self.catalog, index_size_limit)
            if self.sidecar_enabled and self.index_enabled
            else None,
        )
        self.llm_probe = LLMProbe(lambda: self.assistant.config, self.bus.publish)
        self.assistant = Assistant(self.supervisor, self.llm, self.llm_probe.observe)
        self.chat = ChatManager(
            self.store,
            self.bus,
            self.assistant,
            self.limits,
            self.search if self.index_enabled else None,
        )
        self.lookup = LookupManager(self.store)
        self.extracted = Detections(self.store, self.bus, self.max_title_chars)
        self.pipelines = PipelineManager(
            self.root_dir,
            self.store,
            self.bus,
            self.extracted,
            self.assistant,
            terminals=self._terminal_manager,
            log=self.log,
        )
        self.research_env = ResearchEnv(
            root_dir=self.root_dir,
            rules=self.rules,
            store=self.store,
            search=self.search,
            supervisor=self.supervisor,
            assistant=self.assistant,
            notes=self.notes,
            llm_state=lambda: str(self.llm_probe.describe()["state"]),
            expansion=self.research_expansion,
        )
        self.research = ResearchManager(
            self.research_env,
            self.bus,
            concurrency=self.research_concurrency,
            standing_interval=self.research_standing_interval,
            debounce=self.research_debounce,
            max_queued=self.research_max_queued,
        )
        self.indexer = Indexer(
            self.root_dir,
            self.rules,
            self.catalog,
            self.bus,
            self.supervisor,
            index_size_limit,
            logger=self.log,
            notes=self.notes,
            extracted=self.extracted,
            rescan_interval=self.index_rescan_interval,
        )
        if self.search.pending is not None:
            self.search.pending.scanned = self.indexer.scanned
        self.log.info("jupyter-workspace %s: state in %s", __version__, self.state_path)

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers.default_handlers)

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        if self.sidecar_enabled:
            self.supervisor.start()
            self.llm_probe.start()
            if self.index_enabled:
                self.indexer.start()
                self.watcher.listen(self.indexer.files_settled)
        else:
            self.supervisor.error = "the AI sidecar is switched off (WorkspaceApp.sidecar_enabled)"
        self.backups.start()
        self.snapshots.start()
        await self.pipelines.start()
        await self.research.start()
        if self.watch_files:
            await self.watcher.start()

    def _terminal_manager(self) -> Any:
        """jupyter_server_terminals' manager, or None if this server has no terminals."""
        settings = self.serverapp.web_app.settings if self.serverapp else {}
        if not settings.get("terminals_available"):
            return None
        return settings.get("terminal_manager")

    async def stop_extension(self) -> None:
        await self.mcp.stop()
        await self.snapshots.stop()
        await self.research.stop()
        await self.pipelines.stop()
        await self.indexer.stop()
        await self.chat.stop()
        await self.llm_probe.stop()
        await self.supervisor.stop()
        await self.watcher.stop()
        await self.backups.stop()
        self.store.close()

    async def refine_entities(self, note_id: int) -> list[dict[str, Any]]:
        return await refine_note(await self.notes.get(note_id), self.assistant, self.extracted)

    # -- status --------------------------------------------------------------------------------
    async def index_status(self) -> dict[str, Any]:
        status = await self.indexer.status()
        if not (self.sidecar_enabled and self.index_enabled):
            status["state"] = "off"
        return status

    async def status(self) -> dict[str, Any]:
        journal_mode = await self.store.run(
            lambda conn: conn.execute("PRAGMA journal_mode").fetchone()[0]
        )
        return {
            "version": __version__,
            "root_dir": str(self.root_dir),
            "state_dir": str(self.state_path),
            "database": {
                "path": str(self.store.path),
                "schema_version": self.schema_version,
                "journal_mode": journal_mode,
            },
            "watcher": {"running": self.watcher.running, "error": self.watcher.error},
            "clients": self.bus.client_count,
            "sidecar": self.supervisor.describe(),
            "index": await self.index_status(),
            "llm": self.llm_probe.describe(),
            "backups": self.backups.describe(),
            "limits": {
                "max_body_bytes": self.limits.max_body_bytes,
                "max_title_chars": self.limits.max_title_chars,
                "snapshot_max_bytes": self.snapshot_max_bytes,
            },
        }


def main() -> None:
    """`jupyter workspace [PATH]`: JupyterLab on PATH with the workspace loaded (and without
    JupyterLab's news question on a first start: lab_defaults.py)."""
    use_lab_defaults()
    WorkspaceApp.launch_instance()


if __name__ == "__main__":
    main()
