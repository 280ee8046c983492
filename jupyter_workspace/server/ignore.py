"""Which paths under the served root the workspace looks at.

Skips the workspace's own state dir, `.git/`, whatever `.gitignore` files (the root's and
nested ones, with git's semantics via pathspec) exclude, and what must never reach the index
(which may ground a remote LLM): hidden files and folders, as Jupyter's contents API hides them
unless `allow_hidden`, and secret-looking files (keys, credentials, `.env`) even then. The
watcher asks about one path at a time (`ignored`); the catalog's scan walks down the tree with
`top`, `descend` and `ignored_in`, so each directory's `.gitignore` is looked at once per scan.
Both go through the same three methods, so they cannot disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import NamedTuple

import pathspec

ALWAYS_SKIPPED = {".git", ".hg", ".svn", ".ipynb_checkpoints", "__pycache__", "node_modules"}

# gitignore-style patterns of files that hold secrets: never indexed, hidden or not. SSH keys
# by name (`id_rsa*`, ...), not `id_*`, which would hide source files such as `id_map.c`.
DEFAULT_SECRET_PATTERNS = (
    ".env*",
    ".netrc",
    "_netrc",
    ".pgpass",
    ".npmrc",
    ".pypirc",
    "*credentials*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "*.ovpn",
    "*.tfstate",
    "*.tfstate.*",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".ssh/",
    ".gnupg/",
    ".aws/",
    "**/.docker/config.json",
    "**/.kube/config",
)


class Level(NamedTuple):
    """A directory being looked into, with the `.gitignore` specs that apply to its entries."""

    rel: str  # root-relative POSIX path, "" for the root
    # (offset, spec) for the directory and each ancestor with a .gitignore, root first;
    # `path[offset:]` is a root-relative path made relative to that spec's directory
    specs: tuple[tuple[int, pathspec.PathSpec], ...]


class IgnoreRules:
    def __init__(
        self,
        root: Path,
        state_dir: Path,
        allow_hidden: bool = False,
        secret_patterns: Iterable[str] = DEFAULT_SECRET_PATTERNS,
    ) -> None:
        self.root = root.resolve()
        self.allow_hidden = allow_hidden
        self._secret = _any_of(list(secret_patterns))
        self._state_rel = _relative(self.root, state_dir.resolve())
        self._state_prefix = None if self._state_rel is None else self._state_rel + "/"
        # dir (root-relative, "" for the root) -> (mtime of its .gitignore, spec or None)
        self._specs: dict[str, tuple[float | None, pathspec.PathSpec | None]] = {}

    def ignored(self, rel: str) -> bool:
        """True if the root-relative POSIX path `rel` is outside what the workspace watches."""
        parts = PurePosixPath(rel).parts
        if not parts:
            return False
        level = self.top()
        for name in parts[:-1]:
            below = self.descend(level, name)
            if below is None:
                return True
            level = below
        return self.ignored_in(level, parts[-1])

    def private(self, rel: str) -> bool:
        """True if the root-relative path is hidden, holds secrets (by name or in a folder that
        does) or is the workspace's own state: never copied anywhere, whatever the gitignore
        says. Unlike `ignored`, a gitignored file is not private (its unsaved edits are work)."""
        parts = PurePosixPath(rel).parts
        if any(self._hidden(part) for part in parts) or self._in_state_dir(rel):
            return True
        folders = ("/".join(parts[:i]) + "/" for i in range(1, len(parts)))
        return self._secret(rel) or any(self._secret(folder) for folder in folders)

    def top(self) -> Level:
        """The root, as the start of a walk down the tree."""
        return self._level("", ())

    def ignored_in(self, level: Level, name: str) -> bool:
        """True if the entry `name` of the directory `level` is ignored (file or directory)."""
        if name in ALWAYS_SKIPPED or self._hidden(name):
            return True
        rel = f"{level.rel}/{name}" if level.rel else name
        if self._in_state_dir(rel) or self._secret(rel):
            return True
        return any(spec.match_file(rel[offset:]) for offset, spec in level.specs)

    def descend(self, level: Level, name: str) -> Level | None:
        """The subdirectory `name` of `level`, or None if everything inside it is ignored.

        Doesn't decide whether the directory itself is ignored (`ignored_in` does): a pattern
        like "build/" matches only "build/..." paths, so "build" is looked into but all it holds
        is ignored.
        """
        if name in ALWAYS_SKIPPED or self._hidden(name):
            return None
        rel = f"{level.rel}/{name}" if level.rel else name
        if self._in_state_dir(rel):
            return None
        # A file inside an ignored directory (pattern "build/") is ignored too.
        below = rel + "/"
        if self._secret(below) or any(
            spec.match_file(below[offset:]) for offset, spec in level.specs
        ):
            return None
        return self._level(rel, level.specs)

    def _level(self, rel: str, inherited: tuple[tuple[int, pathspec.PathSpec], ...]) -> Level:
        spec = self._spec(rel)
        if spec is None:
            return Level(rel, inherited)
        return Level(rel, (*inherited, (len(rel) + 1 if rel else 0, spec)))

    def _hidden(self, name: str) -> bool:
        """Hidden as Jupyter's contents API sees it (a leading dot), unless allowed."""
        return not self.allow_hidden and name.startswith(".")

    def _in_state_dir(self, rel: str) -> bool:
        return self._state_prefix is not None and (
            rel == self._state_rel or rel.startswith(self._state_prefix)
        )

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


def _any_of(patterns: list[str]) -> Callable[[str], bool]:
    """Whether a root-relative path matches any of these gitignore patterns: one regex for all
    (a scan asks for every file; pathspec tries each pattern in turn, 0.1 s per 10,000 files
    with the default secret patterns), or pathspec itself when one pattern negates another."""
    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    if any(p.include is False for p in spec.patterns):
        return spec.match_file
    regexes = [
        _NAMED_GROUP.sub("(?:", p.regex.pattern) for p in spec.patterns if p.include and p.regex
    ]
    if not regexes:
        return lambda rel: False
    try:
        combined = re.compile("|".join(f"(?:{r})" for r in regexes))
    except re.error:
        return spec.match_file
    return lambda rel: combined.match(rel) is not None


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


def _relative(root: Path, path: Path) -> str | None:
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        return None
    return None if rel in ("", ".") else rel
