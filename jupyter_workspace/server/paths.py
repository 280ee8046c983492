"""Confinement of user-given paths to the served root.

Compare resolved path *components*, never string prefixes: a prefix test lets `/data-secret`
pass for root `/data`. Symlinks are resolved, so a link pointing out of the root is refused.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from .errors import BadRequest

MAX_PATH_CHARS = 4096


def confine(root: Path, raw: object, name: str = "path") -> str:
    """Return `raw` as a normalised root-relative POSIX path, or raise BadRequest."""
    if not isinstance(raw, str) or not raw.strip():
        raise BadRequest(f"'{name}' must be a non-empty path relative to the served root")
    if "\x00" in raw or len(raw) > MAX_PATH_CHARS:
        raise BadRequest(f"'{name}' is not a valid path")
    candidate = PurePosixPath(raw)
    if candidate.is_absolute():
        raise BadRequest(f"'{name}' must be relative to the served root, not absolute: {raw}")
    if ".." in candidate.parts:
        raise BadRequest(f"'{name}' must stay inside the served root ('..' is not allowed)")
    real_root = root.resolve()
    try:
        target = (real_root / candidate).resolve()
    except (OSError, RuntimeError):  # symlink loops
        raise BadRequest(f"'{name}' cannot be resolved: {raw}") from None
    if not target.is_relative_to(real_root):
        raise BadRequest(f"'{name}' leads outside the served root: {raw}")
    relative = candidate.as_posix()
    if relative in ("", "."):
        raise BadRequest(f"'{name}' must name a file inside the served root")
    return relative
