"""What the index reads and how it survives hostile input: secrets, symlinks, a file the sidecar
cannot take, bursts of files. The real coordinator (watcher, catalog, indexer) against a fake
sidecar that records every file it is sent: what it never got can never be searched."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from jupyter_workspace.server import watcher

from .fake_sidecar import FakeSidecar
from .waiting import until

SECRETS = {  # path -> text; none of it may reach the index
    ".env": "DB_PASSWORD=hunter2-env",
    ".env.production": "API_TOKEN=hunter2-prod",
    ".ssh/id_rsa": "-----BEGIN OPENSSH PRIVATE KEY----- hunter2-ssh",
    ".aws/credentials": "[default]\naws_secret_access_key = hunter2-aws",
    ".netrc": "machine example.com password hunter2-netrc",
    "certs/server.pem": "-----BEGIN PRIVATE KEY----- hunter2-pem",
    "deploy/id_ed25519": "-----BEGIN OPENSSH PRIVATE KEY----- hunter2-ed25519",
    "config/cloud-credentials.json": '{"secret": "hunter2-json"}',
    "keys/signing.key": "hunter2-key",
    "keys/store.p12": "hunter2-p12",
}


@pytest.fixture
def jp_server_config(jp_server_config, request):
    config = dict(jp_server_config)
    config["WorkspaceApp"] = {
        **config["WorkspaceApp"],
        "sidecar_enabled": True,
        "index_enabled": True,
    }
    for section, values in getattr(request, "param", {}).items():
        config[section] = {**config.get(section, {}), **values}
    return config


@pytest.fixture
def sidecar(workspace):
    fake = FakeSidecar()
    workspace.supervisor = workspace.indexer.supervisor = fake
    return fake


async def start(jp_serverapp, workspace) -> None:
    await jp_serverapp._post_start()


async def settled(workspace, *paths: str, timeout: float = 60.0) -> dict[str, dict]:
    """Wait until the indexer is idle with `paths` indexed; the catalog's rows by path."""

    async def done():
        status = await workspace.indexer.status()
        if status["state"] != "idle" or status["files_pending"] or status["files_deleting"]:
            return None
        rows = {f["path"]: f for f in await workspace.catalog.files(limit=100_000)}
        return all(rows.get(p, {}).get("state") == "indexed" for p in paths) and (rows,)

    [rows] = await until(done, timeout=timeout, interval=0.25)
    return rows


async def catalogued(workspace, names: list[str], timeout: float = 120.0) -> int:
    """Wait until every one of `names` is in the catalog, to be indexed or indexed already."""
    wanted = set(names)

    async def done():
        rows = await workspace.catalog.files(limit=10 * len(names))
        return wanted <= {f["path"] for f in rows if f["state"] != "deleting"} and len(rows)

    return await until(done, timeout=timeout, interval=0.5)


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def leaked(sidecar: FakeSidecar) -> list[str]:
    return [p for p, text in sidecar.texts.items() if "hunter2" in text]


# -- item 3: hidden and secret files ------------------------------------------------------------


async def test_secrets_and_hidden_files_never_reach_the_index(
    jp_serverapp, workspace, sidecar, jp_root_dir
):
    write(
        jp_root_dir,
        {
            **SECRETS,
            "src/main.py": "print('hi')\n",
            ".hidden/notes.md": "# hidden notes\n",
            ".github/ci.yml": "on: push\n",
        },
    )
    await start(jp_serverapp, workspace)
    rows = await settled(workspace, "src/main.py")
    # and through the watcher: secrets made after start-up
    write(
        jp_root_dir,
        {
            ".env.local": "X=hunter2-later",
            "more/id_rsa": "hunter2-later-key",
            "zz_marker.py": "x = 1\n",
        },
    )
    rows = await settled(workspace, "src/main.py", "zz_marker.py")
    assert set(sidecar.texts) == {"src/main.py", "zz_marker.py"} and not leaked(sidecar)
    assert set(rows) == {"src/main.py", "zz_marker.py"}  # not even catalogued


@pytest.mark.parametrize(
    "jp_server_config", [{"ContentsManager": {"allow_hidden": True}}], indirect=True
)
async def test_with_allow_hidden_hidden_files_are_indexed_but_secrets_are_not(
    jp_serverapp, workspace, sidecar, jp_root_dir
):
    write(
        jp_root_dir,
        {**SECRETS, "src/main.py": "print('hi')\n", ".hidden/notes.md": "# hidden notes\n"},
    )
    await start(jp_serverapp, workspace)
    await settled(workspace, "src/main.py", ".hidden/notes.md")
    write(jp_root_dir, {".cache/later.md": "later\n", ".env.local": "X=hunter2-later"})
    await settled(workspace, ".cache/later.md")
    assert set(sidecar.texts) == {"src/main.py", ".hidden/notes.md", ".cache/later.md"}
    assert not leaked(sidecar)


# -- item 4: symlinks made after start-up ---------------------------------------------------------


async def test_a_symlink_made_after_start_up_is_not_followed_out_of_the_root(
    jp_serverapp, workspace, sidecar, jp_root_dir, tmp_path_factory
):
    outside = tmp_path_factory.mktemp("outside")
    write(outside, {"secret.txt": "hunter2-outside\n", "lib/mod.py": "hunter2 = 'outside'\n"})
    write(jp_root_dir, {"a.py": "a = 1\n", ".env": "hunter2-env"})
    await start(jp_serverapp, workspace)
    await settled(workspace, "a.py")
    (jp_root_dir / "leak.txt").symlink_to(outside / "secret.txt")
    (jp_root_dir / "lib").symlink_to(outside / "lib", target_is_directory=True)
    (jp_root_dir / "env.txt").symlink_to(jp_root_dir / ".env")  # inside, but to a secret
    (jp_root_dir / "alias.py").symlink_to(jp_root_dir / "a.py")  # inside: followed
    write(jp_root_dir, {"zz_marker.py": "x = 1\n"})  # sorts last, made last
    rows = await settled(workspace, "alias.py", "zz_marker.py")
    assert not leaked(sidecar)
    assert set(sidecar.texts) == {"a.py", "alias.py", "zz_marker.py"}
    assert {"leak.txt", "env.txt"}.isdisjoint(rows)


async def test_a_file_swapped_for_a_symlink_after_it_was_queued_is_not_read(
    workspace, sidecar, jp_root_dir, tmp_path_factory
):
    """The read itself is confined, not only the scan and the watcher: the catalog may queue
    a path that is a link by the time it is read."""
    outside = tmp_path_factory.mktemp("outside")
    write(outside, {"secret.txt": "hunter2-outside\n"})
    (jp_root_dir / "report.txt").symlink_to(outside / "secret.txt")
    await workspace.catalog.mark_changed("report.txt")
    await workspace.catalog.mark_changed(".env")  # in the catalog from an older release
    write(jp_root_dir, {".env": "hunter2-env"})
    indexer = workspace.indexer
    assert await indexer._index_batch(sidecar) is True
    assert not sidecar.batches and not leaked(sidecar)
    assert await workspace.catalog.files("pending") == []


# -- item 6: one file the sidecar cannot take ---------------------------------------------------


async def test_a_file_too_large_as_json_is_an_error_and_the_files_after_it_are_indexed(
    jp_serverapp, workspace, sidecar, jp_root_dir
):
    # 12 MB of control characters: under the 16 MB source limit, but each is 6 bytes in JSON
    # (\u0001), 72 MB: more than the sidecar reads
    (jp_root_dir / "b_hostile.c").write_bytes(b"\x01" * (12 * 1024 * 1024))
    write(jp_root_dir, {"a.py": "a = 1\n", "c.py": "c = 1\n", "d/e.py": "e = 1\n"})
    await start(jp_serverapp, workspace)
    rows = await settled(workspace, "a.py", "c.py", "d/e.py")
    assert rows["b_hostile.c"]["state"] == "error"
    assert "MB as JSON" in rows["b_hostile.c"]["reason"]
    assert all("b_hostile.c" not in batch for batch in sidecar.batches)  # never sent
    status = await workspace.indexer.status()
    assert status["files_error"] == 1 and status["files_indexed"] == 3


async def test_a_file_that_keeps_failing_is_marked_error_after_three_tries(
    jp_serverapp, workspace, sidecar, jp_root_dir
):
    write(jp_root_dir, {f"m{i:02}.py": f"x = {i}\n" for i in range(40)})
    sidecar.poison = {"m05.py"}
    await start(jp_serverapp, workspace)
    rows = await settled(workspace, *(f"m{i:02}.py" for i in range(40) if i != 5))
    assert rows["m05.py"]["state"] == "error" and "failed 3 times" in rows["m05.py"]["reason"]
    tries = [batch for batch in sidecar.batches if "m05.py" in batch]
    assert len(tries) == 3 and tries[1:] == [["m05.py"], ["m05.py"]]  # then alone
    # it does not spin: idle, and nothing more is sent until a file changes
    sent = len(sidecar.batches)
    await asyncio.sleep(1.5)
    assert len(sidecar.batches) == sent and workspace.indexer.state == "idle"
    # a change gives it another chance
    sidecar.poison = set()
    (jp_root_dir / "m05.py").write_text("x = 'fixed'\n")
    await settled(workspace, "m05.py")


# -- item 7: bursts of files ----------------------------------------------------------------------

BURST = 20_000


def make_files(root: Path, names: list[str]) -> None:
    for name in names:
        with open(root / name, "w") as f:
            f.write(name)


async def test_a_burst_of_files_at_once_is_all_catalogued(
    jp_serverapp, workspace, sidecar, jp_root_dir
):
    for d in range(20):
        (jp_root_dir / f"d{d:02}").mkdir()
    await start(jp_serverapp, workspace)
    await settled(workspace)
    names = [f"d{i % 20:02}/f{i:05}.txt" for i in range(BURST)]
    # as fast as a thread can: far more events than inotify queues (16,384)
    thread = threading.Thread(target=make_files, args=(jp_root_dir, names))
    thread.start()
    await asyncio.get_running_loop().run_in_executor(None, thread.join)
    assert await catalogued(workspace, names) == BURST


async def test_a_burst_of_files_in_steps_is_all_catalogued_without_a_rescan(
    jp_serverapp, workspace, sidecar, jp_root_dir, monkeypatch
):
    """Steps the kernel's queue keeps up with: every event arrives, and none may be dropped
    on the way to the catalog (no rescan to make up for it here)."""
    monkeypatch.setattr(watcher, "RESCAN_AFTER_EVENTS", 10**9)
    await start(jp_serverapp, workspace)
    await settled(workspace)
    names = [f"s{i:05}.txt" for i in range(BURST)]
    for step in range(0, BURST, 1_000):
        await asyncio.get_running_loop().run_in_executor(
            None, make_files, jp_root_dir, names[step : step + 1_000]
        )
        await asyncio.sleep(0.1)
    assert await catalogued(workspace, names) == BURST


def lose_events(workspace, monkeypatch, marker: str = "zzlost") -> None:
    """Drop the file events of paths containing `marker`, as inotify drops events when its
    queue overflows (watchdog does not tell a handler)."""
    handler = workspace.watcher.on_any_event

    def on_any_event(event):
        if marker not in os.fsdecode(event.src_path) + os.fsdecode(event.dest_path or ""):
            handler(event)

    monkeypatch.setattr(workspace.watcher, "on_any_event", on_any_event)


async def test_what_a_burst_lost_is_found_by_the_rescan_after_it(
    jp_serverapp, workspace, sidecar, jp_root_dir, monkeypatch
):
    """The files whose events were lost come first: the burst after them asks for the rescan."""
    monkeypatch.setattr(watcher, "RESCAN_AFTER_EVENTS", 300)
    lose_events(workspace, monkeypatch)
    await start(jp_serverapp, workspace)
    await settled(workspace)
    names = [f"zzlost{i:02}.txt" for i in range(50)] + [f"seen{i:04}.txt" for i in range(1000)]
    await asyncio.get_running_loop().run_in_executor(None, make_files, jp_root_dir, names)
    assert await catalogued(workspace, names) == len(names)


@pytest.mark.parametrize(
    "jp_server_config", [{"WorkspaceApp": {"index_rescan_interval": 0.5}}], indirect=True
)
async def test_what_no_event_told_is_found_by_the_periodic_rescan(
    jp_serverapp, workspace, sidecar, jp_root_dir, monkeypatch
):
    lose_events(workspace, monkeypatch)
    await start(jp_serverapp, workspace)
    await settled(workspace)
    names = ["seen.txt", "zzlost1.txt", "sub/zzlost2.txt"]
    (jp_root_dir / "sub").mkdir()
    await asyncio.get_running_loop().run_in_executor(None, make_files, jp_root_dir, names)
    assert await catalogued(workspace, names) == 3
