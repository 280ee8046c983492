"""The catalog's start-up scan on real trees, and its agreement with the watcher's rules."""

from __future__ import annotations

import os
import random
import stat
from pathlib import Path

import pathspec
import pytest

from jupyter_workspace.server.catalog import Observed, read_text, scan
from jupyter_workspace.server.ignore import (
    ALWAYS_SKIPPED,
    DEFAULT_SECRET_PATTERNS,
    IgnoreRules,
    _any_of,
)

MB = 1024 * 1024


def write(root: Path, rel: str, text: str = "x\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def rules_for(root: Path, allow_hidden: bool = True) -> IgnoreRules:
    """Hidden files allowed unless asked: most tests here are about .gitignore semantics."""
    return IgnoreRules(root, root / ".jupyter-workspace", allow_hidden=allow_hidden)


def scanned(root: Path, max_bytes: int = MB, allow_hidden: bool = True) -> set[str]:
    return set(scan(root, rules_for(root, allow_hidden), max_bytes))


def walked(root: Path, rules: IgnoreRules, max_bytes: int) -> dict[str, Observed]:
    """What scan must return: os.walk pruned and filtered by `IgnoreRules.ignored` (the
    watcher's per-path answer), plus scan's own rules for symlinks, non-regular files, size."""
    root = root.resolve()
    seen: dict[str, Observed] = {}
    for directory, dirnames, filenames in os.walk(root):
        rel_dir = Path(directory).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = [d for d in dirnames if not rules.ignored(rel_dir + d)]
        for name in filenames:
            rel = rel_dir + name
            full = Path(directory, name)
            if rules.ignored(rel):
                continue
            try:
                if full.is_symlink():
                    target = full.resolve()
                    if not target.is_relative_to(root) or rules.ignored(
                        target.relative_to(root).as_posix()
                    ):
                        continue
                st = full.stat()
            except (OSError, RuntimeError):
                continue
            if stat.S_ISREG(st.st_mode):
                skip = (
                    f"larger than the {max_bytes // MB} MB limit"
                    if st.st_size > max_bytes
                    else None
                )
                seen[rel] = Observed(rel, st.st_size, st.st_mtime, skip)
    return seen


# -- semantics ---------------------------------------------------------------------------------


def test_nested_gitignore_and_negation(tmp_path):
    write(tmp_path, ".gitignore", "*.log\n!keep.log\n")
    for rel in (
        "run.log",
        "keep.log",
        "secret.txt",
        "local.txt",
        "sub/run.log",
        "sub/keep.log",
        "sub/secret.txt",
        "sub/local.txt",
        "sub/deeper/secret.txt",
        "sub/deeper/local.txt",
        "other/secret.txt",
    ):
        write(tmp_path, rel)
    # patterns are relative to the directory holding the .gitignore
    write(tmp_path, "sub/.gitignore", "secret.txt\n/local.txt\n")
    assert scanned(tmp_path) == {
        ".gitignore",
        "keep.log",
        "secret.txt",
        "local.txt",
        "sub/.gitignore",
        "sub/keep.log",
        "sub/deeper/local.txt",
        "other/secret.txt",
    }


def test_directory_pattern(tmp_path):
    write(tmp_path, ".gitignore", "build/\n!build/keep.o\n")
    write(tmp_path, "build/out.o")
    write(tmp_path, "build/keep.o")  # as in git: nothing inside an ignored directory comes back
    write(tmp_path, "build/deep/er/out.o")
    write(tmp_path, "src/build/gen.c")
    write(tmp_path, "src/main.c")
    write(tmp_path, "docs/build")  # a file named build: "build/" matches directories only
    assert scanned(tmp_path) == {".gitignore", "src/main.c", "docs/build"}
    rules = rules_for(tmp_path)
    assert rules.ignored("build/out.o") and rules.ignored("src/build/gen.c")
    assert not rules.ignored("docs/build")


def test_an_ignored_directory_is_not_looked_into(tmp_path):
    # "!a/**" matches what "a" holds but not "a": as in git, "a" stays ignored and so does
    # everything in it, though "a/x.py" alone would not be ignored
    write(tmp_path, ".gitignore", "*\n!a/**\n")
    write(tmp_path, "a/x.py")
    write(tmp_path, "b.txt")
    assert scanned(tmp_path) == set()
    rules = rules_for(tmp_path)
    assert rules.ignored("a") and not rules.ignored("a/x.py")  # scan does not look into "a"


def test_always_skipped_and_state_dir(tmp_path):
    for name in sorted(ALWAYS_SKIPPED):
        write(tmp_path, f"{name}/file.txt")
        write(tmp_path, f"pkg/{name}/file.txt")
    write(tmp_path, ".jupyter-workspace/workspace.sqlite")
    write(tmp_path, "pkg/.jupyter-workspace/not-the-state-dir.txt")
    write(tmp_path, "pkg/mod.py")
    assert scanned(tmp_path) == {"pkg/mod.py", "pkg/.jupyter-workspace/not-the-state-dir.txt"}
    rules = rules_for(tmp_path)
    assert rules.ignored(".jupyter-workspace") and rules.ignored(".jupyter-workspace/x")
    assert rules.ignored("pkg/node_modules/x/index.js")


def test_state_dir_elsewhere_in_the_tree(tmp_path):
    write(tmp_path, "var/state/db.sqlite")
    write(tmp_path, "var/statements.txt")
    seen = scan(tmp_path, IgnoreRules(tmp_path, tmp_path / "var" / "state"), MB)
    assert set(seen) == {"var/statements.txt"}


def test_symlinks(tmp_path):
    root = tmp_path / "root"
    outside = write(tmp_path, "outside/secret.txt", "outside\n")
    write(root, "real.txt", "twelve bytes")
    write(root, "sub/inner.txt")
    (root / "alias.txt").symlink_to(root / "real.txt")  # inside the root: counted
    (root / "escape.txt").symlink_to(outside)  # outside the root: not counted
    (root / "outdir").symlink_to(outside.parent, target_is_directory=True)
    (root / "sub" / "up").symlink_to(root, target_is_directory=True)  # a loop: not followed
    (root / "sub" / "same").symlink_to(root / "sub", target_is_directory=True)
    (root / "self").symlink_to(root / "self")  # a symlink loop on a file name
    (root / "dangling").symlink_to(root / "missing")
    seen = scan(root, rules_for(root), MB)
    assert set(seen) == {"real.txt", "alias.txt", "sub/inner.txt"}
    assert seen["alias.txt"].size == 12  # the target's size


SECRETS = [
    ".env",
    ".env.local",
    "app/.env.production",
    ".ssh/id_rsa",
    ".ssh/config",
    ".aws/credentials",
    ".netrc",
    "certs/server.pem",
    "certs/server.key",
    "deploy/id_ed25519",
    "config/gcp-credentials.json",
    "keys/client.p12",
    ".docker/config.json",
    "infra/terraform.tfstate",
]


def test_hidden_and_secret_files_are_skipped(tmp_path):
    """As Jupyter's contents API hides them: the index may ground a remote LLM."""
    for rel in [
        *SECRETS,
        ".hidden/notes.md",
        ".github/ci.yml",
        "src/.cache.py",
        "src/main.py",
        "src/id_map.c",
        "docs/keys.md",
    ]:
        write(tmp_path, rel)
    assert scanned(tmp_path, allow_hidden=False) == {"src/main.py", "src/id_map.c", "docs/keys.md"}
    rules = rules_for(tmp_path, allow_hidden=False)
    assert all(rules.ignored(rel) for rel in SECRETS)
    assert rules.ignored(".hidden") and rules.ignored("src/.cache.py")


def test_allow_hidden_lets_hidden_files_in_but_never_secrets(tmp_path):
    for rel in [*SECRETS, ".hidden/notes.md", ".github/ci.yml", "src/main.py"]:
        write(tmp_path, rel)
    assert scanned(tmp_path, allow_hidden=True) == {
        ".hidden/notes.md",
        ".github/ci.yml",
        "src/main.py",
    }
    custom = IgnoreRules(
        tmp_path, tmp_path / ".jupyter-workspace", allow_hidden=True, secret_patterns=["*.md"]
    )  # the deny-list is configurable
    assert set(scan(tmp_path, custom, MB)) >= {".env", ".github/ci.yml", "src/main.py"}
    assert ".hidden/notes.md" not in scan(tmp_path, custom, MB)


@pytest.mark.parametrize(
    "patterns",
    [list(DEFAULT_SECRET_PATTERNS), ["*.md", "!keep.md"], ["/top.txt", "a/**/b", "build/"], []],
)
def test_secret_patterns_match_as_gitignore_does(patterns):
    """One regex stands in for pathspec's pattern-by-pattern loop: same answers."""
    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    matches = _any_of(patterns)
    rng = random.Random(1)
    names = [
        "a",
        "b",
        ".env",
        ".envrc",
        "x.pem",
        "id_rsa.pub",
        "id_map.c",
        "my-credentials.json",
        ".ssh",
        "config.json",
        ".docker",
        ".kube",
        "config",
        "top.txt",
        "keep.md",
        "n.md",
        "build",
        "x.tfstate.1",
        "key.py",
    ]
    paths = [
        "/".join(rng.choice(names) for _ in range(rng.randint(1, 4))) + rng.choice(["", "/"])
        for _ in range(3000)
    ]
    assert [p for p in paths if matches(p) != spec.match_file(p)] == []


def test_a_read_is_confined_to_the_root_and_the_rules(tmp_path):
    """Checked when the file is read, not only at scan: a link can appear in between."""
    root = tmp_path / "root"
    outside = write(tmp_path, "outside/secret.txt", "outside\n")
    write(root, "real.txt", "inside\n")
    write(root, ".env", "KEY=1\n")
    write(root, "node_modules/pkg/index.js", "module\n")
    (root / "alias.txt").symlink_to(root / "real.txt")
    (root / "escape.txt").symlink_to(outside)
    (root / "env.txt").symlink_to(root / ".env")  # a harmless name for a secret
    (root / "vendored.js").symlink_to(root / "node_modules" / "pkg" / "index.js")
    (root / "outdir").symlink_to(outside.parent, target_is_directory=True)
    os.mkfifo(root / "pipe")
    rules = rules_for(root, allow_hidden=False)
    assert read_text(root, "alias.txt", MB, rules).text == "inside\n"
    for rel in [
        "escape.txt",
        "env.txt",
        "vendored.js",
        "outdir/secret.txt",
        ".env",
        "../outside/secret.txt",
        "pipe",
        "missing.txt",
    ]:
        content = read_text(root, rel, MB, rules)
        assert content.text is None and content.skip.startswith("cannot read"), rel
    assert set(scan(root, rules, MB)) == {"real.txt", "alias.txt"}


def test_oversize_and_non_regular_files(tmp_path):
    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        f.truncate(MB + 1)
    write(tmp_path, "small.txt", "hello")
    os.mkfifo(tmp_path / "pipe")
    seen = scan(tmp_path, rules_for(tmp_path), MB)
    assert set(seen) == {"big.bin", "small.txt"}
    assert seen["big.bin"].skip == "larger than the 1 MB limit"
    assert seen["big.bin"].size == MB + 1
    info = (tmp_path / "small.txt").stat()
    assert seen["small.txt"] == Observed("small.txt", 5, info.st_mtime, None)


def test_source_files_get_a_larger_limit_than_other_text(tmp_path):
    """An amalgamated C library (zstd.c is 2.2 MB) is code to search; a log that size is not."""
    from jupyter_workspace.server.catalog import SizeLimit

    body = "int f(void) { return 0; }\n" * (3 * MB // 26)
    write(tmp_path, "vendor/zstd.c", body)
    write(tmp_path, "vendor/Zstd.H", body)
    write(tmp_path, "logs/run.log", body)
    write(tmp_path, "vendor/huge.c", body * 2)
    limit = SizeLimit(text=2 * MB, source=4 * MB)
    seen = scan(tmp_path, rules_for(tmp_path), limit)
    assert seen["vendor/zstd.c"].skip is None and seen["vendor/Zstd.H"].skip is None
    assert seen["logs/run.log"].skip == "larger than the 2 MB limit"
    assert seen["vendor/huge.c"].skip == "larger than the 4 MB limit"
    assert read_text(tmp_path, "vendor/zstd.c", limit).text == body
    assert read_text(tmp_path, "logs/run.log", limit).skip == "larger than the 2 MB limit"
    assert read_text(tmp_path, "vendor/huge.c", limit).skip == "larger than the 4 MB limit"


def test_unreadable_directory_is_passed_over(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads every directory")
    write(tmp_path, "closed/a.txt")
    write(tmp_path, "open/b.txt")
    (tmp_path / "closed").chmod(0)
    try:
        assert scanned(tmp_path) == {"open/b.txt"}
    finally:
        (tmp_path / "closed").chmod(0o755)


# -- scan and the watcher's rules agree ----------------------------------------------------------

DIR_NAMES = ["a", "b", "build", "logs", "keep", "node_modules", ".git", "__pycache__", "deep"]
FILE_NAMES = ["x.py", "y.log", "keep.log", "secret.txt", "build", "notes.md", "a", "b.txt"]
PATTERNS = [  # a .gitignore is 1-3 of these groups; some only make sense together
    ("*.log", "!keep.log"),
    ("build/",),
    ("build/", "!build/x.py"),
    ("/x.py",),
    ("secret.*",),
    ("logs",),
    ("a/**/y.log",),
    ("**/b",),
    ("b/",),
    ("*", "!*/"),
    ("*", "!a/**"),
    ("*", "!*.py"),
    ("a", "!a/"),
    ("deep/",),
    ("/a",),
    ("keep/*.md",),
    ("*.txt", "!b.txt"),
    ("**/deep/x.py",),
    ("# a comment", ""),
    ("*.md", "!notes.md"),
    ("x.py/",),
    ("a/b/",),
    ("!a",),
    ("deep/*",),
]


def random_tree(root: Path, rng: random.Random) -> None:
    root.mkdir()
    dirs = [root]
    for _ in range(rng.randint(3, 14)):
        parent = rng.choice(dirs)
        if len(parent.relative_to(root).parts) < 4:
            child = parent / rng.choice(DIR_NAMES)
            child.mkdir(exist_ok=True)
            dirs.append(child)
    for directory in dirs:
        for name in rng.sample(FILE_NAMES, rng.randint(0, 5)):
            if not (directory / name).exists():
                (directory / name).write_text(name * rng.randint(1, 40))
        if rng.random() < 0.5:
            lines = [line for group in rng.sample(PATTERNS, rng.randint(1, 3)) for line in group]
            (directory / ".gitignore").write_text("\n".join(lines) + "\n")
    for _ in range(rng.randint(0, 3)):  # symlinks: to files, to directories, to nowhere
        here = rng.choice(dirs)
        target = rng.choice([*dirs, *(d / n for d in dirs for n in FILE_NAMES)])
        link = here / f"link{rng.randint(0, 99)}"
        if not link.exists() and not link.is_symlink():
            link.symlink_to(target)
    if rng.random() < 0.3:
        (root / ".jupyter-workspace").mkdir()
        (root / ".jupyter-workspace" / "workspace.sqlite").write_text("db")


@pytest.mark.parametrize("seed", range(60))
def test_scan_agrees_with_the_watchers_rules(tmp_path, seed):
    root = tmp_path / "tree"
    random_tree(root, random.Random(seed))
    max_bytes = 40
    hidden = seed % 2 == 0
    expected = walked(root, rules_for(root, hidden), max_bytes)
    assert scan(root, rules_for(root, hidden), max_bytes) == expected
    # and with a rules object that already answered the watcher (its .gitignore cache warm)
    rules = rules_for(root, hidden)
    walked(root, rules, max_bytes)
    assert scan(root, rules, max_bytes) == expected


def test_an_edited_gitignore_is_read_again(tmp_path):
    write(tmp_path, "a.log")
    write(tmp_path, "b.txt")
    rules = rules_for(tmp_path)
    assert set(scan(tmp_path, rules, MB)) == {"a.log", "b.txt"}
    write(tmp_path, ".gitignore", "*.log\n")
    assert set(scan(tmp_path, rules, MB)) == {".gitignore", "b.txt"}
    assert rules.ignored("a.log")
