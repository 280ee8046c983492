"""Fresh-machine figures for the two commands: `./dev start` to a usable page, `./dev test` set-up,
the wheel.

The checkout's working tree (tracked and untracked files, nothing ignored: no `.venv`, no built
extension, no node_modules) is copied to a temp folder, so the first run is a first run. pip's
and yarn's caches point into that folder too (cold, as on a new machine); the interpreter is the
distribution's `/usr/bin/python3` when there is one (externally managed), else `python3`.

1. `./dev start ROOT` first run: process start to the first 200 of `/lab` and of
   `/workspace/api/status` (the page is usable), and to the AI sidecar `ready`.
2. the same, second run (everything installed).
3. `./dev test --collect-only` with everything installed: its own "ready for pytest after N s".
4. `./dev wheel`: build time and the wheel's size; `.venv`'s size.

Knob: BENCH_SETUP_KEEP=1 keeps the temp folder. Takes ~10 minutes (the first run installs
everything, torch included).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import free_port, table

REPO = Path(__file__).resolve().parent.parent


def copy_worktree(dest: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        src = REPO / name.decode()
        if not src.is_file():
            continue
        target = dest / name.decode()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)


def fresh_env(work: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    }
    if os.path.exists("/usr/bin/python3"):
        env["PATH"] = "/usr/bin:" + env.get("PATH", "")
    env.update(
        PIP_CACHE_DIR=str(work / "pip-cache"),
        YARN_CACHE_FOLDER=str(work / "yarn-cache"),
        YARN_ENABLE_GLOBAL_CACHE="false",
        JUPYTER_RUNTIME_DIR=str(work / "runtime"),
    )
    return env


def poll(url: str, token: str) -> dict | None:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            body = response.read()
            return json.loads(body) if "json" in response.headers.get("Content-Type", "") else {}
    except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
        return None


def dev_start(checkout: Path, root: Path, env: dict[str, str], log: Path) -> dict[str, float]:
    port, token = free_port(), "bench-setup-token"
    base = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                str(checkout / "dev"),
                "start",
                str(root),
                f"--ServerApp.port={port}",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.token={token}",
                "--ServerApp.open_browser=False",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    marks: dict[str, float] = {}
    try:
        while time.monotonic() - t0 < 1800:
            if proc.poll() is not None:
                raise SystemExit(f"./dev start exited {proc.returncode}: see {log}")
            if "page" not in marks:
                if (
                    poll(f"{base}/lab", token) is not None
                    and poll(f"{base}/workspace/api/status", token) is not None
                ):
                    marks["page"] = time.monotonic() - t0
            else:
                status = poll(f"{base}/workspace/api/status", token) or {}
                if status.get("sidecar", {}).get("state") == "ready":
                    marks["sidecar"] = time.monotonic() - t0
                    break
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
    return marks


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-setup-"))
    try:
        checkout = work / "checkout"
        copy_worktree(checkout)
        root = work / "project"
        root.mkdir()
        (root / "main.c").write_text("int main(void) { return 0; }\n")
        env = fresh_env(work)
        python = subprocess.run(
            ["python3", "-c", "import sys; print(sys.executable)"],
            env=env,
            capture_output=True,
            text=True,
        ).stdout.strip()
        log = work / "dev.log"
        print(
            f"fresh copy of the working tree in {checkout}; python3 = {python}; log: {log}",
            flush=True,
        )

        first = dev_start(checkout, root, env, log)
        print(f"first run: {first}", flush=True)
        second = dev_start(checkout, root, env, log)
        print(f"second run: {second}", flush=True)

        t0 = time.monotonic()
        out = subprocess.run(
            [str(checkout / "dev"), "test", "--collect-only", "-q", "tests/test_dev.py"],
            env=env,
            capture_output=True,
            text=True,
        )
        collect = time.monotonic() - t0
        ready = re.search(r"ready for pytest after (\d+) s", out.stderr)

        t0 = time.monotonic()
        built = subprocess.run(
            [str(checkout / "dev"), "wheel"], env=env, capture_output=True, text=True
        )
        wheel_s = time.monotonic() - t0
        wheel = Path(built.stdout.strip().splitlines()[-1]) if built.returncode == 0 else None
        wheel = checkout / wheel if wheel and not wheel.is_absolute() else wheel

        def secs(marks: dict[str, float], key: str) -> str:
            return f"{marks[key]:.1f} s" if key in marks else "not reached"

        rows = [
            ["./dev start, first run: page usable", secs(first, "page")],
            ["./dev start, first run: AI sidecar ready", secs(first, "sidecar")],
            ["./dev start, second run: page usable", secs(second, "page")],
            ["./dev start, second run: AI sidecar ready", secs(second, "sidecar")],
            [
                "./dev test set-up before pytest (installed)",
                f"{ready.group(1) if ready else '?'} s (whole --collect-only run {collect:.1f} s)",
            ],
            ["./dev wheel (extension reused)", f"{wheel_s:.0f} s"],
            ["wheel size", f"{wheel.stat().st_size / 2**20:.2f} MiB" if wheel else "build failed"],
            [".venv size", f"{du(checkout / '.venv') / 2**30:.2f} GiB"],
        ]
        print()
        print(f"python3: {python}; pip and yarn caches cold for the first run")
        print(table(["what", "figure"], rows))
    finally:
        if os.environ.get("BENCH_SETUP_KEEP"):
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
