"""`jupyter workspace index PATH`: the headless indexer and the `openai:<model>` backend.

The remote endpoint is a small OpenAI-compatible embeddings server on 127.0.0.1
(tests/fake_embeddings.py): deterministic vectors (a hashed bag of words, 384-d, normalised),
failures and delays on demand, and a count of the requests in flight at once. The command
runs as a real subprocess (`python -m jupyter_workspace.server.app index ...`, what
`jupyter workspace index` runs), and what it wrote is opened by the sidecar's own
IndexService and by a real server's sidecar.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jupyter_workspace.sidecar.embedder import EmbedderError, load_embedder, openai_http
from jupyter_workspace.sidecar.manifest import file_sha256, read_manifest

from .fake_embeddings import DIM, FakeEmbeddings, bag_of_words

FIXTURES = Path(__file__).parent / "fixtures" / "code"
REPO = Path(__file__).resolve().parent.parent
KEY = "sk-embed-secret-4242"


@pytest.fixture
def fake() -> Iterator[FakeEmbeddings]:
    server = FakeEmbeddings()
    yield server
    server.stop()


@pytest.fixture
def remote_env(fake, monkeypatch):
    """The environment the sidecar would get for `openai:fake-embed` (the test's process)."""
    monkeypatch.setenv(openai_http.API_BASE_ENV, fake.url)
    monkeypatch.setenv(openai_http.API_KEY_ENV, KEY)
    return fake


# -- the tree ----------------------------------------------------------------------------------
VISIBLE = {
    "attitude.py",
    "design.md",
    "ground.js",
    "kalman.cpp",
    "orbit.f90",
    "pid.c",
    "telemetry.ts",
    "src/guidance.c",
    "docs/notes.txt",
}


def make_tree(root: Path, extra_files: int = 0) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for f in FIXTURES.iterdir():
        shutil.copy(f, root / f.name)
    (root / "src").mkdir()
    (root / "src" / "guidance.c").write_text(
        "/* Guidance law */\nfloat proportional_navigation(float los_rate, float closing)\n"
        "{\n    return 3.0f * closing * los_rate;\n}\n"
    )
    (root / "docs").mkdir()
    (root / "docs" / "notes.txt").write_text("Launch checklist: arm the pyro valves last.\n")
    # what the server never indexes: hidden, secrets, ignored, binary, its own state
    (root / ".hidden.py").write_text("def hidden_function():\n    return 'HIDDEN_MARKER'\n")
    (root / ".env").write_text("API_TOKEN=ENV_MARKER\n")
    (root / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nKEY_MARKER\n")
    (root / "server.pem").write_text("PEM_MARKER\n")
    (root / ".config").mkdir()
    (root / ".config" / "tool.py").write_text("CONFIG_MARKER = 1\n")
    (root / "node_modules").mkdir()
    (root / "node_modules" / "dep.js").write_text("function NODE_MARKER() {}\n")
    (root / ".gitignore").write_text("build/\n*.log\n")
    (root / "build").mkdir()
    (root / "build" / "gen.c").write_text("int BUILD_MARKER;\n")
    (root / "run.log").write_text("LOG_MARKER\n")
    (root / "blob.bin").write_bytes(b"\x00\x01BINARY_MARKER" * 100)
    for i in range(extra_files):
        (root / "gen").mkdir(exist_ok=True)
        (root / "gen" / f"mod_{i:03d}.py").write_text(
            "\n\n".join(
                f"def routine_{i}_{j}(value):\n    '''Step {j} of module {i}.'''\n"
                f"    return value * {j} + {i}\n"
                for j in range(6)
            )
        )
    return root


def git_commit(root: Path) -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
        ).stdout.strip()

    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "tree")
    return git("rev-parse", "HEAD")


def index_command(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "jupyter_workspace.server.app", "index", str(root), *args]


def run_index(
    root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        index_command(root, *args),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=root.parent,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )


def remote_args(fake: FakeEmbeddings, *more: str) -> list[str]:
    return [
        "--embedding-backend",
        "openai:fake-embed",
        "--api-base",
        fake.url,
        "--json",
        *more,
    ]


def summary_of(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def open_service(uri: str, backend: str = "openai:fake-embed") -> Any:
    from jupyter_workspace.sidecar.index_service import IndexService

    service = IndexService(uri, "all-MiniLM-L6-v2", backend, None)
    info = service.load()
    return service, info


# -- the command with a remote endpoint --------------------------------------------------------
def test_indexes_a_tree_with_the_remote_backend_and_the_sidecar_opens_it(tmp_path, remote_env):
    fake = remote_env
    fake.delay = 0.03  # so that requests overlap
    root = make_tree(tmp_path / "tree")
    commit = git_commit(root)
    done = run_index(root, *remote_args(fake, "--concurrency", "4", "--batch-size", "4"))
    summary = summary_of(done)
    uri = str(root / ".jupyter-workspace" / "index")
    assert summary["uri"] == uri and summary["commit"] == commit and not summary["dirty"]
    assert summary["model_id"] == "openai:fake-embed" and summary["dim"] == DIM
    assert summary["files_indexed"] == len(VISIBLE) and summary["files_error"] == 0
    assert summary["skipped"] == {"binary file": 1}  # blob.bin; the rest never even listed
    assert summary["chunks_written"] == summary["chunks_in_index"] >= 25
    assert summary["chunks_embedded"] == summary["chunks_written"]
    # several batches really in flight at once
    assert summary["requests"]["max_in_flight"] > 1 and fake.max_in_flight > 1
    assert fake.authorization == {f"Bearer {KEY}"}
    # the progress went to stderr (plain lines: not a terminal), the key nowhere
    assert "files" in done.stderr and "chunks/s" in done.stderr and "ETA" in done.stderr
    assert KEY not in done.stderr + done.stdout

    manifest = read_manifest(uri)
    assert manifest["commit"] == commit and manifest["complete"] is True
    assert manifest["model_id"] == "openai:fake-embed" and manifest["dim"] == DIM
    assert set(manifest["files"]) == VISIBLE
    for path, sha in manifest["files"].items():
        assert (
            sha
            == file_sha256(root / path)
            == hashlib.sha256((root / path).read_bytes()).hexdigest()
        )
    assert manifest["entries"]["blob.bin"]["skip"] == "binary file"
    assert sum(e["chunks"] for e in manifest["entries"].values()) == summary["chunks_in_index"]

    # the sidecar's own index service opens it as its index: same model, nothing rebuilt
    service, info = open_service(uri)
    try:
        assert info["rebuilt"] is False
        stats = service.stats(paths=True)
        assert set(stats["paths"]) == VISIBLE and stats["chunks"] == summary["chunks_in_index"]
        assert stats["vectors_pending"] == 0
        text = service.search({"q": "proportional_navigation", "mode": "text", "k": 5})
        assert text["results"][0]["path"] == "src/guidance.c"
        hybrid = service.search({"q": "proportional navigation guidance law", "k": 5})
        assert hybrid["results"][0]["path"] == "src/guidance.c"
        for marker in (
            "HIDDEN_MARKER",
            "ENV_MARKER",
            "KEY_MARKER",
            "PEM_MARKER",
            "CONFIG_MARKER",
            "NODE_MARKER",
            "BUILD_MARKER",
            "LOG_MARKER",
        ):
            assert not service.search({"q": marker, "mode": "text"})["results"], marker
        # a server sending the files again (its catalog is new) embeds nothing
        before = fake.texts
        again = service.index_files(
            [{"path": p, "text": (root / p).read_text()} for p in sorted(VISIBLE)]
        )
        assert again["embedded"] == 0 and fake.texts == before
    finally:
        service.close()


def test_retries_survive_injected_429_500_and_dropped_connections(tmp_path, remote_env):
    fake = remote_env
    root = make_tree(tmp_path / "tree")
    # the first answers after the dimension probe fail: each request is retried in turn
    fake.failures = [None, 500, 429, "drop", 503, 502, 500]
    done = run_index(root, *remote_args(fake, "--concurrency", "2", "--batch-size", "8"))
    summary = summary_of(done)
    assert summary["files_indexed"] == len(VISIBLE) and summary["files_error"] == 0
    assert summary["requests"]["retries"] >= 6
    assert not fake.failures


def test_gives_up_after_bounded_retries_with_a_clear_message(tmp_path, remote_env):
    fake = remote_env
    root = make_tree(tmp_path / "tree")
    fake.failures = [None] + [500] * 20
    started = time.monotonic()
    done = run_index(root, *remote_args(fake, "--retries", "2"))
    assert done.returncode == 1, done.stderr
    assert "embedding request failed 3 times" in done.stderr and "answered 500" in done.stderr
    assert "run the command again to resume" in done.stderr
    assert KEY not in done.stderr and "[redacted]" in done.stderr  # the echoed key is masked
    assert time.monotonic() - started < 60


def test_resumes_after_kill_9_and_an_unchanged_rerun_embeds_nothing(tmp_path, remote_env):
    fake = remote_env
    fake.delay = 0.15
    root = make_tree(tmp_path / "tree", extra_files=30)
    files = len(VISIBLE) + 30
    args = remote_args(fake, "--concurrency", "1", "--batch-size", "64", "--batch-files", "3")
    process = subprocess.Popen(
        index_command(root, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    uri = str(root / ".jupyter-workspace" / "index")
    try:
        deadline = time.monotonic() + 120
        while len(read_manifest(uri)["files"]) < 9:  # a few batches in
            assert process.poll() is None, process.communicate()[1][-2000:]
            assert time.monotonic() < deadline
            time.sleep(0.1)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(30)
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]
    partial = read_manifest(uri)
    assert partial["complete"] is False and 9 <= len(partial["files"]) < files
    first_texts = fake.texts

    fake.delay = 0.0
    second = summary_of(run_index(root, *args))
    assert second["files_unchanged"] >= len(partial["files"])
    assert second["files_indexed"] + second["files_unchanged"] == files
    assert second["chunks_embedded"] < second["chunks_in_index"]  # the first run's kept
    assert first_texts + second["chunks_embedded"] >= second["chunks_in_index"]

    # the same tree again: nothing read for hashing, nothing embedded
    requests = fake.requests
    third = summary_of(run_index(root, *args))
    assert third["files_unchanged"] == files and third["files_indexed"] == 0
    assert third["chunks_embedded"] == 0 and third["chunks_in_index"] == second["chunks_in_index"]
    assert fake.requests == requests + 1  # the dimension probe only
    assert read_manifest(uri)["complete"] is True

    # touched (same bytes), changed, deleted: only the changed file is embedded
    os.utime(root / "pid.c", (time.time() + 10, time.time() + 10))
    (root / "docs" / "notes.txt").write_text("Launch checklist: vent the tanks first.\n")
    (root / "gen" / "mod_000.py").unlink()
    fourth = summary_of(run_index(root, *args))
    assert fourth["files_indexed"] == 1 and fourth["files_removed"] == 1
    assert 0 < fourth["chunks_embedded"] <= 2
    manifest = read_manifest(uri)
    assert "gen/mod_000.py" not in manifest["files"]
    assert manifest["files"]["docs/notes.txt"] == file_sha256(root / "docs" / "notes.txt")
    assert manifest["entries"]["pid.c"]["mtime"] == (root / "pid.c").stat().st_mtime

    service, info = open_service(uri)
    try:
        assert info["rebuilt"] is False
        assert "gen/mod_000.py" not in service.stats(paths=True)["paths"]
        hits = service.search({"q": "vent the tanks", "mode": "text"})["results"]
        assert hits[0]["path"] == "docs/notes.txt"
    finally:
        service.close()


# -- bad input ---------------------------------------------------------------------------------
def test_bad_input_exits_non_zero_with_a_message(tmp_path, remote_env, monkeypatch):
    fake = remote_env
    missing = run_index(tmp_path / "nope", *remote_args(fake))
    assert missing.returncode == 2 and "not a folder" in missing.stderr

    root = make_tree(tmp_path / "tree")
    closed = FakeEmbeddings()
    url = closed.url
    closed.stop()  # nothing listens there now
    down = run_index(root, "--embedding-backend", "openai:x", "--api-base", url, "--retries", "1")
    assert down.returncode == 1 and "cannot reach" in down.stderr, down.stderr

    no_base = run_index(root, "--embedding-backend", "openai:x", env={openai_http.API_BASE_ENV: ""})
    assert no_base.returncode == 1 and openai_http.API_BASE_ENV in no_base.stderr

    fake.failures = ["malformed"]
    malformed = run_index(root, *remote_args(fake))
    assert malformed.returncode == 1 and "without a `data` list" in malformed.stderr

    bad_flag = run_index(root, *remote_args(fake, "--batch-files", "0"))
    assert bad_flag.returncode == 2 and "--batch-files" in bad_flag.stderr

    no_path = subprocess.run(
        [sys.executable, "-m", "jupyter_workspace.server.app", "index"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=60,
    )
    assert no_path.returncode == 2 and "give one folder" in no_path.stderr


# -- the backend on its own --------------------------------------------------------------------
def test_openai_backend_orders_normalises_and_checks_answers(remote_env):
    fake = remote_env
    embedder = load_embedder(backend="openai:fake-embed")
    assert embedder.model_id == "openai:fake-embed" and embedder.dim == DIM
    texts = [f"text number {i} about valves" for i in range(10)]
    vectors = embedder.embed(texts, batch_size=3)
    assert vectors.shape == (10, DIM) and vectors.dtype == np.float32
    expected = np.asarray([bag_of_words(t) for t in texts], dtype=np.float32)
    np.testing.assert_allclose(vectors, expected, atol=1e-6)  # in order despite reversed answers
    assert fake.requests == 1 + 4

    fake.dim = 128  # another model behind the same name
    with pytest.raises(EmbedderError, match="changed dimension"):
        embedder.embed(["one more"])
    fake.dim = DIM
    fake.failures = [400]
    with pytest.raises(EmbedderError, match="answered 400") as error:
        embedder.embed(["a bad request is not retried"])
    assert KEY not in str(error.value)
    embedder.close()


def test_defaults_match_the_server(tmp_path):
    """The indexer reads the files the server would: same limits, same secret patterns."""
    from jupyter_workspace.headless import index as headless_index
    from jupyter_workspace.server.app import WorkspaceApp

    traits = WorkspaceApp.class_traits()
    assert traits["index_max_file_bytes"].default_value == headless_index.MAX_FILE_BYTES
    assert traits["index_max_source_bytes"].default_value == headless_index.MAX_SOURCE_BYTES
    assert headless_index.STATE_DIR == ".jupyter-workspace"
    assert list(headless_index.Options(tmp_path).secret_patterns) == list(
        traits["index_secret_patterns"].make_dynamic_default()
    )
    assert "index" in WorkspaceApp.subcommands


# -- the local model ---------------------------------------------------------------------------
def test_local_model_on_a_few_files(tmp_path):
    root = tmp_path / "tree"
    root.mkdir()
    for name in ("attitude.py", "orbit.f90", "pid.c"):
        shutil.copy(FIXTURES / name, root / name)
    summary = summary_of(run_index(root, "--json", timeout=280))
    assert summary["files_indexed"] == 3 and summary["commit"] is None
    assert summary["chunks_embedded"] == summary["chunks_in_index"] > 5
    assert not summary["model_id"].startswith("openai:")
    service, info = open_service(summary["uri"], backend="auto")
    try:
        assert info["rebuilt"] is False and info["model_id"] == summary["model_id"]
        hits = service.search({"q": "length of a quaternion vector", "mode": "vector"})
        assert hits["results"][0]["symbol"] == "quaternion_norm"
    finally:
        service.close()


# -- a real server on the tree the command indexed ---------------------------------------------
@pytest.fixture
def headless_first(jp_root_dir, remote_env):
    """The tree in the server's root, indexed by the command before the server starts."""
    root = make_tree(jp_root_dir / "tree")
    summary = summary_of(run_index(root, *remote_args(remote_env)))
    return root, summary, remote_env.texts


@pytest.fixture
def jp_server_config(jp_server_config, jp_root_dir, headless_first):
    from .chat_helpers import FAKE_KEY

    config = dict(jp_server_config)
    config["ServerApp"] = {**config["ServerApp"], "root_dir": str(jp_root_dir / "tree")}
    config["WorkspaceApp"] = {
        **config["WorkspaceApp"],
        "sidecar_enabled": True,
        "index_enabled": True,
        "embedding_backend": "openai:fake-embed",
        "llm_model": "openai/none",
        "llm_api_key": FAKE_KEY,
    }
    return config


async def test_a_server_on_the_tree_uses_the_index_and_embeds_nothing_again(
    headless_first, remote_env, jp_serverapp, api
):
    from .chat_helpers import sidecar_ready
    from .waiting import until

    root, summary, texts_after_command = headless_first
    await jp_serverapp._post_start()
    await sidecar_ready(api)

    async def idle():
        _, status = await api("GET", "index")
        done = status["state"] == "idle" and status["files_indexed"] == len(VISIBLE)
        return status if done else None

    # the index answers by words before the embedding backend has loaded: wait for its probe
    await until(lambda: remote_env.texts > texts_after_command, timeout=120, interval=0.2)
    status = await until(idle, timeout=120, interval=0.2)
    assert status["chunks"] == summary["chunks_in_index"] and status["files_error"] == 0
    # every file was sent to the sidecar again (a new catalog), and not one chunk embedded:
    # the only text since the command is the sidecar's dimension probe
    assert remote_env.texts - texts_after_command == 1
    code, answer = await api("GET", "search", params={"q": "proportional_navigation"})
    assert code == 200 and answer["results"][0]["path"] == "src/guidance.c"
    assert "words_only" not in answer and remote_env.texts - texts_after_command == 2  # the query
    # the sidecar loaded the same index (not rebuilt) and took every vector from it
    _, status = await api("GET", "status")
    assert status["sidecar"]["state"] == "ready"
    manifest = read_manifest(summary["uri"])
    assert set(manifest["files"]) == VISIBLE
