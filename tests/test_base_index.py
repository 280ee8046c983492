"""A team's base index on object storage, under each user's local overlay (issue 19).

Against a real S3 API on loopback: moto's server (`ThreadedMotoServer`, started here on
127.0.0.1, its bucket made with boto3), the headless indexer writing the base to
``s3://…`` with the OpenAI-compatible fake embeddings server (tests/fake_embeddings.py), then
the sidecar's `IndexService` opening it read-only with an overlay on a user's working copy
where one file changed, one was added and one deleted.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("moto.server")

from moto.server import ThreadedMotoServer

from jupyter_workspace.sidecar import overlay
from jupyter_workspace.sidecar.embedder import openai_http
from jupyter_workspace.sidecar.index_service import IndexService
from jupyter_workspace.sidecar.manifest import read_manifest
from jupyter_workspace.sidecar.overlay import (
    STATE_FILE,
    BaseIndexError,
    BaseSource,
    describe_uri,
)

from .fake_embeddings import FakeEmbeddings
from .test_headless_index import (
    KEY,
    VISIBLE,
    git_commit,
    make_tree,
    remote_args,
    run_index,
    summary_of,
)

PROBE = "dimension probe"  # what the openai: backend embeds at load to learn the dimension
BUCKET = "team-index"
ACCESS_KEY, SECRET_KEY = "AKIDTEAMINDEX", "s3-secret-7f7f"
NEW_GUIDANCE = (
    "/* Guidance law, augmented */\n"
    "float augmented_navigation(float los_rate, float closing, float target_accel)\n"
    "{\n    return 4.0f * closing * los_rate + 0.5f * target_accel;\n}\n"
)
ADDED = (
    "def telemetry_checksum(frame):\n"
    "    '''Fletcher-16 checksum of a downlink frame.'''\n"
    "    a = b = 0\n    for byte in frame:\n        a = (a + byte) % 255\n"
    "        b = (b + a) % 255\n    return (b << 8) | a\n"
)


@pytest.fixture(scope="module")
def s3() -> Iterator[dict[str, str]]:
    """moto's S3 on 127.0.0.1 with an empty bucket; the storage options that reach it."""
    import boto3

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per S3 request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    ).create_bucket(Bucket=BUCKET)
    yield {
        "aws_endpoint": endpoint,
        "allow_http": "true",
        "aws_region": "us-east-1",
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": SECRET_KEY,
    }
    server.stop()


@pytest.fixture
def fake(monkeypatch) -> Iterator[FakeEmbeddings]:
    server = FakeEmbeddings()
    monkeypatch.setenv(openai_http.API_BASE_ENV, server.url)
    monkeypatch.setenv(openai_http.API_KEY_ENV, KEY)
    yield server
    server.stop()


def objects(s3: dict[str, str], prefix: str) -> list[str]:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3["aws_endpoint"],
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return [item["Key"] for item in listed.get("Contents", [])]


def build_base(tmp_path: Path, s3: dict[str, str], fake: FakeEmbeddings, name: str) -> Any:
    """The CI side: a tree indexed into s3://BUCKET/<name> by `jupyter workspace index`, the
    endpoint and region as flags, the keys from the environment (as LanceDB reads them)."""
    root = make_tree(tmp_path / "ci" / "tree")
    commit = git_commit(root)
    uri = f"s3://{BUCKET}/{name}"
    done = run_index(
        root,
        *remote_args(fake),
        "--uri",
        uri,
        "--storage-option",
        f"aws_endpoint={s3['aws_endpoint']}",
        "--storage-option",
        "allow_http=true",
        "--storage-option",
        "aws_region=us-east-1",
        env={"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY},
    )
    summary = summary_of(done)
    assert summary["uri"] == uri and summary["commit"] == commit
    assert summary["files_indexed"] == len(VISIBLE) and summary["chunks_in_index"] >= 25
    assert SECRET_KEY not in done.stdout + done.stderr
    assert not (root / ".jupyter-workspace" / "index").exists()  # all of it went to S3
    assert any(key.startswith(f"{name}/chunks.lance/") for key in objects(s3, name))
    return root, uri, commit, summary


def working_copy(base_root: Path, where: Path) -> Path:
    """The user's clone: guidance.c changed, telemetry_check.py added, docs/notes.txt deleted."""
    root = where / "clone"
    shutil.copytree(base_root, root, ignore=shutil.ignore_patterns(".git", ".jupyter-workspace"))
    (root / "src" / "guidance.c").write_text(NEW_GUIDANCE)
    (root / "telemetry_check.py").write_text(ADDED)
    (root / "docs" / "notes.txt").unlink()
    return root


def open_user(root: Path, s3: dict[str, str], uri: str) -> tuple[IndexService, dict[str, Any]]:
    service = IndexService(
        str(root / ".jupyter-workspace" / "index"),
        "all-MiniLM-L6-v2",
        "openai:fake-embed",
        None,
        base=BaseSource(uri, s3),
        root=root,
    )
    early = service.open_early()
    assert early is not None, "the base's manifest names the remote model: open before it loads"
    info = service.load_model()
    return service, {**early, **info}


def send_tree(service: IndexService, root: Path, paths: list[str]) -> dict[str, Any]:
    """What a coordinator with a new catalog does: every file of the tree, in batches."""
    answers: dict[str, Any] = {"files": [], "embedded": 0}
    for start in range(0, len(paths), 4):
        batch = [{"path": p, "text": (root / p).read_text()} for p in paths[start : start + 4]]
        answer = service.index_files(batch)
        answers["files"] += answer["files"]
        answers["embedded"] += answer["embedded"]
    return answers


def hits(service: IndexService, q: str, mode: str = "hybrid", k: int = 50) -> list[dict]:
    return service.search({"q": q, "mode": mode, "k": k})["results"]


def paths(service: IndexService, q: str, mode: str = "hybrid") -> set[str]:
    return {hit["path"] for hit in hits(service, q, mode)}


def test_a_base_on_s3_under_a_local_overlay(tmp_path, s3, fake, monkeypatch):
    # the base is read in batches at open: a few rows each here, so that the rows in view, the
    # vectors held for the changed file and the full-text keys all come from several
    monkeypatch.setattr(overlay, "READ_BATCH", 4)
    base_root, uri, commit, summary = build_base(tmp_path, s3, fake, "index")
    manifest = read_manifest(uri, s3)
    assert manifest["commit"] == commit and manifest["complete"] is True
    base_chunks = summary["chunks_in_index"]
    assert base_chunks > 3 * overlay.READ_BATCH
    base_texts = set(fake.inputs)

    root = working_copy(base_root, tmp_path)
    fake.inputs.clear()
    service, info = open_user(root, s3, uri)
    try:
        base = info["base"]
        assert base["uri"] == uri and base["commit"] == commit and base["chunks"] == base_chunks
        assert info["index_id"].endswith(f"|base-{manifest['build']}")
        assert info["rebuilt"] is True  # a new overlay: the coordinator sends every file
        # before the coordinator sent anything: the base in view for the files the tree still
        # has at the base's size; the deleted one and the changed one (another size) hidden
        assert base["files_in_view"] == len(VISIBLE) - 2 and base["overlay_files"] == 0
        assert "docs/notes.txt" not in paths(service, "pyro valves", "text")
        assert "src/guidance.c" not in paths(service, "proportional_navigation", "text")
        assert hits(service, "pid_step", "text")[0]["path"] == "pid.c"

        tree = sorted((VISIBLE - {"docs/notes.txt"}) | {"telemetry_check.py"})
        answers = send_tree(service, root, tree)
        by_path = {f["path"]: f for f in answers["files"]}
        assert all(not f["error"] for f in answers["files"])
        unchanged = VISIBLE - {"docs/notes.txt", "src/guidance.c"}
        assert {p for p, f in by_path.items() if f.get("base")} == unchanged
        assert by_path["src/guidance.c"]["symbols"][0][0] == "augmented_navigation"
        assert by_path["telemetry_check.py"]["symbols"][0][0] == "telemetry_checksum"
        # the endpoint embedded the two new files' chunks and nothing the base had
        embedded = [text for text in fake.inputs if text != PROBE]
        assert embedded, "the changed and the added file were embedded"
        assert not set(embedded) & base_texts
        assert all(
            "augmented_navigation" in text or "telemetry_checksum" in text for text in embedded
        ), embedded
        assert answers["embedded"] == len(embedded)
        service.delete(["docs/notes.txt"])  # the coordinator's catalog had it: a deletion

        # the changed file's new text, from the overlay; its old text nowhere
        found = hits(service, "augmented_navigation", "text")
        assert found[0]["path"] == "src/guidance.c" and "target_accel" in found[0]["text"]
        assert hits(service, "augmented navigation guidance", k=3)[0]["path"] == "src/guidance.c"
        for mode in ("text", "hybrid", "vector"):
            for hit in hits(service, "proportional_navigation los_rate closing", mode):
                assert "proportional_navigation" not in hit["text"], (mode, hit)
        # the deleted file nowhere
        for mode in ("text", "hybrid", "vector"):
            assert all(h["path"] != "docs/notes.txt" for h in hits(service, "pyro valves", mode))
        # the added file, and the unchanged ones from the base; filters apply to both
        assert hits(service, "Fletcher checksum", k=3)[0]["path"] == "telemetry_check.py"
        assert hits(service, "pid_step", "text")[0]["path"] == "pid.c"
        c_only = hits(service, "navigation", "hybrid", 20)
        assert {h["path"] for h in hits(service, "float", "hybrid", 50)} >= {
            "pid.c",
            "src/guidance.c",
        }
        c_only = service.search({"q": "navigation float", "k": 50, "language": "c"})["results"]
        assert c_only and {h["language"] for h in c_only} == {"c"}
        assert "src/guidance.c" in {h["path"] for h in c_only}

        status = service.stats()["base"]
        assert status["overlay_files"] == 2 and status["deleted_files"] == 1
        assert status["files_in_view"] == len(VISIBLE) - 2
        assert status["chunks"] == base_chunks
        assert SECRET_KEY not in json.dumps(service.stats()) + json.dumps(info)

        # the base is never written: the same objects in the bucket
        assert service.optimize()["seconds"] >= 0
    finally:
        service.close()

    # a restart: the overlay, the deletion and the view come back without the coordinator
    fake.inputs.clear()
    again, info = open_user(root, s3, uri)
    try:
        assert info["rebuilt"] is False
        assert info["base"]["overlay_files"] == 2 and info["base"]["deleted_files"] == 1
        assert hits(again, "augmented_navigation", "text")[0]["path"] == "src/guidance.c"
        assert all(
            "proportional_navigation" not in h["text"]
            for h in hits(again, "proportional_navigation", "text")
        )
        assert "docs/notes.txt" not in paths(again, "pyro valves", "text")
        # the user reverts guidance.c: it is the base's again, from the base's rows
        (root / "src" / "guidance.c").write_bytes((base_root / "src" / "guidance.c").read_bytes())
        answer = again.index_files(
            [{"path": "src/guidance.c", "text": (root / "src" / "guidance.c").read_text()}]
        )
        assert answer["files"][0]["base"] is True and answer["embedded"] == 0
        assert hits(again, "proportional_navigation", "text")[0]["path"] == "src/guidance.c"
        assert "src/guidance.c" in paths(again, "augmented_navigation", "text")  # its words
        assert all("augmented" not in h["text"] for h in hits(again, "augmented", "text"))
        assert again.stats()["base"]["overlay_files"] == 1
        assert [t for t in fake.inputs if t != PROBE] == []  # nothing embedded since the restart
    finally:
        again.close()
    state = json.loads((root / ".jupyter-workspace" / "index" / STATE_FILE).read_text())
    assert state["tombstones"] == ["docs/notes.txt"] and state["build"] == manifest["build"]


def test_a_base_of_another_model_or_unreachable_is_refused_with_a_clear_error(tmp_path, s3, fake):
    base_root, uri, _, _ = build_base(tmp_path, s3, fake, "other")
    root = working_copy(base_root, tmp_path)
    # another model (a local one): refused, no fallback that would embed the whole tree
    service = IndexService(
        str(root / "overlay"),
        "all-MiniLM-L6-v2",
        "openai:another-model",
        None,
        base=BaseSource(uri, s3),
        root=root,
    )
    with pytest.raises(BaseIndexError, match="openai:fake-embed"):
        service.load()
    # unreachable: the error names the base, never the keys
    closed = {**s3, "aws_endpoint": "http://127.0.0.1:9", "aws_secret_access_key": "sk-9c9c"}
    with pytest.raises(BaseIndexError) as caught:
        BaseSource(uri, closed).manifest()
    assert "sk-9c9c" not in str(caught.value) and "team-index" in str(caught.value)
    # nothing there
    with pytest.raises(BaseIndexError, match="no manifest"):
        BaseSource(f"s3://{BUCKET}/nothing-here", s3).manifest()
    assert describe_uri("s3://user:pw@bucket/x") == "s3://bucket/x"


# -- a real Jupyter server and its sidecar on the user's clone ----------------------------------
@pytest.fixture
def clone_on_base(tmp_path, jp_root_dir, s3, fake):
    """The base built from the CI tree into S3; the user's clone (one file changed, one added,
    one deleted) as the server's root."""
    base_root, uri, commit, summary = build_base(tmp_path, s3, fake, "served")
    root = working_copy(base_root, jp_root_dir)
    return root, uri, commit, summary, set(fake.inputs)


@pytest.fixture
def jp_server_config(jp_server_config, clone_on_base, s3):
    from .chat_helpers import FAKE_KEY

    root, uri, _, _, _ = clone_on_base
    config = dict(jp_server_config)
    config["ServerApp"] = {**config["ServerApp"], "root_dir": str(root)}
    config["WorkspaceApp"] = {
        **config["WorkspaceApp"],
        "sidecar_enabled": True,
        "index_enabled": True,
        "embedding_backend": "openai:fake-embed",
        "base_index_uri": uri,
        "base_index_storage_options": s3,
        "llm_model": "openai/none",
        "llm_api_key": FAKE_KEY,
    }
    return config


async def test_a_server_searches_the_base_and_the_users_changes(
    clone_on_base, fake, jp_serverapp, api
):
    from .chat_helpers import sidecar_ready
    from .waiting import until

    root, uri, commit, summary, base_texts = clone_on_base
    fake.inputs.clear()
    await jp_serverapp._post_start()
    await sidecar_ready(api)
    tree = (VISIBLE - {"docs/notes.txt"}) | {"telemetry_check.py"}

    async def idle() -> dict[str, Any] | None:
        _, status = await api("GET", "index")
        done = status["state"] == "idle" and status["files_indexed"] == len(tree)
        return status if done else None

    status = await until(idle, timeout=120, interval=0.2)
    base = status["base"]
    assert base["uri"] == uri and base["commit"] == commit
    assert base["chunks"] == summary["chunks_in_index"]
    assert base["overlay_files"] == 2 and base["files_in_view"] == len(VISIBLE) - 2
    # only the changed and the added file's chunks reached the embeddings server
    embedded = [text for text in fake.inputs if text != PROBE]
    assert embedded and not set(embedded) & base_texts
    code, answer = await api("GET", "search", params={"q": "augmented_navigation"})
    assert code == 200 and answer["results"][0]["path"] == "src/guidance.c"
    assert "target_accel" in answer["results"][0]["snippet"] + answer["results"][0].get("text", "")
    _, answer = await api("GET", "search", params={"q": "pyro valves", "k": "50"})
    assert all(hit["path"] != "docs/notes.txt" for hit in answer["results"])
    _, answer = await api("GET", "search", params={"q": "pid_step", "mode": "text"})
    assert answer["results"][0]["path"] == "pid.c"
    # the keys went to the sidecar, never to what the browser sees
    _, everything = await api("GET", "status")
    assert everything["index"]["base"]["uri"] == uri
    assert SECRET_KEY not in json.dumps(everything)
