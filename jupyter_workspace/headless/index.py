"""`jupyter workspace index PATH`: build a folder's index without a Jupyter server.

For CI or a big machine: the same files the server would index (its ignore rules, secret
patterns, size limits and binary detection: `ignore.IgnoreRules`, `catalog.scan` and
`catalog.read_text`), chunked, embedded and written by the sidecar's own `IndexService`, so
the result is the LanceDB index a server on PATH (default location) or pointed at it with
`WorkspaceApp.index_uri` opens as its own, with the same embedding backend and model. A
server started on PATH afterwards still sends each file to its sidecar once (its catalog is
new), but every chunk's vector is found in the index by its text: nothing is embedded again.

What it was built from goes next to the chunks (`sidecar/manifest.py`): the git commit if
PATH is in a git work tree, and each file's sha256. That is also how it resumes: files are
written in batches, each batch's manifest rows after its chunks, so a run that was killed
starts again where it stopped, and a run over an unchanged tree reads no file whose size and
mtime match (and embeds nothing). Files gone from the tree leave the index.

Remote embeddings: `--embedding-backend openai:<model> --api-base URL` (`embedder/openai_http`:
`--concurrency` requests of `--batch-size` texts in flight, bounded retries). The key comes
from JUPYTER_WORKSPACE_EMBEDDING_API_KEY only.

Progress goes to stderr (a bar on a terminal, a line every 10 s otherwise), the summary to
stdout (`--json`: one JSON object). Exit status 0 when the index is complete, 1 when indexing
failed (the endpoint is down, the index cannot be written: run again to resume), 2 for bad
arguments, 130 when interrupted.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from traitlets import Bool, Dict, Float, Int, Unicode
from traitlets.config import Application

from .. import __version__, protocol
from ..server.backups import running_server_pid
from ..server.catalog import Content, SizeLimit, read_text, resolve_inside, scan
from ..server.ignore import DEFAULT_SECRET_PATTERNS, IgnoreRules

STATE_DIR = ".jupyter-workspace"  # WorkspaceApp.state_dir's default
# what the server indexes (WorkspaceApp.index_max_file_bytes / index_max_source_bytes)
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_SOURCE_BYTES = 16 * 1024 * 1024
BATCH_FILES = 256  # files per write to the index (two table versions each)
BATCH_BYTES = 1024 * 1024  # ... or this much text, whichever comes first
VECTORS_TIMEOUT = 24 * 3600.0


class HeadlessError(RuntimeError):
    """Indexing cannot go on; the message says why (printed as it is)."""


class UsageError(HeadlessError):
    """Bad arguments (exit status 2)."""


# -- progress ----------------------------------------------------------------------------------
class Progress:
    """Files, chunks, chunks/s and an ETA on stderr: one redrawn line on a terminal, a plain
    line every `interval` s otherwise (logs of CI)."""

    def __init__(
        self, stream: IO[str], total_files: int, total_bytes: int, interval: float | None = None
    ) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.interval = interval if interval is not None else (0.2 if self.tty else 10.0)
        self.total_files = total_files
        self.total_bytes = max(total_bytes, 1)
        self.started = time.monotonic()
        self._shown = 0.0
        self._width = 0

    def update(
        self, files: int, nbytes: int, chunks: int, embedded: int, force: bool = False
    ) -> None:
        now = time.monotonic()
        if not force and now - self._shown < self.interval:
            return
        self._shown = now
        elapsed = max(now - self.started, 1e-6)
        rate = chunks / elapsed
        share = min(1.0, nbytes / self.total_bytes)
        eta = "--:--"
        if nbytes and share < 1.0:
            eta = _clock(elapsed * (1 - share) / share)
        elif share >= 1.0:
            eta = "0:00"
        text = (
            f"{files:,}/{self.total_files:,} files  {chunks:,} chunks  {embedded:,} embedded  "
            f"{rate:,.0f} chunks/s  ETA {eta}"
        )
        if self.tty:
            filled = int(share * 24)
            line = f"\r[{'#' * filled}{'.' * (24 - filled)}] {share:4.0%} {text}"
            pad = max(0, self._width - len(line))
            self._width = len(line)
            self.stream.write(line + " " * pad)
        else:
            self.stream.write(f"index: {share:4.0%} {text}\n")
        self.stream.flush()

    def note(self, message: str) -> None:
        if self.tty and self._width:
            self.stream.write("\n")
            self._width = 0
        self.stream.write(f"index: {message}\n")
        self.stream.flush()

    def done(self) -> None:
        if self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


# -- the run -----------------------------------------------------------------------------------
@dataclass
class Options:
    root: Path
    uri: str = ""  # default: <root>/.jupyter-workspace/index, where a server on root looks
    embedding_backend: str = "auto"
    embedding_model: str = "all-MiniLM-L6-v2"
    api_base: str = ""
    concurrency: int = 0  # 0: the backend's default (or its environment variable)
    batch_size: int = 0
    retries: int = -1
    # LanceDB's storage_options for an object-store --uri (endpoint, region, keys, allow_http)
    storage_options: dict[str, str] = field(default_factory=dict)
    model_cache_dir: str = ""
    max_file_bytes: int = MAX_FILE_BYTES
    max_source_bytes: int = MAX_SOURCE_BYTES
    secret_patterns: tuple[str, ...] = DEFAULT_SECRET_PATTERNS
    batch_files: int = BATCH_FILES
    batch_bytes: int = BATCH_BYTES
    progress_interval: float | None = None
    stream: IO[str] | None = None  # progress (default: stderr)


@dataclass
class Counts:
    seen: int = 0
    indexed: int = 0
    unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    removed: int = 0
    chunks: int = 0
    bytes_done: int = 0


def git_state(root: Path) -> dict[str, Any]:
    """The commit of the work tree `root` is in, whether it differs from it (tracked or
    untracked files under root, the workspace's state dir aside), and root's place in the
    repository; {} outside git."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(root), *args],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout if done.returncode == 0 else None

    head = git("rev-parse", "HEAD")
    if not head:
        return {}
    status = git("status", "--porcelain", "--", ".", f":(exclude){STATE_DIR}")
    prefix = (git("rev-parse", "--show-prefix") or "").strip()
    return {"commit": head.strip(), "dirty": bool(status and status.strip()), "git_prefix": prefix}


def _read(root: Path, rel: str, limit: SizeLimit, rules: IgnoreRules) -> tuple[Content, str]:
    """`catalog.read_text` (what the server would send), and the sha256 of the same bytes:
    read again and checked against read_text's own hash, so a file changed between the two
    reads is read once more."""
    content = read_text(root, rel, limit, rules)
    for _ in range(3):
        if content.text is None:
            return content, ""
        real = resolve_inside(root, rel, rules)
        if real is None:
            break
        try:
            data = real.read_bytes()
        except OSError:
            break
        if hashlib.blake2b(data, digest_size=16).hexdigest() == content.hash:
            return content, hashlib.sha256(data).hexdigest()
        content = read_text(root, rel, limit, rules)  # it changed under us: again
    return Content(rel, None, None, 0, 0.0, "cannot read: it keeps changing"), ""


def _skip_kind(reason: str) -> str:
    """A skip reason without its numbers, to count them by kind."""
    if reason.startswith("larger than"):
        return "too large"
    return reason.split(":")[0]


def run(options: Options) -> dict[str, Any]:
    """Index `options.root`; the summary. Raises HeadlessError (or UsageError)."""
    from ..sidecar.embedder import EmbedderError

    try:
        return _run(options)
    except EmbedderError as e:
        raise HeadlessError(f"embedding failed: {e}") from None


def _run(options: Options) -> dict[str, Any]:
    from ..sidecar import manifest as manifest_module
    from ..sidecar.embedder import openai_http
    from ..sidecar.index_service import IndexService

    started = time.monotonic()
    root = options.root.expanduser()
    if not root.is_dir():
        raise UsageError(f"not a folder: {options.root}")
    root = root.resolve()
    state_path = root / STATE_DIR
    uri = options.uri or str(state_path / "index")
    local_index: Path | None = None
    if "://" not in uri:
        local_index = Path(uri).expanduser().resolve()
        uri = str(local_index)
        if local_index.exists() and not local_index.is_dir():
            raise UsageError(f"--uri is a file, not a folder: {uri}")
        pid = running_server_pid(state_path)
        if pid is not None and local_index.is_relative_to(state_path):
            raise UsageError(
                f"a Jupyter server (pid {pid}) is using {state_path}: stop it first, or "
                "write the index elsewhere with --uri"
            )
    rules = IgnoreRules(
        root, state_path, allow_hidden=False, secret_patterns=options.secret_patterns
    )
    limit = SizeLimit(options.max_file_bytes, options.max_source_bytes)
    observed = scan(root, rules, limit)
    if local_index is not None and local_index.is_relative_to(root):
        inside = local_index.relative_to(root).as_posix() + "/"
        observed = {p: o for p, o in observed.items() if not p.startswith(inside)}

    # the remote backend reads its settings from the environment, as it does in the sidecar
    if options.api_base:
        os.environ[openai_http.API_BASE_ENV] = options.api_base
    if options.concurrency:
        os.environ[openai_http.CONCURRENCY_ENV] = str(options.concurrency)
    if options.batch_size:
        os.environ[openai_http.BATCH_SIZE_ENV] = str(options.batch_size)
    if options.retries >= 0:
        os.environ[openai_http.RETRIES_ENV] = str(options.retries)

    try:
        storage_options = protocol.check_storage_options(options.storage_options)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if storage_options and local_index is not None:
        raise UsageError("--storage-option is for an object-store --uri (s3://, gs://, az://)")
    for name, value in storage_options.items():
        # the chunk table's writer reads them from the environment, as LanceDB does
        os.environ[name.upper()] = value

    stream = options.stream or sys.stderr
    git = git_state(root)  # before the index is written (under root, by default)
    service = IndexService(
        uri,
        options.embedding_model,
        options.embedding_backend,
        Path(options.model_cache_dir).expanduser() if options.model_cache_dir else None,
    )
    service.inline_embed = 1 << 30  # every batch embedded before it is written: resumable
    loaded = service.load()
    try:
        summary = _index(
            options,
            git,
            service,
            loaded,
            manifest_module,
            root,
            uri,
            rules,
            limit,
            observed,
            stream,
            started,
            storage_options,
        )
    finally:
        service.close()
        closer = getattr(service.embedder, "close", None)
        if closer is not None:
            closer()
    return summary


def _index(
    options: Options,
    git: dict[str, Any],
    service: Any,
    loaded: dict[str, Any],
    manifest_module: Any,
    root: Path,
    uri: str,
    rules: IgnoreRules,
    limit: SizeLimit,
    observed: dict[str, Any],
    stream: IO[str],
    started: float,
    storage_options: dict[str, str],
) -> dict[str, Any]:
    embedder = service.embedder
    model_id, dim = embedder.model_id, embedder.dim
    manifest = manifest_module.Manifest(uri, storage_options or None)
    previous = manifest.previous_info()
    entries = manifest.entries()
    if entries and (
        loaded.get("rebuilt")
        or previous.get("model_id") not in (None, model_id)
        or previous.get("dim") not in (None, dim)
    ):
        manifest.clear()  # the chunks they describe are gone (another model's index)
        entries = {}
    in_index = set(service.stats(paths=True)["paths"])
    manifest.start(
        {
            **git,
            "commit": git.get("commit"),
            "model_id": model_id,
            "dim": dim,
            "root": str(root),
            "version": __version__,
            "index_id": loaded.get("index_id"),
        }
    )

    counts = Counts(seen=len(observed))
    # gone from the tree: out of the index and the manifest (the server's notes stay)
    gone = sorted(
        p
        for p in (in_index | set(entries)) - set(observed)
        if not p.startswith(protocol.NOTES_PREFIX)
    )
    if gone:
        service.delete([p for p in gone if p in in_index])
        manifest.drop([p for p in gone if p in entries])
        counts.removed = len(gone)

    total_bytes = sum(o.size or 0 for o in observed.values())
    progress = Progress(stream, len(observed), total_bytes, options.progress_interval)
    embedded_before = service.embed_calls
    index_seconds = 0.0
    batch: list[dict[str, Any]] = []
    batch_rows: dict[str, dict[str, Any]] = {}
    batch_bytes = 0
    done_files = 0
    quiet: list[dict[str, Any]] = []  # manifest rows to refresh (skips, new mtimes)

    def flush() -> None:
        nonlocal batch, batch_rows, batch_bytes, index_seconds
        if batch:
            began = time.monotonic()
            answer = service.index_files(batch)
            index_seconds += time.monotonic() - began
            for result in answer["files"]:
                row = batch_rows[result["path"]]
                if result.get("error"):
                    counts.errors[result["path"]] = result["error"]
                    row["skip"] = f"error: {result['error']}"
                else:
                    counts.indexed += 1
                    counts.chunks += int(result.get("chunks") or 0)
                row["chunks"] = int(result.get("chunks") or 0)
                row["language"] = result.get("language") or ""
            manifest.put(batch_rows.values())  # after the chunks: what it lists is there
        if quiet:
            manifest.put(quiet)
            quiet.clear()
        batch, batch_rows, batch_bytes = [], {}, 0

    def show(force: bool = False) -> None:
        progress.update(
            done_files,
            counts.bytes_done,
            counts.chunks,
            service.embed_calls - embedded_before,
            force,
        )

    show(force=True)
    for rel in sorted(observed):
        seen = observed[rel]
        entry = entries.get(rel)
        done_files += 1
        counts.bytes_done += seen.size or 0
        if seen.skip:
            counts.skipped[_skip_kind(seen.skip)] = counts.skipped.get(_skip_kind(seen.skip), 0) + 1
            if rel in in_index:
                service.delete([rel])
            if entry is None or entry["skip"] != seen.skip or entry["size"] != seen.size:
                quiet.append(
                    {"path": rel, "size": seen.size, "mtime": seen.mtime, "skip": seen.skip}
                )
            continue
        same_stat = (
            entry is not None and entry["size"] == seen.size and entry["mtime"] == seen.mtime
        )
        if same_stat and entry is not None:
            if entry["skip"] and not entry["skip"].startswith("error"):
                kind = _skip_kind(entry["skip"])
                counts.skipped[kind] = counts.skipped.get(kind, 0) + 1
                continue
            if not entry["skip"] and (rel in in_index or not entry["chunks"]):
                counts.unchanged += 1
                show()
                continue
        content, sha = _read(root, rel, limit, rules)
        if content.text is None:
            reason = content.skip or "cannot read"
            counts.skipped[_skip_kind(reason)] = counts.skipped.get(_skip_kind(reason), 0) + 1
            if rel in in_index:
                service.delete([rel])
            quiet.append(
                {
                    "path": rel,
                    "size": content.size,
                    "mtime": content.mtime,
                    "blake2b": content.hash,
                    "skip": reason,
                }
            )
            continue
        row = {
            "path": rel,
            "sha256": sha,
            "blake2b": content.hash,
            "size": content.size,
            "mtime": content.mtime,
            "chunks": 0,
            "language": "",
            "skip": "",
        }
        if (
            entry is not None
            and not entry["skip"]
            and entry["sha256"] == sha
            and (rel in in_index or not entry["chunks"])
        ):
            counts.unchanged += 1  # touched, not changed: only its size/mtime are new
            quiet.append({**row, "chunks": entry["chunks"], "language": entry["language"]})
            show()
            continue
        batch.append({"path": rel, "text": content.text})
        batch_rows[rel] = row
        batch_bytes += len(content.text)
        if len(batch) >= options.batch_files or batch_bytes >= options.batch_bytes:
            flush()
            show()
    flush()
    show(force=True)
    if service.stats()["vectors_pending"]:  # rows an interrupted run wrote before their vectors
        progress.note(
            f"embedding {service.stats()['vectors_pending']:,} chunks left by an earlier run"
        )
        if not service.wait_vectors(VECTORS_TIMEOUT):
            raise HeadlessError("the vectors of an earlier run's chunks did not fill in")
        if service.embed_error:
            raise HeadlessError(f"embedding failed: {service.embed_error}")
    service.optimize()
    stats = service.stats()
    elapsed = time.monotonic() - started
    embedded = service.embed_calls - embedded_before
    summary: dict[str, Any] = {
        "root": str(root),
        "uri": uri,
        "commit": git.get("commit"),
        "dirty": git.get("dirty", False),
        "model_id": model_id,
        "dim": dim,
        "files_seen": counts.seen,
        "files_indexed": counts.indexed,
        "files_unchanged": counts.unchanged,
        "files_skipped": sum(counts.skipped.values()),
        "skipped": dict(sorted(counts.skipped.items())),
        "files_error": len(counts.errors),
        "errors": counts.errors,
        "files_removed": counts.removed,
        "chunks_written": counts.chunks,
        "chunks_embedded": embedded,
        "chunks_in_index": stats["chunks"],
        "load_seconds": round(float(loaded.get("seconds") or 0.0), 3),
        "index_seconds": round(index_seconds, 3),
        "seconds": round(elapsed, 3),
        "chunks_per_s": round(counts.chunks / index_seconds, 1) if index_seconds else 0.0,
    }
    counters = getattr(embedder, "counters", None)
    if counters is not None:
        summary["requests"] = counters()
    manifest.finish(
        {
            key: summary[key]
            for key in (
                "files_seen",
                "files_indexed",
                "files_unchanged",
                "files_skipped",
                "files_error",
                "chunks_in_index",
            )
        }
    )
    manifest.compact()
    progress.done()
    return summary


def describe(summary: dict[str, Any]) -> str:
    """The summary for a person."""
    commit = summary["commit"]
    source = f"{summary['root']}" + (
        f" (git {commit[:12]}{', with uncommitted changes' if summary['dirty'] else ''})"
        if commit
        else ""
    )
    skipped = ", ".join(f"{n} {kind}" for kind, n in summary["skipped"].items())
    lines = [
        f"indexed {source}",
        f"  into {summary['uri']} ({summary['model_id']}, {summary['dim']}-d)",
        f"  files: {summary['files_seen']:,} seen, {summary['files_indexed']:,} indexed, "
        f"{summary['files_unchanged']:,} unchanged, {summary['files_skipped']:,} skipped"
        + (f" ({skipped})" if skipped else "")
        + f", {summary['files_error']:,} failed, {summary['files_removed']:,} removed",
        f"  chunks: {summary['chunks_written']:,} written, {summary['chunks_embedded']:,} "
        f"embedded in {summary['index_seconds']:.1f} s ({summary['chunks_per_s']:,.0f} chunks/s); "
        f"{summary['chunks_in_index']:,} in the index",
    ]
    if "requests" in summary:
        r = summary["requests"]
        lines.append(
            f"  embedding requests: {r['requests']:,} ({r['retries']:,} retried), "
            f"up to {r['max_in_flight']} at once"
        )
    lines.append(
        f"  {summary['seconds']:.1f} s in all, {summary['load_seconds']:.1f} s of it loading "
        "the model"
    )
    for path, error in list(summary["errors"].items())[:20]:
        lines.append(f"  failed: {path}: {error}")
    return "\n".join(lines)


# -- the command -------------------------------------------------------------------------------
class IndexApp(Application):
    """`jupyter workspace index PATH [--uri URI] [--embedding-backend B] ...`."""

    name = "jupyter-workspace-index"
    description = """Index PATH without a Jupyter server (for CI or a big machine): the files a
    server on PATH would index, chunked and embedded into the same LanceDB index (default:
    PATH/.jupyter-workspace/index, where that server looks). Resumable: run it again after an
    interruption, or after the tree changed, and only new or changed files are embedded. Records
    the git commit and each file's sha256 next to the index."""
    examples = """
    jupyter workspace index ~/src/flight-software
    jupyter workspace index . --uri /shared/indexes/fsw --embedding-backend openai:bge-small \\
        --api-base http://tei.internal:8080/v1 --concurrency 8 --batch-size 32
    """

    uri = Unicode(
        "", config=True, help="Where to write the index (default: PATH/.jupyter-workspace/index)."
    )
    embedding_backend = Unicode(
        "auto",
        config=True,
        help="""auto, onnx-int8, onnx-fp32, torch, litellm:<model>, or openai:<model> (an
        OpenAI-compatible /embeddings endpoint at --api-base). The server that opens the index
        must use the same backend and model, or it rebuilds it.""",
    )
    embedding_model = Unicode(
        "all-MiniLM-L6-v2", config=True, help="The local embedding model (local backends)."
    )
    api_base = Unicode(
        "",
        config=True,
        help="""Base URL of the embedding endpoint, e.g. http://tei:8080/v1 (default:
        $JUPYTER_WORKSPACE_EMBEDDING_API_BASE). Key: $JUPYTER_WORKSPACE_EMBEDDING_API_KEY.""",
    )
    concurrency = Int(
        0, config=True, help="Embedding requests in flight at once (openai:; default 4)."
    )
    batch_size = Int(0, config=True, help="Texts per embedding request (openai:; default 32).")
    retries = Int(
        -1, config=True, help="Retries of a failed embedding request (openai:; default 5)."
    )
    model_cache_dir = Unicode("", config=True, help="Where converted local models are cached.")
    storage_options = Dict(
        {},
        config=True,
        help="""LanceDB storage options for an object-store --uri, one NAME=VALUE each, e.g.
        --storage-option aws_endpoint=http://minio:9000 --storage-option allow_http=true
        --storage-option aws_region=us-east-1. Keys are better left to the environment LanceDB
        reads (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ...): a command line is visible to
        other users of the machine.""",
    )
    max_file_bytes = Int(MAX_FILE_BYTES, config=True, help="As WorkspaceApp.index_max_file_bytes.")
    max_source_bytes = Int(
        MAX_SOURCE_BYTES, config=True, help="As WorkspaceApp.index_max_source_bytes."
    )
    batch_files = Int(BATCH_FILES, config=True, help="Files per write to the index (at most).")
    progress_interval = Float(
        -1.0,
        config=True,
        help="Seconds between progress lines (default: 0.2 on a terminal, else 10).",
    )
    json_summary = Bool(False, config=True, help="Print the summary as one JSON object.")

    aliases = {
        "uri": "IndexApp.uri",
        "embedding-backend": "IndexApp.embedding_backend",
        "embedding-model": "IndexApp.embedding_model",
        "api-base": "IndexApp.api_base",
        "concurrency": "IndexApp.concurrency",
        "batch-size": "IndexApp.batch_size",
        "retries": "IndexApp.retries",
        "storage-option": "IndexApp.storage_options",
        "model-cache-dir": "IndexApp.model_cache_dir",
        "max-file-bytes": "IndexApp.max_file_bytes",
        "max-source-bytes": "IndexApp.max_source_bytes",
        "batch-files": "IndexApp.batch_files",
        "progress-interval": "IndexApp.progress_interval",
    }
    flags = {"json": ({"IndexApp": {"json_summary": True}}, "Print the summary as JSON.")}

    def start(self) -> None:
        if len(self.extra_args) != 1:
            self._fail("give one folder to index: jupyter workspace index PATH", 2)
        for name in ("concurrency", "batch_size", "batch_files"):
            if getattr(self, name) < 0 or (name == "batch_files" and self.batch_files < 1):
                self._fail(f"--{name.replace('_', '-')} must be at least 1", 2)
        options = Options(
            root=Path(self.extra_args[0]),
            uri=self.uri,
            embedding_backend=self.embedding_backend,
            embedding_model=self.embedding_model,
            api_base=self.api_base,
            concurrency=self.concurrency,
            batch_size=self.batch_size,
            retries=self.retries,
            storage_options=dict(self.storage_options),
            model_cache_dir=self.model_cache_dir,
            max_file_bytes=self.max_file_bytes,
            max_source_bytes=self.max_source_bytes,
            batch_files=self.batch_files,
            progress_interval=self.progress_interval if self.progress_interval >= 0 else None,
        )
        try:
            summary = run(options)
        except UsageError as e:
            self._fail(str(e), 2)
        except HeadlessError as e:
            self._fail(f"{e}\nwhat was written is kept: run the command again to resume", 1)
        except KeyboardInterrupt:
            self._fail("interrupted: run the command again to resume", 130)
        print(json.dumps(summary) if self.json_summary else describe(summary), flush=True)

    def _fail(self, message: str, status: int) -> None:
        print(f"jupyter workspace index: {message}", file=sys.stderr, flush=True)
        self.exit(status)


def main(argv: list[str] | None = None) -> None:
    """`python -m jupyter_workspace.headless.index PATH ...`."""
    IndexApp.launch_instance(argv)


if __name__ == "__main__":
    main()
