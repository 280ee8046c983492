"""Which paths under the served root the workspace looks at.

Skips the workspace's own state dir, `.git/`, and whatever `.gitignore` files (the root's and
nested ones, with git's semantics via pathspec) exclude. The watcher uses it now; the indexer
will use the same rules.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pathspec

ALWAYS_SKIPPED = {".git", ".hg", ".svn", ".ipynb_checkpoints", "__pycache__", "node_modules"}


class IgnoreRules:
    def __init__(self, root: Path, state_dir: Path) -> None:
        self.root = root.resolve()
        self._state_rel = _relative(self.root, state_dir.resolve())
        # dir (root-relative, "" for the root) -> (mtime of its .gitignore, spec or None)
        self._specs: dict[str, tuple[float | None, pathspec.PathSpec | None]] = {}

    def ignored(self, rel: str) -> bool:
        """True if the root-relative POSIX path `rel` is outside what the workspace watches."""
        path = PurePosixPath(rel)
        parts = path.parts
        if not parts:
            return False
        if any(part in ALWAYS_SKIPPED for part in parts):
            return True
        if self._state_rel is not None and (
            rel == self._state_rel or rel.startswith(self._state_rel + "/")
        ):
            return True
        # Check each ancestor directory's .gitignore against the path relative to it.
        for depth in range(len(parts)):
            directory = "/".join(parts[:depth])
            spec = self._spec(directory)
            if spec is None:
                continue
            below = "/".join(parts[depth:])
            if spec.match_file(below):
                return True
            # A file inside an ignored directory (pattern "build/") must be ignored too.
            for i in range(depth + 1, len(parts)):
                if spec.match_file("/".join(parts[depth:i]) + "/"):
                    return True
        return False

    def _spec(self, directory: str) -> pathspec.PathSpec | None:
        file = self.root / directory / ".gitignore"
        try:
            mtime: float | None = file.stat().st_mtime
        except OSError:
            mtime = None
        cached = self._specs.get(directory)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        spec = None
        if mtime is not None:
            try:
                lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
                spec = pathspec.GitIgnoreSpec.from_lines(lines)
            except OSError:
                spec = None
        self._specs[directory] = (mtime, spec)
        return spec


def _relative(root: Path, path: Path) -> str | None:
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        return None
    return None if rel in ("", ".") else rel

