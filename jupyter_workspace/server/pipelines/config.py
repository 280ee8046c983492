"""`workspace.toml`: the pipelines it declares, parsed from exactly the bytes that were hashed.

What runs is checked against the SHA-256 of the bytes read (the manager keeps the hash a user
approved), so a reading keeps the parse and the hash together (`ConfigState`). A wrong file is
a `ConfigError` naming its line, never an exception out of the server.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_NAME = "workspace.toml"
MAX_CONFIG_BYTES = 1024 * 1024
DEFAULT_TIMEOUT = 3600.0
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
KEYS = {"command", "cwd", "env", "timeout", "watch", "debounce", "description"}


@dataclass
class Pipeline:
    name: str
    command: str | list[str]
    cwd: str = ""
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    watch: list[str] = field(default_factory=list)
    debounce: float = 1.0
    description: str = ""

    def argv(self) -> list[str]:
        return (
            ["/bin/sh", "-c", self.command] if isinstance(self.command, str) else list(self.command)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "command": self.command,
            "cwd": self.cwd,
            "env": self.env,
            "timeout": self.timeout,
            "watch": self.watch,
            "debounce": self.debounce,
            "description": self.description,
        }


@dataclass(frozen=True)
class ConfigState:
    """One reading of `workspace.toml`: the pipelines parsed from exactly the bytes hashed."""

    key: tuple[int, ...] | None  # the file's stat identity; None when there is no file
    pipelines: dict[str, Pipeline]
    error: ConfigError | None
    hash: str | None  # SHA-256 of the bytes read; None when there is no file to read


@dataclass(frozen=True)
class Approval:
    hash: str
    by: str | None
    at: str


class ConfigError(Exception):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def parse_config(text: str) -> dict[str, Pipeline]:
    """The pipelines of a `workspace.toml`; ConfigError names the line that is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column \d+\)", str(e))
        raise ConfigError(
            f"{CONFIG_NAME} is not valid TOML: {e}", int(m.group(1)) if m else None
        ) from None
    tables = data.get("pipelines", {})
    if not isinstance(tables, dict):
        raise ConfigError(
            "'pipelines' must be a table: [pipelines.<name>]", _line_of(text, r"^\s*pipelines\s*=")
        )
    pipelines = {}
    for name, spec in tables.items():
        line = _line_of(text, rf"^\s*\[\s*pipelines\s*\.\s*\"?{re.escape(name)}\"?\s*\]")
        try:
            pipelines[name] = _pipeline(name, spec)
        except ConfigError as e:
            raise ConfigError(f"pipeline '{name}': {e.message}", line) from None
    return pipelines


def read_config(path: Path, key: tuple[int, ...], previous: ConfigState) -> ConfigState:
    """Read and parse the config at `path` (its stat identity is `key`); the same bytes as
    `previous` keep what was parsed from them."""
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)  # read on every run and list: bounded
    except OSError as e:
        return ConfigState(
            key, {}, ConfigError(f"cannot read {CONFIG_NAME}: {e.strerror or e}"), None
        )
    digest = hashlib.sha256(raw).hexdigest()
    if digest == previous.hash:
        return ConfigState(key, previous.pipelines, previous.error, digest)
    pipelines: dict[str, Pipeline] = {}
    error = None
    try:
        if len(raw) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{CONFIG_NAME} is larger than 1 MB")
        pipelines = parse_config(raw.decode("utf-8"))
    except UnicodeDecodeError:
        error = ConfigError(f"{CONFIG_NAME} is not UTF-8 text")
    except ConfigError as e:
        error = e
    return ConfigState(key, pipelines, error, digest)


def _pipeline(name: str, spec: Any) -> Pipeline:
    if not NAME.fullmatch(name):
        raise ConfigError("a name has 1-64 letters, digits, '.', '_' or '-'")
    if not isinstance(spec, dict):
        raise ConfigError("must be a table with at least 'command'")
    unknown = set(spec) - KEYS
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(KEYS))}"
        )
    command = spec.get("command")
    if isinstance(command, str):
        if not command.strip():
            raise ConfigError("'command' is empty")
    elif not (
        isinstance(command, list) and command and all(isinstance(a, str) and a for a in command)
    ):
        raise ConfigError("'command' must be a string or a non-empty list of strings")
    cwd = spec.get("cwd", "")
    env = spec.get("env", {})
    if not isinstance(cwd, str):
        raise ConfigError("'cwd' must be a string (a folder relative to the served root)")
    if not isinstance(env, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    ):
        raise ConfigError("'env' must be a table of strings")
    timeout, debounce = spec.get("timeout", DEFAULT_TIMEOUT), spec.get("debounce", 1.0)
    for key, value, low, high in (
        ("timeout", timeout, 0.1, 7 * 24 * 3600.0),
        ("debounce", debounce, 0.0, 3600.0),
    ):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise ConfigError(f"'{key}' must be a number of seconds from {low} to {high:g}")
    watch = spec.get("watch", [])
    if isinstance(watch, str):
        watch = [watch]
    if not isinstance(watch, list) or not all(isinstance(g, str) and g for g in watch):
        raise ConfigError("'watch' must be a glob or a list of globs")
    description = spec.get("description", "")
    if not isinstance(description, str):
        raise ConfigError("'description' must be a string")
    return Pipeline(
        name, command, cwd, dict(env), float(timeout), list(watch), float(debounce), description
    )


def _line_of(text: str, pattern: str) -> int | None:
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(pattern, line):
            return number
    return None


def glob_matcher(globs: list[str]) -> re.Pattern[str]:
    """One regex for root-relative globs: `*` stays in a folder, `**/` crosses folders."""
    parts = []
    for glob in globs:
        out, i = [], 0
        while i < len(glob):
            if glob.startswith("**/", i):
                out.append("(?:.*/)?")
                i += 3
            elif glob.startswith("**", i):
                out.append(".*")
                i += 2
            elif glob[i] == "*":
                out.append("[^/]*")
                i += 1
            elif glob[i] == "?":
                out.append("[^/]")
                i += 1
            else:
                out.append(re.escape(glob[i]))
                i += 1
        parts.append("".join(out))
    return re.compile("(?:" + "|".join(parts) + r")\Z") if parts else re.compile(r"(?!)")
