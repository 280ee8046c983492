"""Split source files into chunks that are worth embedding: definitions, not windows.

tree-sitter parses each supported language (grammars come from per-language wheels; nothing is
downloaded). Every definition (function, method, class, struct, module, section, ...) becomes a
chunk carrying its symbol, kind, language and 1-based inclusive line range; the lines of a
container that are not inside a nested definition (a class's fields, a module's header) form
the container's own chunk; code outside any definition forms `module` chunks. Anything longer
than the budget is split into overlapping windows. Files in other languages, or that a grammar
cannot parse, go through the line/paragraph fallback.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import PurePosixPath
from typing import Any

_FOOTER = re.compile(r"\s*[}\]);,]*\s*(end\b[\w\s]*)?\s*(//.*|!.*|#.*)?", re.IGNORECASE)
MAX_LINES = 40  # ~256 tokens of code: what all-MiniLM-L6-v2 reads before it truncates
MAX_CHARS = 1200
OVERLAP = 5


@dataclass
class Chunk:
    path: str
    language: str
    kind: str
    symbol: str
    start_line: int  # 1-based, inclusive
    end_line: int  # 1-based, inclusive
    text: str

    def embedding_text(self) -> str:
        """What the model reads: the chunk with its path and symbol, so both are searchable."""
        label = f"{self.kind} {self.symbol}".strip() if self.symbol else self.kind
        return f"{self.path} · {label}\n{self.text}"


# -- languages -----------------------------------------------------------------------------
EXTENSIONS = {
    ".py": "python", ".pyi": "python",
    ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hh": "cpp", ".hpp": "cpp", ".hxx": "cpp",
    ".f": "fortran", ".for": "fortran", ".f77": "fortran", ".f90": "fortran",
    ".f95": "fortran", ".f03": "fortran", ".f08": "fortran",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".md": "markdown", ".markdown": "markdown",
}
# Other text files still get a language name (for filters) and the fallback chunker.
OTHER_LANGUAGES = {
    ".txt": "text", ".rst": "rst", ".json": "json", ".yaml": "yaml", ".yml": "yaml",
    ".toml": "toml", ".ini": "ini", ".cfg": "ini", ".sh": "shell", ".bash": "shell",
    ".java": "java", ".go": "go", ".rs": "rust", ".m": "matlab", ".ada": "ada", ".adb": "ada",
    ".ads": "ada", ".cmake": "cmake", ".mk": "make", ".sql": "sql", ".xml": "xml",
    ".html": "html", ".css": "css", ".ipynb": "notebook", ".tex": "latex", ".r": "r",
}
FILENAMES = {"makefile": "make", "cmakelists.txt": "cmake", "dockerfile": "docker"}

_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "fortran": ("tree_sitter_fortran", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "markdown": ("tree_sitter_markdown", "language"),
}


def language_of(path: str) -> str:
    name = PurePosixPath(path).name.lower()
    suffix = PurePosixPath(name).suffix
    return (EXTENSIONS.get(suffix) or OTHER_LANGUAGES.get(suffix) or FILENAMES.get(name)
            or "text")


@cache
def _parser(language: str) -> Any | None:
    grammar = _GRAMMARS.get(language)
    if grammar is None:
        return None
    import tree_sitter

    try:
        module = importlib.import_module(grammar[0])
    except ImportError:
        return None
    return tree_sitter.Parser(tree_sitter.Language(getattr(module, grammar[1])()))


# -- symbol names ----------------------------------------------------------------------------
def _text(node: Any) -> str:
    return node.text.decode("utf-8", errors="replace") if node is not None else ""


def _field_name(node: Any) -> str | None:
    name = node.child_by_field_name("name")
    return _text(name) if name is not None else None


def _declarator_name(node: Any) -> str | None:
    """C/C++: follow `declarator` fields down to the identifier (through pointers, etc.)."""
    current = node.child_by_field_name("declarator")
    while current is not None:
        if current.type in ("identifier", "field_identifier", "qualified_identifier",
                            "destructor_name", "operator_name", "type_identifier"):
            return _text(current)
        current = current.child_by_field_name("declarator")
    return None


def _fortran_name(node: Any) -> str | None:
    for child in node.named_children:
        if child.type.endswith("_statement"):
            for part in child.named_children:
                if part.type == "name":
                    return _text(part)
            return None
    return None


def _markdown_heading(node: Any) -> str | None:
    for child in node.named_children:
        if child.type in ("atx_heading", "setext_heading"):
            for part in child.named_children:
                if part.type in ("inline", "paragraph"):
                    return _text(part).strip()
    return None


def _python_decorated(node: Any) -> tuple[str, str | None]:
    inner = node.child_by_field_name("definition")
    kind = "class" if inner is not None and inner.type == "class_definition" else "function"
    return kind, _field_name(inner) if inner is not None else None


@dataclass(frozen=True)
class Spec:
    defs: dict[str, str]  # node type -> kind
    name: Callable[[Any], str | None] = _field_name
    classes: frozenset[str] = frozenset()  # kinds whose function children are methods
    # node types that count as a definition only when this says so (JS `const f = () => ...`)
    conditional: dict[str, Callable[[Any], bool]] = field(default_factory=dict)


_FUNCTION_VALUES = ("arrow_function", "function_expression", "function", "generator_function")
_JS = Spec(
    defs={"function_declaration": "function", "generator_function_declaration": "function",
          "class_declaration": "class", "abstract_class_declaration": "class",
          "method_definition": "function", "interface_declaration": "interface",
          "type_alias_declaration": "type", "enum_declaration": "enum",
          "variable_declarator": "function", "module": "namespace",
          "internal_module": "namespace"},
    classes=frozenset({"class"}),
    conditional={"variable_declarator": lambda n: (n.child_by_field_name("value") is not None
                                                   and n.child_by_field_name("value").type
                                                   in _FUNCTION_VALUES)},
)
_C_LIKE_DEFS = {"function_definition": "function", "struct_specifier": "struct",
                "union_specifier": "union", "enum_specifier": "enum"}


def _has_body(node: Any) -> bool:
    """`struct s {...}` defines; `struct s *p` in a parameter only names it."""
    return node.child_by_field_name("body") is not None


_C_LIKE_CONDITIONS = {"struct_specifier": _has_body, "union_specifier": _has_body,
                      "enum_specifier": _has_body, "class_specifier": _has_body}
SPECS: dict[str, Spec] = {
    "python": Spec(defs={"function_definition": "function", "class_definition": "class",
                         "decorated_definition": "decorated"},
                   classes=frozenset({"class"})),
    "c": Spec(defs=_C_LIKE_DEFS, name=lambda n: _field_name(n) or _declarator_name(n),
              conditional=_C_LIKE_CONDITIONS),
    "cpp": Spec(defs={**_C_LIKE_DEFS, "class_specifier": "class",
                      "namespace_definition": "namespace"},
                name=lambda n: _field_name(n) or _declarator_name(n),
                classes=frozenset({"class", "struct"}), conditional=_C_LIKE_CONDITIONS),
    "fortran": Spec(defs={"program": "program", "module": "module", "submodule": "module",
                          "subroutine": "subroutine", "function": "function",
                          "module_procedure": "procedure", "derived_type_definition": "type",
                          "interface": "interface"},
                    name=_fortran_name),
    "javascript": _JS,
    "typescript": _JS,
    "tsx": _JS,
    "markdown": Spec(defs={"section": "section"}, name=_markdown_heading),
}


# -- the definition tree ---------------------------------------------------------------------
@dataclass
class _Def:
    node: Any
    kind: str
    symbol: str
    children: list[_Def]

    @property
    def start(self) -> int:
        return self.node.start_point.row

    @property
    def end(self) -> int:  # exclusive row
        end = self.node.end_point
        return end.row + 1 if end.column > 0 or end.row == self.start else end.row


def _collect(root: Any, spec: Spec) -> list[_Def]:
    """The definitions under `root`, nested as in the source (iterative: deep expression
    trees, such as minified code, would overflow Python's recursion limit)."""
    top: list[_Def] = []
    stack: list[tuple[Any, _Def | None, list[_Def]]] = [
        (child, None, top) for child in reversed(root.named_children)]
    while stack:
        child, parent, out = stack.pop()
        kind = spec.defs.get(child.type)
        if kind is not None and child.type in spec.conditional \
                and not spec.conditional[child.type](child):
            kind = None
        if kind is None:
            stack.extend((grand, parent, out) for grand in reversed(child.named_children))
            continue
        body = child
        if kind == "decorated":  # the decorators belong to the definition's chunk
            kind, name = _python_decorated(child)
            body = child.child_by_field_name("definition") or child
        else:
            name = spec.name(child)
        if kind in ("function", "procedure") and parent is not None \
                and parent.kind in spec.classes:
            kind = "method"
        if parent is not None and name and parent.symbol and parent.kind != "section":
            symbol = f"{parent.symbol}.{name}"
        else:
            symbol = name or ""
        definition = _Def(child, kind, symbol, [])
        out.append(definition)
        stack.extend((grand, definition, definition.children)
                     for grand in reversed(body.named_children))
    return top


# -- chunking --------------------------------------------------------------------------------
def parse(text: str, language: str) -> Any | None:
    """The tree-sitter tree of `text`, or None: no grammar, a grammar failure, or a parse that
    is mostly errors (wrong dialect, not really this language)."""
    parser = _parser(language)
    if parser is None:
        return None
    try:
        tree = parser.parse(text.encode("utf-8"))
    except Exception:  # noqa: BLE001 - a grammar failure must not lose the file
        return None
    return None if _mostly_errors(tree.root_node, text.count("\n") + 1) else tree


def chunk_file(path: str, text: str, language: str | None = None,
               tree: Any = None) -> list[Chunk]:
    """Chunks of one file (an empty list for an empty or whitespace-only file). `tree`: the
    file's `parse()` when the caller has it already."""
    language = language or language_of(path)
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        return []
    tree = tree if tree is not None else parse(text, language)
    if tree is not None:
        defs = _collect(tree.root_node, SPECS[language])
        return list(_chunks_of(path, language, lines, defs))
    return list(fallback_chunks(path, language, lines))


def _mostly_errors(root: Any, line_count: int) -> bool:
    """A parse that is mostly ERROR nodes (wrong dialect, not really this language)."""
    if not root.has_error:
        return False
    bad = sum(c.end_point.row - c.start_point.row + 1 for c in root.children
              if c.type == "ERROR")
    return bad > line_count / 2


def _chunks_of(path: str, language: str, lines: list[str], defs: list[_Def]) -> Iterator[Chunk]:
    # Module-level code: the lines outside every top-level definition.
    yield from _runs(path, language, "module", "", lines, 0, len(lines), defs)
    for definition in defs:
        yield from _def_chunks(path, language, lines, definition)


def _def_chunks(path: str, language: str, lines: list[str], d: _Def) -> Iterator[Chunk]:
    yield from _runs(path, language, d.kind, d.symbol, lines, d.start, d.end, d.children,
                     keep_footers=False)
    for child in d.children:
        yield from _def_chunks(path, language, lines, child)


def _runs(path: str, language: str, kind: str, symbol: str, lines: list[str], start: int,
          end: int, holes: list[_Def], keep_footers: bool = True) -> Iterator[Chunk]:
    """Chunks for rows [start, end) minus the rows of nested definitions (`holes`).

    A container's short runs after its header (`}`, `end module orbit`) are not worth a
    chunk of their own unless `keep_footers`.
    """
    covered = set()
    for hole in holes:
        covered.update(range(max(hole.start, start), min(hole.end, end)))
    run: list[int] = []
    first = True
    for row in range(start, end + 1):
        if row < end and row not in covered:
            run.append(row)
            continue
        content = [lines[r] for r in run if lines[r].strip()]
        if content and (first or keep_footers
                        or not all(_FOOTER.fullmatch(line) for line in content)):
            yield from _windows(path, language, kind, symbol, lines, run[0], run[-1] + 1)
        if run:
            first = False
        run = []


def _windows(path: str, language: str, kind: str, symbol: str, lines: list[str], start: int,
             end: int) -> Iterator[Chunk]:
    """Rows [start, end) as one chunk, or as overlapping windows if over the budget."""
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    if start >= end:
        return
    first = start
    while first < end:
        last = first
        size = 0
        while last < end and last - first < MAX_LINES and (size + len(lines[last]) <= MAX_CHARS
                                                            or last == first):
            size += len(lines[last]) + 1
            last += 1
        text = "\n".join(lines[first:last])
        if len(text) > MAX_CHARS * 2:  # one enormous line (minified code, data)
            text = text[: MAX_CHARS * 2]
        yield Chunk(path, language, kind, symbol, first + 1, last, text)
        if last >= end:
            return
        first = max(last - OVERLAP, first + 1)


def fallback_chunks(path: str, language: str, lines: list[str]) -> Iterator[Chunk]:
    """Paragraphs (blank-line separated) packed into chunks within the budget."""
    kind = "section" if language in ("markdown", "rst", "text") else "block"
    block_start: int | None = None
    size = 0
    row = 0
    for row, line in enumerate(lines):
        if block_start is None:
            if line.strip():
                block_start, size = row, 0
            else:
                continue
        size += len(line) + 1
        ends_paragraph = not line.strip()
        if (ends_paragraph and (size >= MAX_CHARS // 2 or row - block_start >= MAX_LINES // 2)) \
                or size >= MAX_CHARS or row - block_start + 1 >= MAX_LINES:
            yield from _windows(path, language, kind, "", lines, block_start, row + 1)
            block_start = None
    if block_start is not None:
        yield from _windows(path, language, kind, "", lines, block_start, row + 1)
