"""The file watcher: real watchdog events on the served root become file.* events."""

import subprocess


async def start(jp_serverapp):
    await jp_serverapp._post_start()  # starts the extension's background work, as `start` does


async def test_created_and_changed_and_deleted_files(jp_serverapp, jp_root_dir, events):
    await start(jp_serverapp)
    client = await events()
    target = jp_root_dir / "guidance.c"
    target.write_text("int x;\n")
    assert (await client.next("file.changed"))["path"] == "guidance.c"
    (jp_root_dir / "nav").mkdir()
    (jp_root_dir / "nav" / "ekf.py").write_text("x = 1\n")
    assert (await client.next("file.changed"))["path"] == "nav/ekf.py"
    target.unlink()
    assert (await client.next("file.deleted"))["path"] == "guidance.c"


async def test_a_burst_of_writes_is_one_event(jp_serverapp, jp_root_dir, events):
    await start(jp_serverapp)
    client = await events()
    target = jp_root_dir / "burst.txt"
    for i in range(20):
        target.write_text(f"version {i}\n")
    assert (await client.next("file.changed"))["path"] == "burst.txt"
    assert await client.none_within(0.5, "file.changed") == []


async def test_rename_reports_both_sides(jp_serverapp, jp_root_dir, events):
    (jp_root_dir / "old.py").write_text("a = 1\n")
    await start(jp_serverapp)
    client = await events()
    (jp_root_dir / "old.py").rename(jp_root_dir / "new.py")
    got = {(await client.next()).get("path") for _ in range(2)}
    assert got == {"old.py", "new.py"}


async def test_ignored_paths_send_nothing(jp_serverapp, jp_root_dir, events, workspace):
    (jp_root_dir / ".gitignore").write_text("build/\n*.log\n")
    (jp_root_dir / "sub").mkdir()
    (jp_root_dir / "sub" / ".gitignore").write_text("secret.txt\n")
    (jp_root_dir / "build").mkdir()
    subprocess.run(["git", "init", "-q", str(jp_root_dir)], check=True)
    await start(jp_serverapp)
    client = await events()
    (jp_root_dir / "build" / "out.o").write_text("obj")
    (jp_root_dir / "run.log").write_text("log")
    (jp_root_dir / "sub" / "secret.txt").write_text("s")
    (jp_root_dir / ".git" / "scratch").write_text("x")
    # the workspace's own database writes (state dir) never show up either
    await workspace.notes.create({"title": "written to the state dir"})
    (jp_root_dir / "sub" / "visible.txt").write_text("v")
    event = await client.next("file.changed")
    assert event["path"] == "sub/visible.txt"
    assert await client.none_within(0.5, "file.changed") == []


async def test_a_burst_in_an_ignored_folder_alone_asks_for_a_rescan(
    jp_serverapp, jp_root_dir, workspace, monkeypatch
):
    """It fills the same kernel queue (npm install in node_modules/): events may be lost."""
    from jupyter_workspace.server import watcher

    from .waiting import until

    monkeypatch.setattr(watcher, "RESCAN_AFTER_EVENTS", 200)
    (jp_root_dir / "node_modules").mkdir()
    batches = []
    workspace.watcher.listen(batches.append)
    await start(jp_serverapp)
    for i in range(600):
        (jp_root_dir / "node_modules" / f"m{i}.js").write_text("x")
    settled = (await until(lambda: batches, timeout=30))[0]
    assert settled.rescan and not (settled.changed or settled.deleted)
