"""Build and launch the Binder demo as repo2docker and Binder would, without Docker.

The steps of the image's build (a fresh virtual environment, `pip install -r
binder/requirements.txt` from a copy of the repository, `binder/postBuild`) and of a launch
(`jupyter lab` from the repository with the environment's config, the notebook user's home),
each timed. tests/test_binder.py checks them and bench/bench_binder.py prints their figures.

    python binder/simulate.py [WORKDIR]     # build, launch, print the figures, stop
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

try:
    from binder.build_demo import free_port, stop
except ModuleNotFoundError:  # `python binder/simulate.py`: binder/ itself is on sys.path
    from build_demo import free_port, stop  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parents[1]
# Built by ./dev setup, ignored by git: the wheel built from the copy reuses it (no Node.js).
BUILT_LABEXTENSION = Path("jupyter_workspace") / "labextension"
READY_TIMEOUT_S = 120


@dataclass
class Binder:
    """A simulated image: `home` (the notebook user's), `repo` (REPO_DIR), `venv`."""

    work: Path
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def repo(self) -> Path:
        return self.work / "repo"

    @property
    def home(self) -> Path:
        return self.work / "home"

    @property
    def venv(self) -> Path:
        return self.work / "venv"

    @property
    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("JUPYTER", "VIRTUAL_ENV", "PYTHON"))
        }
        env.update(
            HOME=str(self.home),
            PATH=f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            VIRTUAL_ENV=str(self.venv),
            # an extra index this machine cannot reach (binder/requirements.txt's CPU torch
            # index): tried once, not five times per package
            PIP_RETRIES="0",
            PIP_DEFAULT_TIMEOUT="5",
        )
        return env

    def _run(self, name: str, argv: list[str], timeout: float) -> str:
        start = time.perf_counter()
        done = subprocess.run(
            argv,
            cwd=self.repo,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        self.timings[name] = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(
                f"{name} failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
            )
        return done.stdout

    def copy_repository(self) -> None:
        """What repo2docker copies: the tracked files, plus the built extension."""
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
        ).stdout.decode()
        for name in filter(None, listed.split("\0")):
            source = REPO / name
            if source.is_file():
                target = self.repo / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        if (REPO / BUILT_LABEXTENSION / "package.json").exists():
            shutil.copytree(REPO / BUILT_LABEXTENSION, self.repo / BUILT_LABEXTENSION)
        self.home.mkdir(parents=True, exist_ok=True)

    def build(self) -> None:
        """The image's build: venv, requirements, postBuild (its own steps timed inside)."""
        self.copy_repository()
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
        self.timings["venv"] = time.perf_counter() - start
        self._run(
            "pip install -r binder/requirements.txt",
            [str(self.venv / "bin" / "pip"), "install", "-q", "-r", "binder/requirements.txt"],
            timeout=1800,
        )
        out = self._run("postBuild", ["bash", "binder/postBuild"], timeout=1800)
        for line in out.splitlines():
            # "[build_demo] index the demo (...): 41.2 s"
            if line.startswith("[build_demo] ") and line.endswith(" s") and ": " in line:
                name, took = line[len("[build_demo] ") :].rsplit(": ", 1)
                self.timings[f"postBuild: {name}"] = float(took[:-2])

    @contextlib.contextmanager
    def launch(self, extra: list[str] | None = None) -> Iterator[Lab]:
        """`jupyter lab` as Binder starts it: from the repository, the image's config
        (`extra`: more command-line options, e.g. the baseline without the workspace)."""
        port, token = free_port(), secrets.token_hex(16)
        log = (self.work / "lab.log").open("wb")
        argv = [
            str(self.venv / "bin" / "jupyter"),
            "lab",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--no-browser",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            argv.append("--allow-root")
        argv.extend(extra or [])
        start = time.perf_counter()
        process = subprocess.Popen(
            argv,
            cwd=self.repo,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        lab = Lab(url=f"http://127.0.0.1:{port}", token=token, process=process, started=start)
        try:
            yield lab
        finally:
            stop(process)
            log.close()

    def log_tail(self) -> str:
        path = self.work / "lab.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


@dataclass
class Lab:
    url: str
    token: str
    process: subprocess.Popen[bytes]
    started: float

    def api(self, path: str, method: str = "GET", body: object | None = None) -> object:
        request = urllib.request.Request(
            f"{self.url}/{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None

    def first_search(self, query: str) -> tuple[float, list[dict]]:
        """Seconds from the server's start until a search for `query` has hits."""
        deadline = self.started + READY_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("jupyter lab exited")
            with contextlib.suppress(urllib.error.URLError, ConnectionError, OSError):
                found = self.api(f"workspace/api/search?q={urllib.parse.quote(query)}&k=5")
                hits = found["results"] if isinstance(found, dict) else []
                if hits:
                    return time.perf_counter() - self.started, hits
            if time.perf_counter() > deadline:
                raise TimeoutError(f"no search hit for {query!r} in {READY_TIMEOUT_S} s")
            time.sleep(0.1)

    def tree_rss(self) -> dict[str, int]:
        """RSS in bytes of the server and every process below it (sidecar, kernels)."""
        return {f"{pid} {name}": rss for pid, name, rss in _tree(self.process.pid)}


def _tree(root: int) -> list[tuple[int, str, int]]:
    """(pid, command name, RSS bytes) of `root` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        with contextlib.suppress(OSError):
            name = Path(f"/proc/{pid}/comm").read_text().strip()
            rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
            found.append((pid, name, rss))
        todo.extend(children.get(pid, []))
    return found


def main() -> None:
    work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd() / "binder-sim"
    binder = Binder(work)
    binder.build()
    with binder.launch() as lab:
        took, hits = lab.first_search("PID anti-windup")
        print(f"first search hit after {took:.1f} s: {hits[0]['path']}")
        print(f"RSS: {sum(lab.tree_rss().values()) / 2**20:.0f} MB")
    for name, seconds in binder.timings.items():
        print(f"{name}: {seconds:.1f} s")


if __name__ == "__main__":
    main()
