"""The process boundaries hold: each process's package imports only itself and the shared
modules, and what crosses a boundary is named once, in protocol.py, with the labextension
speaking the same names."""

import ast
import re
import sys
from pathlib import Path

import pytest

from jupyter_workspace import protocol

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "jupyter_workspace"
SRC = ROOT / "labextension" / "src"
# A file's folder says which process runs it.
PROCESSES = ("server", "sidecar", "kernel", "headless")
# headless/ (`jupyter workspace index`: no Jupyter server, no sidecar process) is its own process
# that composes the server's file rules with the sidecar's index service; nothing imports it.
MAY_IMPORT = {"headless": {"server", "sidecar"}}
# Modules every process may import: pure code and constants, nothing heavy.
SHARED = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "_version"))


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module the file at `path` imports, as (line, absolute dotted name)."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    return imports_of(path.read_text(encoding="utf-8"), package)


def imports_of(source: str, package: tuple[str, ...]) -> list[tuple[int, str]]:
    """Function-local imports and relative forms included; `from x import y` counts as
    importing `x.y` too, since y may be a module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def process_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "jupyter_workspace" and len(parts) > 1 and parts[1] in PROCESSES:
        return parts[1]
    return None


def test_no_process_package_imports_another():
    crossings = []
    for process in PROCESSES:
        for path in sorted((PACKAGE / process).rglob("*.py")):
            for line, module in imported_modules(path):
                other = process_of(module)
                if (
                    other is not None
                    and other != process
                    and other not in MAY_IMPORT.get(process, ())
                ):
                    crossings.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not crossings, (
        "server/, sidecar/ and kernel/ run in different processes and import only themselves "
        "and the shared modules ("
        + ", ".join(SHARED)
        + "); move shared pure code there:\n"
        + "\n".join(crossings)
    )


def test_shared_modules_import_only_the_standard_library_and_each_other():
    allowed = set(sys.stdlib_module_names) | {"jupyter_workspace"}
    bad = []
    for name in SHARED:
        path = PACKAGE / f"{name}.py"
        for line, module in imported_modules(path):
            top = module.split(".")[0]
            inside = module.startswith("jupyter_workspace.")
            if top not in allowed or (inside and module.split(".")[1] not in SHARED):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not bad, "every process imports the shared modules: keep them light\n" + "\n".join(bad)


def test_the_import_check_sees_every_form():
    """Relative, absolute and function-local imports across a boundary are all caught."""
    source = (
        "from ..sidecar.chunker import EXTENSIONS\n"
        "from .. import kernel\n"
        "import jupyter_workspace.sidecar.llm\n"
        "def f():\n"
        "    from jupyter_workspace.kernel import magics\n"
        "from .. import protocol\n"
        "from .store import Store\n"
    )
    crossings = {
        (line, process_of(module))
        for line, module in imports_of(source, ("jupyter_workspace", "server"))
        if process_of(module) not in (None, "server")
    }
    assert crossings == {(1, "sidecar"), (2, "kernel"), (3, "sidecar"), (5, "kernel")}


def _one_file(pattern: str) -> Path:
    found = sorted(SRC.glob(pattern))
    assert len(found) == 1, f"expected one labextension/src/{pattern}, found {found}"
    return found[0]


def _event_union(source: str) -> str:
    match = re.search(r"export type WorkspaceEvent\s*=(.*?)(?=\nexport |\Z)", source, re.S)
    assert match, "events.ts no longer declares `export type WorkspaceEvent = ...`"
    return match.group(1)


def test_the_labextension_knows_the_event_types_protocol_names():
    events_ts = _one_file("**/events.ts")
    union = _event_union(events_ts.read_text(encoding="utf-8"))
    in_ts = set()
    for literals in re.findall(r"\btype:\s*((?:'[^']*'\s*\|?\s*)+)", union):
        in_ts |= set(re.findall(r"'([^']*)'", literals))
    in_protocol = set(protocol.EVENTS)
    assert in_ts == in_protocol, (
        f"{events_ts.relative_to(ROOT)}'s WorkspaceEvent and protocol.EVENTS differ: "
        f"only in protocol.py: {sorted(in_protocol - in_ts)}; "
        f"only in events.ts: {sorted(in_ts - in_protocol)}"
    )


def test_every_event_type_has_its_entry_in_protocol_events():
    names = {
        value
        for name, value in vars(protocol).items()
        if name.isupper() and isinstance(value, str) and re.fullmatch(r"[a-z]+\.[a-z]+", value)
    }
    assert names | {protocol.HELLO, protocol.PONG} == set(protocol.EVENTS)


def test_the_labextension_uses_protocols_api_prefix_and_mime_types():
    request_ts = _one_file("**/request.ts").read_text(encoding="utf-8")
    prefix = re.search(r"export const API_PREFIX = '([^']*)'", request_ts)
    assert prefix and prefix.group(1) == protocol.API_PREFIX.strip("/")
    mimes = set()
    for path in SRC.rglob("*.ts*"):
        mimes |= set(re.findall(r"'(application/vnd\.jupyter-workspace\.[^']*)'", path.read_text()))
    assert mimes == {protocol.RESULTS_MIME, protocol.MARKDOWN_MIME, protocol.ANSWER_MIME}


def _ts_union(name: str) -> set[str]:
    """The string literals of `export type <name> = 'a' | 'b' ...` wherever it is declared."""
    for path in sorted(SRC.rglob("*.ts*")):
        match = re.search(rf"export type {name}\s*=\s*((?:\|?\s*'[^']*'\s*)+);", path.read_text())
        if match:
            return set(re.findall(r"'([^']*)'", match.group(1)))
    raise AssertionError(f"no `export type {name} = ...` of string literals in labextension/src")


@pytest.mark.parametrize(
    ("ts_type", "values"),
    [
        ("Priority", protocol.PRIORITIES),
        ("SearchMode", protocol.SEARCH_MODES),
        ("SidecarStateName", protocol.SIDECAR_STATES),
        ("LLMStateName", protocol.LLM_STATES),
        # a cancelled answer ends with chat.done (`cancelled`), never with chat.error
        ("ChatErrorKind", tuple(k for k in protocol.ERROR_KINDS if k != "cancelled")),
    ],
)
def test_the_labextensions_value_types_are_protocols(ts_type, values):
    assert _ts_union(ts_type) == set(values), f"labextension's {ts_type} differs from protocol.py"
