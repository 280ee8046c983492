"""Start-up: the extension's cost to a server's start (1), and a newcomer's first use (2).

Section 1: Jupyter server start-to-ready time with the workspace extension enabled vs disabled.

Each round starts a fresh `jupyter server` subprocess (fresh temp root dir, so the enabled runs
also pay for creating and migrating the SQLite database) and polls every ~20 ms:
  ready     = first 200 from GET /api/status
  workspace = first 200 from GET /workspace/api/status (enabled runs only)
Variants alternate (disabled, enabled, enabled, disabled, ...) so drift on this noisy machine
hits both alike; one discarded warm-up round of each comes first (page cache, .pyc files).
Each server is stopped with SIGTERM (jupyter_server's clean shutdown) and that is timed too.

Section 2 (startup_first_use.py): `jupyter workspace` on a fresh copy of a real project, to a
usable page in headless Chromium and to the first search with a hit.

Prints figures only; it asserts nothing about timings. Knobs: BENCH_STARTUP_SECTIONS (`1,2`),
BENCH_STARTUP_ROUNDS (section 1, 7), BENCH_STARTUP_FIRST_USE_RUNS (section 2, 3).
"""

from __future__ import annotations

import os
import sys
import time

import startup_first_use
from _harness import Server, get_status, median, table

SECTIONS = os.environ.get("BENCH_STARTUP_SECTIONS", "1,2").split(",")
ROUNDS = int(os.environ.get("BENCH_STARTUP_ROUNDS", "7"))
FIRST_USE_RUNS = int(os.environ.get("BENCH_STARTUP_FIRST_USE_RUNS", "3"))
STATUS = "/api/status"
WS_STATUS = "/workspace/api/status"


def one_run(enabled: bool) -> dict[str, float]:
    server = Server(workspace=enabled)
    try:
        server.start()
        paths = [STATUS, WS_STATUS] if enabled else [STATUS]
        ready = server.wait_ready(paths)
        if not enabled:
            # Check the variant really is what it claims: the extension's route must not exist.
            code = get_status(server.port, WS_STATUS, server.token)
            if code != 404:
                raise RuntimeError(f"disabled run: {WS_STATUS} answered {code}, expected 404")
        server.stop(keep_tmp=True)
        if enabled and not (server.root / ".jupyter-workspace" / "workspace.sqlite").exists():
            raise RuntimeError("enabled run created no workspace database")
        if server.returncode not in (0, None):
            print(
                f"[bench] server exited with {server.returncode}:\n{server.log_tail()}",
                file=sys.stderr,
            )
        result = {"ready": ready[STATUS], "stop": server.exit_seconds or float("nan")}
        if enabled:
            result["workspace"] = ready[WS_STATUS]
        return result
    finally:
        server.stop()


def main() -> None:
    if "1" in SECTIONS:
        extension_cost()
    if "2" in SECTIONS:
        startup_first_use.run(FIRST_USE_RUNS)


def extension_cost() -> None:
    print(
        f"bench_startup: {ROUNDS} rounds per variant, alternating; "
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )
    for enabled in (False, True):  # warm-up, discarded
        one_run(enabled)
    runs: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    t_all = time.perf_counter()
    for i in range(ROUNDS):
        order = (False, True) if i % 2 == 0 else (True, False)
        for enabled in order:
            r = one_run(enabled)
            runs[enabled].append(r)
            extra = f"  workspace/api/status {r['workspace']:.3f}s" if enabled else ""
            print(
                f"  round {i + 1} {'enabled ' if enabled else 'disabled'}: "
                f"/api/status {r['ready']:.3f}s{extra}  stop {r['stop']:.3f}s",
                flush=True,
            )

    def col(enabled: bool, key: str) -> list[float]:
        return [r[key] for r in runs[enabled]]

    d_ready, e_ready = col(False, "ready"), col(True, "ready")
    e_ws = col(True, "workspace")
    rows = [
        [
            "disabled: /api/status 200",
            f"{median(d_ready):.3f}",
            f"{min(d_ready):.3f}",
            f"{max(d_ready):.3f}",
            "1.00",
        ],
        [
            "enabled: /api/status 200",
            f"{median(e_ready):.3f}",
            f"{min(e_ready):.3f}",
            f"{max(e_ready):.3f}",
            f"{median(e_ready) / median(d_ready):.2f}",
        ],
        [
            "enabled: /workspace/api/status 200",
            f"{median(e_ws):.3f}",
            f"{min(e_ws):.3f}",
            f"{max(e_ws):.3f}",
            f"{median(e_ws) / median(d_ready):.2f}",
        ],
        [
            "disabled: SIGTERM to exit",
            f"{median(col(False, 'stop')):.3f}",
            f"{min(col(False, 'stop')):.3f}",
            f"{max(col(False, 'stop')):.3f}",
            "1.00",
        ],
        [
            "enabled: SIGTERM to exit",
            f"{median(col(True, 'stop')):.3f}",
            f"{min(col(True, 'stop')):.3f}",
            f"{max(col(True, 'stop')):.3f}",
            f"{median(col(True, 'stop')) / median(col(False, 'stop')):.2f}",
        ],
    ]
    # Paired ratios: each enabled run against the disabled run of the same round.
    paired = sorted(e / d for e, d in zip(e_ready, d_ready, strict=True))
    print()
    print(f"Summary ({ROUNDS} rounds each, {time.perf_counter() - t_all:.0f} s)")
    print(table(["seconds from spawn", "median", "min", "max", "ratio (median) vs disabled"], rows))
    print()
    print(
        "ratio enabled/disabled, /api/status ready: "
        f"median {median(e_ready) / median(d_ready):.3f}x, "
        f"min {min(e_ready) / min(d_ready):.3f}x, per-round paired median "
        f"{median(paired):.3f}x (range {paired[0]:.2f}-{paired[-1]:.2f}); goal <= 1.1x"
    )


if __name__ == "__main__":
    main()
