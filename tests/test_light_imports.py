"""The coordinator stays light: loading the extension imports no heavy library (AI models,
LanceDB and Arrow, tree-sitter and its grammars): the sidecar does that work."""

import json
import os
import subprocess
import sys
from pathlib import Path

# top-level module names; tree-sitter grammars are `tree_sitter_<language>` packages
HEAVY = [
    "torch",
    "litellm",
    "lancedb",
    "sentence_transformers",
    "transformers",
    "pyarrow",
    "tree_sitter",
    "tree_sitter_*",
]

SCRIPT = """
import fnmatch, json, sys
from jupyter_server.serverapp import ServerApp

app = ServerApp.instance()
app.initialize(argv=[
    "--ServerApp.root_dir=" + sys.argv[1], "--ServerApp.port=0", "--ServerApp.open_browser=False",
    "--ServerApp.allow_root=True", "--ServerApp.token=t",
    "--ServerApp.jpserver_extensions=jupyter_workspace=True",
])

async def report():
    try:
        await app._post_start()  # the extension's start hook, as the running server does
        print(json.dumps({
            "loaded": "jupyter_workspace" in app.extension_manager.extension_apps,
            "heavy": sorted({top for top in {m.split(".")[0] for m in sys.modules}
                             if any(fnmatch.fnmatch(top, h) for h in HEAVY)}),
        }), flush=True)
    finally:
        app.io_loop.stop()

HEAVY = json.loads(sys.argv[2])
app.io_loop.add_callback(report)
app.start()
"""


def test_server_process_never_imports_heavy_libraries(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    assert lines, out.stderr[-3000:]
    report = json.loads(lines[-1])
    assert report["loaded"], out.stderr[-3000:]
    assert report["heavy"] == []
