"""What the sections of bench_index.py share: the knobs (environment), the clean-up of temp dirs
and child processes (even on error, Ctrl-C or SIGTERM), timers, a keep-alive JSON client, the
corpus, and the models loaded once."""

from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import HOST  # noqa: E402

N_FILES = int(os.environ.get("BENCH_INDEX_FILES", "150"))
SLICES = int(os.environ.get("BENCH_INDEX_SLICES", "4"))
FILE_BYTES = (500, int(os.environ.get("BENCH_INDEX_MAX_BYTES", "4000")))  # corpus file sizes
SCAN_FILES = int(os.environ.get("BENCH_INDEX_SCAN_FILES", "10000"))
SCAN_ROUNDS = int(os.environ.get("BENCH_INDEX_SCAN_ROUNDS", "5"))
SAVES = int(os.environ.get("BENCH_INDEX_SAVES", "20"))
N_CHUNKS = int(os.environ.get("BENCH_INDEX_CHUNKS", "100000"))
N_QUERIES = int(os.environ.get("BENCH_INDEX_QUERIES", "200"))
N_LANCE = int(os.environ.get("BENCH_INDEX_LANCE_QUERIES", "40"))
FILLS = int(os.environ.get("BENCH_INDEX_FILLS", "300"))  # section 5: files filled between optimizes
ARENA_EXPERIMENT = os.environ.get("BENCH_INDEX_ARENA_EXPERIMENT", "0") == "1"
SECTIONS = {s.strip() for s in os.environ.get("BENCH_INDEX_SECTIONS", "1,2,3,4,5,6").split(",")}
MODEL = "all-MiniLM-L6-v2"
BATCH_FILES = 16  # what server/index_feeder.py sends per POST /index/files
FIRST_QUERY = "reference count"  # for section 2: words common in the corpus
# Section 2's search by meaning (mode=vector): a description of one corpus file in other words;
# its first hit is that file once the file has its vectors (it is about halfway in the
# indexer's path order, so about halfway through the embedding backlog).
MEANING_QUERY = "keep a list in order when inserting new items"
MEANING_TARGET = "lib/bisect.py"
DIM = 384

# -- cleanup: temp dirs and child processes, even on error / Ctrl-C / SIGTERM ------------------
_tmp_dirs: set[Path] = set()
children: set[subprocess.Popen[bytes]] = set()


def tmpdir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    _tmp_dirs.add(path)
    return path


def rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    _tmp_dirs.discard(path)


def end_child(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    children.discard(proc)


def cleanup() -> None:
    for proc in list(children):
        end_child(proc)
    for path in list(_tmp_dirs):
        rmtree(path)


atexit.register(cleanup)  # _harness turns SIGTERM into SystemExit, so this runs then too


# -- small helpers -------------------------------------------------------------------------------
def now() -> float:
    return time.perf_counter()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS / VmHWM in MiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(":", 1)[0]
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(line.split()[1]) / 1024
    return out


class Http:
    """Blocking JSON requests on one keep-alive connection (reconnects on error)."""

    def __init__(self, port: int, auth: str) -> None:
        self.port = port
        self.auth = auth
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: Any = None, timeout: float = 60.0
    ) -> tuple[int | None, Any]:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": self.auth, "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
            self.conn.timeout = timeout
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                try:
                    parsed = json.loads(data) if data else None
                except ValueError:
                    parsed = None
                return resp.status, parsed
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt:
                    return None, None
        return None, None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None


# -- the corpus ----------------------------------------------------------------------------------
SKIP_DIRS = {
    "test",
    "tests",
    "idlelib",
    "site-packages",
    "lib2to3",
    "ensurepip",
    "turtledemo",
    "tkinter",
    "__pycache__",
    "config-3.11-x86_64-linux-gnu",
}


def corpus_sources(n: int) -> list[tuple[str, Path]]:
    """(relative path in the corpus, source file): about half C headers, half stdlib .py, files
    of 0.5–4 KB (BENCH_INDEX_MAX_BYTES), evenly spread over the sorted candidates
    (deterministic)."""
    paths = sysconfig.get_paths()
    lib, inc = Path(paths["stdlib"]), Path(paths["include"])

    def ok(p: Path, base: Path) -> bool:
        rel = p.relative_to(base)
        size = p.stat().st_size
        return not SKIP_DIRS & set(rel.parts[:-1]) and FILE_BYTES[0] <= size <= FILE_BYTES[1]

    headers = sorted(p for p in inc.rglob("*.h") if ok(p, inc))
    pys = sorted(p for p in lib.rglob("*.py") if ok(p, lib))

    def spread(items: list[Path], k: int) -> list[Path]:
        if k >= len(items):
            return items
        return [items[int(i * len(items) / k)] for i in range(k)]

    n_h = min(len(headers), n // 2)
    chosen = [(f"include/{p.relative_to(inc).as_posix()}", p) for p in spread(headers, n_h)]
    chosen += [(f"lib/{p.relative_to(lib).as_posix()}", p) for p in spread(pys, n - n_h)]
    return sorted(chosen)


def last_py(sources: list[tuple[str, Path]]) -> str:
    """The file sections 1 and 4 edit: the last stdlib .py of the corpus (lib/xml/sax/__init__.py
    with the defaults, 3.6 KB)."""
    return max(rel for rel, _ in sources if rel.endswith(".py"))


def write_corpus(dest: Path, sources: list[tuple[str, Path]]) -> None:
    for rel, src in sources:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)


def fts_state(table: Any) -> tuple[int, int, int]:
    """(fragments, rows in the FTS index, rows not in it) of a LanceDB table."""
    frags = table.stats()["fragment_stats"]["num_fragments"]
    for ix in table.list_indices():
        if "text" in (ix.columns or []):
            st = table.index_stats(ix.name)
            return frags, st.num_indexed_rows, st.num_unindexed_rows
    return frags, 0, table.count_rows()


# -- loaded once ---------------------------------------------------------------------------------
class Loaded:
    """Models and the corpus shared by sections 1, 5 and 6 (loaded once)."""

    service: Any = None
    sources: list[tuple[str, Path]] = []
    texts: dict[str, str] = {}


def load_service(uri: Path) -> tuple[Any, dict[str, Any], float]:
    from jupyter_workspace.sidecar.index_service import IndexService

    t = now()
    service = IndexService(str(uri), MODEL, "auto", None)
    info = service.load()
    return service, info, now() - t
