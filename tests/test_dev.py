"""`./dev` makes and owns a virtual environment, so it works where python3 is externally managed.

Each test copies the script into a folder of its own (it works in the folder it lives in), so
the project's real `.venv` is never touched; apt-get, sudo and uv are fakes that log their
arguments, on a PATH that hides the real ones.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# the interpreter this suite's environment was made from (what `PYTHON=` would name)
BASE_PYTHON = os.path.realpath(getattr(sys, "_base_executable", sys.executable))


def run_dev(
    folder: Path, *args: str, env: dict[str, str], check: bool = True, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(folder / "dev"), *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    if check and proc.returncode != 0:
        pytest.fail(f"./dev {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture
def sandbox(tmp_path):
    """A folder holding a copy of `dev`, a bin/ of fakes, and a clean environment for it."""
    folder = tmp_path / "checkout"
    folder.mkdir()
    shutil.copy2(REPO / "dev", folder / "dev")
    fakes = tmp_path / "fakebin"
    fakes.mkdir()
    log = tmp_path / "calls.log"
    # a sudo that just runs the command (the suite may run as root or not)
    write_fake(fakes, "sudo", 'exec "$@"')
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHON", "PYTHONPATH", "PYTHONHOME")
    }
    env["PATH"] = os.pathsep.join([str(fakes), "/usr/bin", "/bin"])
    env["FAKE_LOG"] = str(log)
    if shutil.which("uv", path=env["PATH"]):
        pytest.skip("a real uv on /usr/bin would be used instead of the venv module")
    return folder, fakes, log, env


def write_fake(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f'#!/bin/sh\necho "{name} $*" >> "$FAKE_LOG"\n{body}\n')
    path.chmod(0o755)


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def is_venv_of(venv: Path, base: str) -> bool:
    out = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import os, sys; print(sys.prefix != sys.base_prefix, "
            "os.path.realpath(sys._base_executable))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out[0] == "True" and os.path.realpath(out[1]) == os.path.realpath(base)


def test_dev_makes_its_own_venv_once_and_keeps_it(sandbox):
    folder, _fakes, log, env = sandbox
    env["PYTHON"] = BASE_PYTHON
    first = run_dev(folder, "venv", env=env)
    venv = folder / ".venv"
    assert first.stdout.strip() == str(venv)
    assert "making" in first.stderr
    assert is_venv_of(venv, BASE_PYTHON)
    # pip works in it, whatever PEP 668 says of the interpreter it was made from
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "--version"], check=True, capture_output=True
    )
    made = (venv / "pyvenv.cfg").stat().st_mtime_ns

    again = run_dev(folder, "venv", env=env)
    assert again.stdout.strip() == str(venv)
    assert "making" not in again.stderr
    assert (venv / "pyvenv.cfg").stat().st_mtime_ns == made
    assert calls(log) == []  # nothing asked of apt-get


def test_dev_uses_an_active_virtual_env_as_is(sandbox, tmp_path):
    folder, _fakes, _log, env = sandbox
    theirs = tmp_path / "theirs"
    subprocess.run([BASE_PYTHON, "-m", "venv", "--without-pip", str(theirs)], check=True)
    env["VIRTUAL_ENV"] = str(theirs)
    out = run_dev(folder, "venv", env=env)
    assert out.stdout.strip() == str(theirs)
    assert not (folder / ".venv").exists()


def test_dev_refuses_a_broken_active_virtual_env(sandbox, tmp_path):
    folder, _fakes, _log, env = sandbox
    env["VIRTUAL_ENV"] = str(tmp_path / "gone")
    out = run_dev(folder, "venv", env=env, check=False)
    assert out.returncode != 0
    assert "has no bin/python" in out.stderr
    assert not (folder / ".venv").exists()


def without_ensurepip(tmp_path: Path, env: dict[str, str]) -> Path:
    """The base interpreter as Debian's python3 without python3-venv: `import ensurepip`
    fails (a module of that name first on PYTHONPATH). Returns the folder holding it."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "ensurepip.py").write_text("raise ImportError('no ensurepip (python3-venv)')\n")
    env["PYTHONPATH"] = str(shadow)
    env["PYTHON"] = BASE_PYTHON
    return shadow


def test_dev_installs_the_missing_venv_module_with_apt(sandbox, tmp_path):
    """Debian's python3 without python3-venv: `import ensurepip` fails until apt installs it."""
    folder, fakes, log, env = sandbox
    shadow = without_ensurepip(tmp_path, env)
    # the fake apt-get "installs" the package by lifting the shadow
    write_fake(fakes, "apt-get", f'[ "$1" = install ] && rm -f {shadow}/ensurepip.py; exit 0')
    out = run_dev(folder, "venv", env=env)
    version = "{}.{}".format(*sys.version_info[:2])
    assert f"lacks the venv module (Debian/Ubuntu package python{version}-venv)" in out.stderr
    apt = [c for c in calls(log) if c.startswith("apt-get")]
    assert apt[0] == "apt-get update -q"
    assert apt[1].startswith("apt-get install") and apt[1].endswith(f"python{version}-venv")
    assert is_venv_of(folder / ".venv", BASE_PYTHON)


def test_dev_says_so_when_apt_cannot_help(sandbox, tmp_path):
    folder, fakes, log, env = sandbox
    without_ensurepip(tmp_path, env)
    write_fake(fakes, "apt-get", '[ "$1" = install ] && exit 100; exit 0')
    out = run_dev(folder, "venv", env=env, check=False)
    assert out.returncode != 0
    assert "could not install python" in out.stderr
    assert not (folder / ".venv" / "bin" / "python").exists()


def test_dev_makes_the_venv_with_uv_when_installed(sandbox):
    folder, fakes, log, env = sandbox
    env["PYTHON"] = BASE_PYTHON
    # a uv that makes the venv the standard way: what matters is that ./dev asks it to
    write_fake(
        fakes,
        "uv",
        'while [ $# -gt 1 ]; do [ "$1" = --python ] && py=$2; shift; done\nexec "$py" -m venv "$1"',
    )
    out = run_dev(folder, "venv", env=env)
    assert "with uv" in out.stderr
    uv = [c for c in calls(log) if c.startswith("uv ")]
    assert uv == [f"uv venv --quiet --seed --python {BASE_PYTHON} {folder / '.venv'}"]
    assert is_venv_of(folder / ".venv", BASE_PYTHON)


def test_dev_makes_the_venv_again_for_another_python(sandbox, tmp_path):
    folder, _fakes, _log, env = sandbox
    env["PYTHON"] = BASE_PYTHON
    run_dev(folder, "venv", env=env)
    (folder / ".venv" / ".dev-base").write_text("/opt/some/other/python3\n")
    out = run_dev(folder, "venv", env=env)
    assert "is not the interpreter .venv was made from" in out.stderr
    assert (folder / ".venv" / ".dev-base").read_text().strip() == BASE_PYTHON
    # without PYTHON=, an existing environment is kept whatever it was made from
    (folder / ".venv" / ".dev-base").write_text("/opt/some/other/python3\n")
    del env["PYTHON"]
    out = run_dev(folder, "venv", env=env)
    assert "making" not in out.stderr


def test_the_suite_runs_in_a_virtual_env():
    """./dev test runs pytest from the environment it made, never from a system interpreter."""
    assert sys.prefix != sys.base_prefix
    assert os.environ.get("VIRTUAL_ENV") == sys.prefix


@pytest.mark.skipif(
    not os.environ.get("CI") or not Path("/usr/bin/python3").exists(),
    reason="CI runs the suite from the distribution's python3",
)
def test_ci_sees_the_distributions_python():
    """.ci/run puts /usr/bin first: the externally managed interpreter is what ./dev gets."""
    assert os.path.realpath(BASE_PYTHON) == os.path.realpath("/usr/bin/python3")
