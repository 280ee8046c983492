"""`%workspace snapshots` in a real IPython kernel against a real Jupyter server with the
extension: the unsaved documents the workspace keeps, with their state next to the disk."""

from __future__ import annotations

from . import test_magics

# the kernel and the environment that points it at the server under test, as test_magics has them
kernel = test_magics.kernel
workspace_env = test_magics.workspace_env


async def test_the_magic_lists_the_snapshots(api, jp_root_dir, kernel, workspace_env):
    (jp_root_dir / "ekf.py").write_text("x = 1\n")
    (jp_root_dir / "gone.py").write_text("y = 1\n")
    body = {"path": "ekf.py", "kind": "file", "content": "x = 2\n", "client": "tab-A"}
    assert (await api("PUT", "snapshots", body))[0] == 201
    body = {"path": "gone.py", "kind": "file", "content": "y = 2\n", "client": "tab-B"}
    assert (await api("PUT", "snapshots", body))[0] == 201
    (jp_root_dir / "gone.py").unlink()

    k = await kernel(workspace_env)
    result = await k.run("snaps = %workspace snapshots\nsnaps")
    assert "2 unsaved documents" in result["text"], result["text"]
    assert "deleted on disk" in result["text"] and "tab-A" in result["text"]
    rows = await k.value("sorted((s['path'], s['client'], s['state']) for s in snaps)")
    assert rows == [["ekf.py", "tab-A", "unsaved"], ["gone.py", "tab-B", "deleted on disk"]]

    one = await k.run("%workspace snapshots --path ekf.py")
    assert "1 unsaved document" in one["text"] and "gone.py" not in one["text"]
    bad = await k.run("%workspace snapshots --path ../etc")
    assert "inside the served root" in bad["text"], bad["text"]
