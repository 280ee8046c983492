"""The languages of files by name: the ones the chunker parses with a tree-sitter grammar,
by suffix (EXTENSIONS), and the others it knows (chunked as text).

The coordinator needs the same list (a file in one of these is source code, allowed a larger
size, `index_max_source_bytes`) without importing the sidecar: so it lives here, pure data.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

EXTENSIONS = {
    ".py": "python",
    ".pyi": "python",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hh": "cpp",
    ".hpp": "cpp",
    ".hxx": "cpp",
    ".f": "fortran",
    ".for": "fortran",
    ".f77": "fortran",
    ".f90": "fortran",
    ".f95": "fortran",
    ".f03": "fortran",
    ".f08": "fortran",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".md": "markdown",
    ".markdown": "markdown",
}

# the other languages a file may be in (no grammar: chunked as text), and some by name
OTHER_LANGUAGES = {
    ".txt": "text",
    ".rst": "rst",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".ini": "ini",
    ".cfg": "ini",
    ".sh": "shell",
    ".bash": "shell",
    ".java": "java",
    ".go": "go",
    ".rs": "rust",
    ".m": "matlab",
    ".ada": "ada",
    ".adb": "ada",
    ".ads": "ada",
    ".cmake": "cmake",
    ".mk": "make",
    ".sql": "sql",
    ".xml": "xml",
    ".html": "html",
    ".css": "css",
    ".ipynb": "notebook",
    ".tex": "latex",
    ".r": "r",
}
FILENAMES = {"makefile": "make", "cmakelists.txt": "cmake", "dockerfile": "docker"}


# what only C++ says, to tell a C++ header (`.h` is both languages' suffix) from a C one; an
# `extern "C"` block guarded by `__cplusplus` is C
_CPP_SIGNS = re.compile(
    r"^[ \t]*(namespace[ \t]+\w+[ \t]*\{|template[ \t]*<|(public|private|protected)[ \t]*:"
    r"|class[ \t]+\w+[ \t]*(final[ \t]*)?[:{]|using[ \t]+namespace\b)|\bstd::",
    re.MULTILINE,
)


def language_of(path: str, text: str | None = None) -> str:
    """The language by the file's name; for a `.h` file with its `text`, C++ when the text says
    so (a C++ header parsed as C is mostly ERROR nodes: its definitions go unnamed)."""
    name = PurePosixPath(path).name.lower()
    suffix = PurePosixPath(name).suffix
    if suffix == ".h" and text is not None and _CPP_SIGNS.search(text, 0, 200_000):
        return "cpp"
    return EXTENSIONS.get(suffix) or OTHER_LANGUAGES.get(suffix) or FILENAMES.get(name) or "text"
